package check

import (
	"fmt"
	"strings"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "lifecycle", Judges: []string{"U1"}, Universal: true, New: func() Checker { return &Lifecycle{} }})
}

// Lifecycle judges U1, in every scenario: each client's reported states form
// well-formed lifecycles (driver protocol, harness/driver/driver.go):
//   - a session's first state event has no "from" and goes into CONNECTING,
//     and only a connect op the harness sent starts one;
//   - every later event starts where the last ended (its from is the last to);
//   - only legal transitions occur (legalNext), so a closed session stays
//     closed: after a CLOSED_* nothing follows for that client but a new
//     session, started by a new connect op;
//   - a CONNECTED_ACTIVE never names a session its server had ended
//     (session.close, session.expire, session.lost) and not served again.
//
// The states are the client's word: an OK says its reports are well formed,
// held to the harness's connect ops and to the servers' ends of sessions;
// whether each claim was true is for the checks that hold it to the servers'
// records. The rules are judged here, with evidence, rather than by the
// stdio driver, which would kill the driver on the first bad line: a verdict
// names every offending event and the one before it.
type Lifecycle struct{}

// legalNext lists the states a session may go to from each state ("": its
// first event). Diffusion's machine, plus the failover's return to
// CONNECTING (a new session on another server). A closed state has none.
var legalNext = map[string][]string{
	"":                         {driver.Connecting},
	driver.Connecting:          {driver.ConnectedActive, driver.ClosedByClient, driver.ClosedByServer, driver.ClosedFailed},
	driver.ConnectedActive:     {driver.RecoveringReconnect, driver.Connecting, driver.ClosedByClient, driver.ClosedByServer, driver.ClosedFailed},
	driver.RecoveringReconnect: {driver.ConnectedActive, driver.Connecting, driver.ClosedByClient, driver.ClosedByServer, driver.ClosedFailed},
}

func legal(from, to string) bool {
	for _, s := range legalNext[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Applies implements Scoped: a router has no session lifecycle (its
// instances' connections are T1–T6's), so U1 is not part of its results.
func (c *Lifecycle) Applies(sc *scenario.Scenario) bool { return sc == nil || !sc.Client.IsRouter() }

// Check implements Checker.
func (c *Lifecycle) Check(in Input) Result { return onView(in, c, c.check) }

func (c *Lifecycle) check(v *view) Result {
	var j judge
	perClient := map[int][]history.Event{} // connect ops and states, in order
	for _, e := range v.h {
		if e.Kind == history.KindState || e.Kind == history.KindOp && e.Op == driver.OpConnect {
			perClient[e.Client] = append(perClient[e.Client], e)
		}
	}
	transitions, sessions, judged := 0, 0, 0
	for _, cl := range v.clients {
		if len(v.states[cl]) == 0 {
			continue // accounting (accounting.go) speaks for a client that reported nothing
		}
		judged++
		t, s := c.walk(v, &j, cl, perClient[cl])
		transitions += t
		sessions += s
	}
	c.claims(v, &j)
	j.count("clients judged", judged, "clients that reported a state (client-reported)")
	j.count("sessions started", sessions, "state events without from, each after a harness connect op")
	j.count("transitions", transitions, "client state events (client-reported)")
	if judged == 0 {
		return j.inconclusive(v.end, "nothing to judge: no client reported a state")
	}
	return j.result(v.end, "%d transition(s) of %d client(s), %d session(s): every one legal, each from where the last ended, none after a close", transitions, judged, sessions)
}

// walk judges one client's states against the connect ops sent to it.
func (c *Lifecycle) walk(v *view, j *judge, cl int, evs []history.Event) (transitions, sessions int) {
	var prev *history.Event
	connects := 0
	for i := range evs {
		e := evs[i]
		if e.Kind == history.KindOp {
			connects++
			continue
		}
		transitions++
		// A session's first event: no from, into CONNECTING, after a connect
		// op not yet used by an earlier session.
		start := e.From == "" && connects > sessions
		closed := !start && prev != nil && driver.IsClosed(prev.To)
		switch {
		case closed && driver.IsClosed(e.To):
			j.fail(e.T, "client %d: %s follows %s: nothing follows a close", cl, describeState(e), describeState(*prev))
		case closed:
			j.fail(e.T, "client %d: a closed session came back: %s after %s%s", cl, describeState(e), describeState(*prev), v.sessions().endedBy(*prev, e))
		case e.From == "" && !start:
			j.fail(e.T, "client %d: %s starts a session with no connect op for it (the harness sent %d, %d session(s) began)%s", cl, describeState(e), connects, sessions, prevText(prev))
		case start && e.To != driver.Connecting:
			j.fail(e.T, "client %d: %s: a session's first state is CONNECTING%s", cl, describeState(e), prevText(prev))
		case start:
			// a new session (a second connect op may start one on a live client)
		case prev == nil:
			j.fail(e.T, "client %d: %s is its first state, with a from: a session's first event has none and goes into CONNECTING", cl, describeState(e))
		case e.From != prev.To:
			j.fail(e.T, "client %d: %s does not start where the last ended: %s", cl, describeState(e), describeState(*prev))
		case !legal(e.From, e.To):
			j.fail(e.T, "client %d: %s is not a legal transition (from %s: %s)%s", cl, describeState(e), e.From, strings.Join(legalNext[e.From], ", "), prevText(prev))
		}
		if start {
			sessions++
		}
		prev = &evs[i]
	}
	return transitions, sessions
}

// describeState names a state event for details: when, from→to, where.
func describeState(e history.Event) string {
	from := e.From
	if from == "" {
		from = "(none)"
	}
	s := fmt.Sprintf("%s→%s at %s", from, e.To, dur(e.T))
	if e.Session != "" {
		s += " session " + e.Session
	}
	if e.Server != "" {
		s += " on " + e.Server
	}
	return s + reasonText(e)
}

func prevText(prev *history.Event) string {
	if prev == nil {
		return ""
	}
	return " (previous: " + describeState(*prev) + ")"
}

// claims holds each CONNECTED_ACTIVE naming a session to the servers' word:
// each claim takes the session's next create or resume (stamped up to the
// slack after it: observers' stamps of one instant may cross); a claim left
// without one, for a session its server had ended before it, says a closed
// session is back.
func (c *Lifecycle) claims(v *view, j *judge) {
	used := map[string]int{} // per session, serves taken by earlier claims
	for _, cl := range v.clients {
		for _, e := range v.states[cl] {
			if e.To != driver.ConnectedActive || e.Session == "" {
				continue
			}
			var serves []history.Event
			for _, s := range v.bySess[e.Session] {
				if isSessionServe(s.Kind) && s.T <= e.T+v.slack {
					serves = append(serves, s)
				}
			}
			if used[e.Session] < len(serves) {
				used[e.Session]++
				continue
			}
			end, ok := v.sessions().sessionEnd(e.Session, e.T)
			if !ok {
				continue // no server ended it: whether it was served is R3's and F1's to judge
			}
			last := "never served it"
			if len(serves) > 0 {
				s := serves[len(serves)-1]
				last = fmt.Sprintf("last served it at %s (%s), for an earlier claim", dur(s.T), s.Kind)
			}
			j.fail(e.T, "client %d: %s claims session %s, which server %s ended at %s (%s%s) and did not serve again: it %s",
				cl, describeState(e), e.Session, end.Server, dur(end.T), end.Kind, reasonText(end), last)
		}
	}
}
