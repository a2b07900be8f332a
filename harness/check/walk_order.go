package check

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// The order rule (F1–F4, C1–C3): a walk's attempts against the list order it
// must follow, and which servers failed in it (loss faults on their links,
// or attempts a degrading fault spoiled: link and server evidence).

// orderCheck compares a walk's attributed attempts with an expected list
// order: each attempt must be on the next server of the list, skipping only
// servers whose link was down (refused: the servers cannot see those, so the
// skip rests on the link's record, and the attempt on the client's word).
// It returns the findings and how many servers were skipped as down.
func (v *walkView) orderCheck(w srvWalk, expected []string) (fails []string, skippedDown []string) {
	p := 0
	seen := map[string]bool{}
	for k, a := range inListOrderWithinSlack(w.Attempts, expected) {
		srv, t := a.Accept.Server, a.Accept.T
		if seen[srv] {
			fails = append(fails, fmt.Sprintf("%s attempt %d on %s at %s (%s) repeats a server already tried in this walk",
				w, k, srv, dur(t), a.evidence()))
			continue
		}
		seen[srv] = true
		q := slices.Index(expected[p:], srv)
		if q < 0 {
			want := "nothing more (the list was exhausted)"
			if p < len(expected) {
				want = expected[p]
			}
			fails = append(fails, fmt.Sprintf("%s attempt %d went to %s at %s (%s); list order expected %s (order %s)",
				w, k, srv, dur(t), a.evidence(), want, strings.Join(expected, " → ")))
			continue
		}
		for _, skipped := range expected[p : p+q] {
			if v.downAt(skipped, t) || v.downAt(skipped, w.From) {
				skippedDown = append(skippedDown, skipped)
				seen[skipped] = true
				continue
			}
			fails = append(fails, fmt.Sprintf("%s attempt %d went to %s at %s (%s), skipping %s, which the servers never saw tried and whose link was not down; list order %s",
				w, k, srv, dur(t), a.evidence(), skipped, strings.Join(expected, " → ")))
		}
		p += q + 1
	}
	return fails, skippedDown
}

// ---- failed servers -----------------------------------------------------

// A server fails a walk in one of two ways. A loss fault (cut, reset,
// blackhole, down) in force on its link at any time in the walk fails it,
// whether or not the walk reached it: the link took it away. A degrading
// fault (slow, throttle, slice, limit) takes nothing away; it fails a server
// only through an attempt it spoiled, so it counts only with that attempt
// as evidence: an attempt of the walk on the server, seen by its link or its
// server while the fault was in force, that the client gave up on. The
// client moved on (its next attempt, or the walk's close) no sooner than its
// connect timeout after the attempt began, or, under a verb that ends
// connections itself (limit), after the server recorded the attempt's
// close. A client that leaves a slow server before its connect timeout did
// not see it fail: the server stays unfailed, and passing it is judged.

// closesConns reports whether a degrading verb fails an attempt by closing
// it (limit) rather than by delaying its bytes past the connect timeout.
func closesConns(verb string) bool { return verb == VerbLimit }

// failure is why a server counts as failed in a walk.
type failure struct {
	Server  string
	Fault   faultSpan
	Attempt *attempt // the attempt a degrading fault spoiled (nil: a loss fault)
	How     string   // for a degrading fault, how the attempt failed
}

func (f failure) String() string {
	if f.Attempt == nil {
		return fmt.Sprintf("%s (%s)", f.Server, f.Fault.Verb)
	}
	return fmt.Sprintf("%s (%s: %s, %s)", f.Server, f.Fault.Verb, f.Attempt.evidence(), f.How)
}

func failureList(fs []failure) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return strings.Join(parts, ", ")
}

// gaveUpSlack is how far short of the connect timeout the gap between an
// attempt and the client's next move may fall and still show that the
// client waited the timeout out. Both ends are accepts stamped by a link (or
// a server) a little after the client dialled, the first possibly later than
// the second: the run's slack, and a tenth of the timeout for a loaded
// machine (a client that gives up in less did not wait for the server).
func (v *walkView) gaveUpSlack(ct time.Duration) time.Duration { return v.slack + ct/10 }

// movedOn is when the client gave up attempt k of walk w, as the evidence
// shows: its next attempt (link accept where recorded), or the walk's close
// when k was the last. ok is false when the client did not move on from it
// (the walk landed on it, or had not ended).
func (v *walkView) movedOn(w srvWalk, k int) (t time.Duration, what string, ok bool) {
	if k+1 < len(w.Attempts) {
		n := w.Attempts[k+1]
		return n.at(), "its next attempt (" + n.evidence() + ")", true
	}
	if w.End != nil && driver.IsClosed(w.End.To) {
		return w.End.T, "its " + w.End.To, true
	}
	return 0, "", false
}

// degradedFailure is server s's failure in walk w by a degrading fault: the
// first attempt of w on s that such a fault spoiled, if any.
func (v *walkView) degradedFailure(w srvWalk, s string) (failure, bool) {
	ct := v.connectTimeout()
	for k := range w.Attempts {
		a := w.Attempts[k]
		if a.Accept.Server != s {
			continue
		}
		moved, what, ok := v.movedOn(w, k)
		if !ok {
			continue
		}
		for _, f := range v.faults {
			if f.Link != s || isLossVerb(f.Verb) || f.began() > moved || (f.Off != nil && f.Off.T < a.at()) {
				continue
			}
			fl := failure{Server: s, Fault: f, Attempt: &a}
			switch gap := moved - a.at(); {
			case closesConns(f.Verb) && a.Close != nil && a.Close.T <= moved+v.slack:
				fl.How = fmt.Sprintf("closed by the server at %s before the client moved on", dur(a.Close.T))
			case gap >= ct-v.gaveUpSlack(ct):
				fl.How = fmt.Sprintf("given up %s later at %s, the connect timeout %s", dur(gap), what, dur(ct))
			default:
				continue
			}
			return fl, true
		}
	}
	return failure{}, false
}

// failedIn says whether server s failed during walk w, and how.
func (v *walkView) failedIn(w srvWalk, s string) (failure, bool) {
	if f, ok := v.lossFaultDuring(s, w.From, w.Until(v.view)); ok {
		return failure{Server: s, Fault: f}, true
	}
	return v.degradedFailure(w, s)
}

// undecidedIn says why it cannot be told whether server s failed in walk w
// ("" when it can): w's attempts are not attributable, so an attempt spoiled
// by a degrading fault cannot be told from one on a server that was fine.
func (v *walkView) undecidedIn(w srvWalk, s string) string {
	if w.Attributed {
		return ""
	}
	f, ok := v.degradedDuring(s, w.From, w.Until(v.view))
	if !ok {
		return ""
	}
	return fmt.Sprintf("whether %s failed in %s cannot be told: %s, and the walk's attempts are not attributable (%s)", s, w, f, w.Clash)
}

// firstUnfailed is the first server of order that did not fail in walk w
// ("" when all did), and the failures of those before it; undecided says
// why the first one that did not provably fail may have failed ("": none).
func (v *walkView) firstUnfailed(w srvWalk, order []string) (want string, passed []failure, undecided string) {
	for _, s := range order {
		f, ok := v.failedIn(w, s)
		if !ok {
			return s, passed, v.undecidedIn(w, s)
		}
		passed = append(passed, f)
	}
	return "", passed, ""
}

// unfailedIn lists the servers of order that did not fail in walk w, and
// why it cannot be told for others (undecidedIn).
func (v *walkView) unfailedIn(w srvWalk, order []string) (healthy, undecided []string) {
	for _, s := range order {
		if _, ok := v.failedIn(w, s); ok {
			continue
		}
		if u := v.undecidedIn(w, s); u != "" {
			undecided = append(undecided, u)
			continue
		}
		healthy = append(healthy, s)
	}
	return healthy, undecided
}

// ---- the order rule -----------------------------------------------------

// walkOrder is the order rule's judgement of one walk.
type walkOrder struct {
	Fails       []string
	SkippedDown []string  // servers passed with the link down (client-reported)
	Want        string    // landed: the server it had to land on ("": every one failed)
	Passed      []failure // the failed servers before Want
	Undecided   string    // why the landing could not be judged ("": it was)
}

// orderRule judges walk w against the list order it must follow: one rule
// for cascades and failovers, whether the walk landed or ran out of servers.
//   - its attempts go down the list, each server once, passing only servers
//     whose link was down (orderCheck);
//   - a walk that landed did so on the first server of the list that did
//     not fail in it (failedIn), and its last attempt was there;
//   - a walk that ran out of servers (CLOSED_FAILED) tried every server of
//     the list, one whose link was down counting as tried.
//
// The landing must have been verified (landing) first. Attempts are judged
// only when w is attributable; the landing, always.
func (v *walkView) orderRule(w srvWalk, expected []string) walkOrder {
	var o walkOrder
	order := strings.Join(expected, " → ")
	if w.Attributed {
		o.Fails, o.SkippedDown = v.orderCheck(w, expected)
	}
	switch {
	case w.Landed():
		o.Want, o.Passed, o.Undecided = v.firstUnfailed(w, expected)
		if o.Undecided != "" || o.Want == "" || w.End.Server == o.Want {
			break
		}
		why := ""
		if len(o.Passed) > 0 {
			why = ", past " + failureList(o.Passed)
		}
		o.Fails = append(o.Fails, fmt.Sprintf("%s landed on %s; in list order %s the first server that did not fail was %s%s",
			w, w.End.Server, order, o.Want, why))
	case w.End != nil && w.End.To == driver.ClosedFailed && w.Attributed:
		tried := map[string]bool{}
		for _, s := range append(w.servers(), o.SkippedDown...) {
			tried[s] = true
		}
		var untried []string
		for _, s := range expected {
			if !tried[s] && !v.downAt(s, w.End.T) {
				untried = append(untried, s)
			}
		}
		if len(untried) > 0 {
			o.Fails = append(o.Fails, fmt.Sprintf("%s %s with %s never tried (no server accept, link not down); list order %s",
				w, w.Ending(v.view), strings.Join(untried, ", "), order))
		}
	}
	if f := v.lastAttemptOff(w); f != "" {
		o.Fails = append(o.Fails, f)
	}
	return o
}

// lastAttemptOff is the finding when walk w landed on a server other than
// the one of its last attempt the servers saw ("" when it did not).
func (v *walkView) lastAttemptOff(w srvWalk) string {
	n := len(w.Attempts)
	if !w.Landed() || !w.Attributed || n == 0 || w.Attempts[n-1].Accept.Server == w.End.Server {
		return ""
	}
	a := w.Attempts[n-1]
	return fmt.Sprintf("%s landed on %s, but the last attempt the servers saw was on %s (%s at %s)", w, w.End.Server, a.Accept.Server, a.evidence(), dur(a.Accept.T))
}

// inListOrderWithinSlack orders attempts whose server accepts lie within
// stampSlack of each other by the expected list. A server stamps its accept
// when its accept goroutine runs, so two attempts made a millisecond apart
// through two links can be stamped by their servers in either order (seen:
// s2 accepted 2.2ms before s1 although the client tried s1 first): server
// evidence orders attempts only to within that slack. Two attempts whose
// links both recorded their accepts are in the client's order already and
// stay so.
func inListOrderWithinSlack(as []attempt, expected []string) []attempt {
	out := append([]attempt(nil), as...)
	rank := func(a attempt) int {
		if i := slices.Index(expected, a.Accept.Server); i >= 0 {
			return i
		}
		return len(expected)
	}
	for swapped := true; swapped; {
		swapped = false
		for i := 0; i+1 < len(out); i++ {
			linked := out[i].Link != nil && out[i+1].Link != nil
			if !linked && out[i+1].Accept.T-out[i].Accept.T < stampSlack && rank(out[i+1]) < rank(out[i]) {
				out[i], out[i+1] = out[i+1], out[i]
				swapped = true
			}
		}
	}
	return out
}

// degradedOnly are the failures by a degrading fault (those resting on a
// spoiled attempt), for notes.
func degradedOnly(fs []failure) []failure {
	var out []failure
	for _, f := range fs {
		if f.Attempt != nil {
			out = append(out, f)
		}
	}
	return out
}
