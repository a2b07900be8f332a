package check

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// Walks: a client's passes over the server list in search of a new session
// (F1–F4, C1–C3): the cascade of its first connection, and each failover. The
// attempts of a walk are the server accepts in its window, in the order of
// their links' accepts where recorded (link_accepts.go); they are
// attributed to the client only when no other client was looking for a
// server at the same time (with many clients, only the walk's outcome can be
// attributed, through its session id).

// walkSlack is how much earlier than the client's CONNECTING a failover's
// first attempt may be recorded: the engine dials as it reports, and the
// report travels through the driver before it is stamped.
const walkSlack = 50 * time.Millisecond

// Walk kinds.
const (
	walkCascade  = "cascade"
	walkFailover = "failover"
)

// srvWalk is one walk of one client.
type srvWalk struct {
	Client int
	Kind   string
	N      int           // 0-based among the client's walks of this kind
	Start  history.Event // cascade: the harness's connect op (or the first state); failover: the state into CONNECTING
	From   time.Duration // the window's start
	// Failover: the server and session given up, and the state left.
	Lost, LostSession string
	Left              string // CONNECTED_ACTIVE or RECOVERING_RECONNECT
	End               *history.Event
	Attempts          []attempt // accepts in the window: listed only when Attributed
	Attributed        bool      // the window's accepts are this client's alone
	Clash             string    // why they are not
}

func (w srvWalk) String() string {
	if w.Kind == walkCascade {
		return fmt.Sprintf("client %d cascade (connect at %s)", w.Client, dur(w.Start.T))
	}
	return fmt.Sprintf("client %d failover %d (from %s at %s)", w.Client, w.N, w.Lost, dur(w.Start.T))
}

// Until is when the walk ended (the end of the history if it did not).
func (w srvWalk) Until(v *view) time.Duration {
	if w.End != nil {
		return w.End.T
	}
	return v.end
}

// Landed reports whether the walk ended CONNECTED_ACTIVE.
func (w srvWalk) Landed() bool { return w.End != nil && w.End.To == driver.ConnectedActive }

// Ending describes how the walk ended.
func (w srvWalk) Ending(v *view) string {
	switch {
	case w.End == nil:
		return fmt.Sprintf("was still CONNECTING at the end, %s", dur(v.end))
	case w.Landed():
		return fmt.Sprintf("went CONNECTED_ACTIVE on %s (session %q) at %s", w.End.Server, w.End.Session, dur(w.End.T))
	default:
		return fmt.Sprintf("went %s%s at %s", w.End.To, reasonText(*w.End), dur(w.End.T))
	}
}

// servers are the servers of the walk's attempts, in order.
func (w srvWalk) servers() []string {
	out := make([]string, len(w.Attempts))
	for i, a := range w.Attempts {
		out[i] = a.Accept.Server
	}
	return out
}

// connectOps are the harness's connect ops per client.
func (v *view) connectOps() map[int][]history.Event {
	out := map[int][]history.Event{}
	for _, e := range v.h {
		if e.Source == history.SrcHarness && e.Kind == history.KindOp && e.Op == driver.OpConnect {
			out[e.Client] = append(out[e.Client], e)
		}
	}
	return out
}

// walks lists every client's walks, clients in order, each client's in time
// order, with their attempts and whether those can be attributed.
func (v *view) walks() []srvWalk {
	if v.walkCache != nil {
		return v.walkCache
	}
	ops := v.connectOps()
	var out []srvWalk
	for _, c := range v.clients {
		st := v.states[c]
		// The cascade: from the connect op to the first CONNECTED_ACTIVE or close.
		var start history.Event
		switch {
		case len(ops[c]) > 0:
			start = ops[c][0]
		case len(st) > 0:
			start = st[0]
		default:
			continue
		}
		w := srvWalk{Client: c, Kind: walkCascade, Start: start, From: start.T}
		for i := range st {
			if st[i].T >= start.T && (st[i].To == driver.ConnectedActive || driver.IsClosed(st[i].To)) {
				e := st[i]
				w.End = &e
				break
			}
		}
		out = append(out, w)
		// Failovers: every change into CONNECTING from a session.
		n := 0
		for i, e := range st {
			if e.To != driver.Connecting || (e.From != driver.ConnectedActive && e.From != driver.RecoveringReconnect) {
				continue
			}
			fw := srvWalk{Client: c, Kind: walkFailover, N: n, Start: e, Left: e.From, Lost: e.Server, LostSession: e.Session}
			n++
			if i > 0 {
				if fw.Lost == "" {
					fw.Lost = st[i-1].Server
				}
				if fw.LostSession == "" {
					fw.LostSession = st[i-1].Session
				}
			}
			fw.From = e.T - walkSlack
			if i > 0 && st[i-1].T > fw.From {
				fw.From = st[i-1].T
			}
			for j := i + 1; j < len(st); j++ {
				if st[j].To == driver.ConnectedActive || driver.IsClosed(st[j].To) {
					end := st[j]
					fw.End = &end
					break
				}
			}
			out = append(out, fw)
		}
	}
	busy := v.busyIntervals(out)
	for i := range out {
		w := &out[i]
		w.Attributed, w.Clash = true, ""
		upTo := v.walkReach(w)
		for _, b := range busy {
			if b.client != w.Client && b.from <= upTo && b.to >= w.From {
				w.Attributed = false
				w.Clash = fmt.Sprintf("client %d was %s from %s to %s", b.client, b.what, dur(b.from), dur(b.to))
				break
			}
		}
		if !w.Attributed {
			continue // the accepts are not this client's alone: none are listed
		}
		for _, a := range v.attempts(w.From, upTo) {
			// Before a failover from RECOVERING_RECONNECT, accepts on the lost
			// server are the recovery's own attempts.
			if w.Kind == walkFailover && w.Left == driver.RecoveringReconnect && a.Accept.T < w.Start.T && a.Accept.Server == w.Lost {
				continue
			}
			w.Attempts = append(w.Attempts, a)
		}
		byLinkOrder(w.Attempts)
	}
	v.walkCache = out
	return out
}

// walkReach is how late a server accept may be stamped and still belong to
// walk w. +lag: streamed server evidence (containers, external) may be
// stamped just after the client's claim of the landing it backs. A walk that
// ends closed may see its last accept after the close by up to the full
// slack: the link fails the client's side (reset, cut) once it has dialled
// the server, but the server stamps its accept only when its accept
// goroutine runs, so the two records of one attempt are not causally
// ordered. A landing is: its accept precedes the welcome the client awaits.
func (v *view) walkReach(w *srvWalk) time.Duration {
	if w.End != nil && driver.IsClosed(w.End.To) {
		return w.Until(v) + v.slack
	}
	return w.Until(v) + v.lag
}

// interval is a stretch of time in which a client may make attempts.
type interval struct {
	client   int
	from, to time.Duration
	what     string
}

// busyIntervals are the walks' windows and every RECOVERING_RECONNECT stay.
func (v *view) busyIntervals(ws []srvWalk) []interval {
	var out []interval
	for _, w := range ws {
		out = append(out, interval{w.Client, w.From, w.Until(v), "in a " + w.Kind})
	}
	for _, c := range v.clients {
		for _, o := range v.outages(c) {
			out = append(out, interval{c, o.Start.T, o.Until(v), "RECOVERING_RECONNECT"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].from < out[j].from })
	return out
}

// walksOf are the walks of one kind.
func (v *view) walksOf(kind string) []srvWalk {
	var out []srvWalk
	for _, w := range v.walks() {
		if w.Kind == kind {
			out = append(out, w)
		}
	}
	return out
}

// lossFaultDuring is a loss fault (cut, reset, blackhole, down) in force on
// link at some time in [from, to], if any.
func (v *view) lossFaultDuring(link string, from, to time.Duration) (faultSpan, bool) {
	for _, f := range v.faults {
		if f.Link == link && isLossVerb(f.Verb) && f.On.T <= to && (f.Off == nil || f.Off.T >= from) {
			return f, true
		}
	}
	return faultSpan{}, false
}

// downAt reports whether link was down (refusing: no server sees the
// attempt) at t.
func (v *view) downAt(link string, t time.Duration) bool { return v.faultInForce(link, VerbDown, t) }

// cascadeList is the order the first connection must follow: the client's
// servers with cascading on, else the first only.
func (v *view) cascadeList() []string {
	if v.sc.Client.Failover.Cascading {
		return slices.Clone(v.sc.Client.Servers)
	}
	return slices.Clone(v.sc.Client.Servers[:min(1, len(v.sc.Client.Servers))])
}

// failoverList is the list order of a failover from lost: the servers after
// it (wrapping round), then lost itself.
func (v *view) failoverList(lost string) []string {
	list := v.sc.Client.Servers
	i := slices.Index(list, lost)
	if i < 0 {
		return slices.Clone(list)
	}
	return append(append(slices.Clone(list[i+1:]), list[:i]...), lost)
}

// landing is the server-side evidence of where a walk landed: the session
// the client claims, created by the server it names.
type landing struct {
	Server, Session string
	Create          *history.Event // the server's session.create of that id
	Resume          *history.Event // a session.resume of that id instead (state carried over)
	Problem         string         // why the claim does not hold ("" when it does)
}

// landing checks a walk's CONNECTED_ACTIVE against the servers: the session
// id it names must have been created (not resumed) by the server it names.
func (v *view) landing(w srvWalk) landing {
	e := w.End
	l := landing{Server: e.Server, Session: e.Session}
	if e.Session == "" {
		l.Problem = fmt.Sprintf("client %d reported CONNECTED_ACTIVE on %s at %s without a session id", w.Client, e.Server, dur(e.T))
		return l
	}
	for _, s := range v.bySess[e.Session] {
		s := s
		switch {
		case s.Kind == history.KindSessionCreate && l.Create == nil:
			l.Create = &s
		case s.Kind == history.KindSessionResume && s.T >= w.From && s.T <= e.T+v.slack && l.Resume == nil:
			l.Resume = &s
		}
	}
	switch {
	case l.Resume != nil:
		l.Problem = fmt.Sprintf("client %d's new session %q on %s was a resume (server %s session.resume at %s), not a new session: state was carried over",
			w.Client, e.Session, e.Server, l.Resume.Server, dur(l.Resume.T))
	case l.Create == nil:
		l.Problem = fmt.Sprintf("client claims a session the servers never created: client %d reported CONNECTED_ACTIVE on %s (session %q) at %s, but no server recorded session.create of %q",
			w.Client, e.Server, e.Session, dur(e.T), e.Session)
	case l.Create.Server != e.Server:
		l.Problem = fmt.Sprintf("client %d reported CONNECTED_ACTIVE on %s (session %q) at %s, but that session was created by %s",
			w.Client, e.Server, e.Session, dur(e.T), l.Create.Server)
	case l.Create.T > e.T+v.slack:
		l.Problem = fmt.Sprintf("client %d reported CONNECTED_ACTIVE on %s (session %q) at %s, before the server created it at %s",
			w.Client, e.Server, e.Session, dur(e.T), dur(l.Create.T))
	case l.Create.T < w.From-v.slack:
		l.Problem = fmt.Sprintf("client %d's session %q on %s was created at %s, before the walk began at %s: not a new session",
			w.Client, e.Session, e.Server, dur(l.Create.T), dur(w.From))
	}
	return l
}

// orderCheck compares a walk's attributed attempts with an expected list
// order: each attempt must be on the next server of the list, skipping only
// servers whose link was down (refused: the servers cannot see those, so the
// skip rests on the link's record, and the attempt on the client's word).
// It returns the findings and how many servers were skipped as down.
func (v *view) orderCheck(w srvWalk, expected []string) (fails []string, skippedDown []string) {
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

// VerbLimit is the degrading verb that ends connections itself, once its
// byte budget is spent.
const VerbLimit = "limit"

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
func (v *view) gaveUpSlack(ct time.Duration) time.Duration { return v.slack + ct/10 }

// movedOn is when the client gave up attempt k of walk w, as the evidence
// shows: its next attempt (link accept where recorded), or the walk's close
// when k was the last. ok is false when the client did not move on from it
// (the walk landed on it, or had not ended).
func (v *view) movedOn(w srvWalk, k int) (t time.Duration, what string, ok bool) {
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
func (v *view) degradedFailure(w srvWalk, s string) (failure, bool) {
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
func (v *view) failedIn(w srvWalk, s string) (failure, bool) {
	if f, ok := v.lossFaultDuring(s, w.From, w.Until(v)); ok {
		return failure{Server: s, Fault: f}, true
	}
	return v.degradedFailure(w, s)
}

// degradedDuring is a degrading fault (not a loss verb) in force on link at
// some time in [from, to], if any.
func (v *view) degradedDuring(link string, from, to time.Duration) (faultSpan, bool) {
	for _, f := range v.faults {
		if f.Link == link && !isLossVerb(f.Verb) && f.began() <= to && (f.Off == nil || f.Off.T >= from) {
			return f, true
		}
	}
	return faultSpan{}, false
}

// undecidedIn says why it cannot be told whether server s failed in walk w
// ("" when it can): w's attempts are not attributable, so an attempt spoiled
// by a degrading fault cannot be told from one on a server that was fine.
func (v *view) undecidedIn(w srvWalk, s string) string {
	if w.Attributed {
		return ""
	}
	f, ok := v.degradedDuring(s, w.From, w.Until(v))
	if !ok {
		return ""
	}
	return fmt.Sprintf("whether %s failed in %s cannot be told: %s, and the walk's attempts are not attributable (%s)", s, w, f, w.Clash)
}

// firstUnfailed is the first server of order that did not fail in walk w
// ("" when all did), and the failures of those before it; undecided says
// why the first one that did not provably fail may have failed ("": none).
func (v *view) firstUnfailed(w srvWalk, order []string) (want string, passed []failure, undecided string) {
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
func (v *view) unfailedIn(w srvWalk, order []string) (healthy, undecided []string) {
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
func (v *view) orderRule(w srvWalk, expected []string) walkOrder {
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
				w, w.Ending(v), strings.Join(untried, ", "), order))
		}
	}
	if f := v.lastAttemptOff(w); f != "" {
		o.Fails = append(o.Fails, f)
	}
	return o
}

// lastAttemptOff is the finding when walk w landed on a server other than
// the one of its last attempt the servers saw ("" when it did not).
func (v *view) lastAttemptOff(w srvWalk) string {
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
