package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func init() {
	Register(Spec{Name: "session_preserved", Judges: []string{"R3", "R5"}, New: func() Checker { return &SessionPreserved{} }})
}

// SessionPreserved judges R3 (session): every recovery keeps the session id,
// and the server resumed that session (no new session in between).
type SessionPreserved struct{}

// Check implements Checker.
func (c *SessionPreserved) Check(in Input) Result { return onView(in, c, c.check) }

func (c *SessionPreserved) check(v *view) Result {
	var j judge
	recoveries, outs := 0, 0
	last := time.Duration(0)
	var lastOutage *outage
	for _, cl := range v.clients {
		for _, o := range v.outages().of(cl) {
			outs++
			o := o
			lastOutage = &o
			if !o.Recovered() {
				continue
			}
			recoveries++
			before, after := o.Session(), o.End.Session
			from := o.Start.T
			if o.Prev != nil {
				from = o.Prev.T
			}
			last = o.End.T
			if after != before {
				j.fail(o.End.T, "session id changed on recovery: %s recovered at %s with session %q, not its session %q", o, dur(o.End.T), after, before)
			}
			// A new session in between: the recovered id was created, or (one
			// client) any session was created on the client's servers.
			// from+lag: a server whose events stream in (containers,
			// external) is stamped a little after the client's claim of the
			// same instant, so a session's own create may follow its
			// CONNECTED_ACTIVE in the history.
			if i := newSessionDuring(v, from+v.lag, o.End.T, before, after); i >= 0 {
				e := v.h[i]
				j.fail(e.T, "server %s created a new session %q at %s during %s (a recovery must resume, not create)", e.Server, e.Session, dur(e.T), o)
			}
			res := v.sessions().sessEvents(before, history.KindSessionResume, from, o.End.T+v.slack)
			if len(res) == 0 {
				j.fail(o.End.T, "client claims recovery the server never saw: client %d reported CONNECTED_ACTIVE (session %q) at %s but no server recorded session.resume of %q since the loss at %s", o.Client, after, dur(o.End.T), before, dur(o.Start.T))
				continue
			}
			if recoveries <= maxSlotMeasurements {
				j.measureMs(fmt.Sprintf("client %d outage %d: resume", o.Client, o.N), res[0].T-o.Start.T,
					fmt.Sprintf("server %s session.resume − client RECOVERING_RECONNECT", res[0].Server), "")
			}
		}
	}
	j.count("recoveries", recoveries, "client RECOVERING_RECONNECT → CONNECTED_ACTIVE, each checked against a server session.resume")
	if recoveries == 0 {
		if lastOutage == nil {
			return j.inconclusive(v.end, "nothing to judge: no client entered RECOVERING_RECONNECT, so no recovery happened")
		}
		// Outages with no recovery are the SDK's: it was given the chance.
		j.fail(lastOutage.Until(v), "no client recovered (RECOVERING_RECONNECT → CONNECTED_ACTIVE); %d outage(s), the last %s", outs, lastOutage.Ending(v))
	}
	return j.result(last, "%d recovery(ies) kept the session id, each resumed by the server", recoveries)
}

// newSessionDuring is the index of the history's first session.create in
// (from, to] of session before or after, or (one client) of any session on
// the client's servers; -1: none. It reads the creates' index (hist_index.go),
// not the whole history: it is asked once per recovery.
func newSessionDuring(v *view, from, to time.Duration, before, after string) int {
	in := func(e history.Event) bool { return e.T > from && e.T <= to }
	cr := v.creates()
	if v.nClients == 1 {
		return v.firstOf(cr.all, func(e history.Event) bool {
			return in(e) && (e.Session == after || e.Session == before || v.cServers[e.Server])
		})
	}
	first := v.firstOf(cr.bySess[after], in)
	if before == after {
		return first
	}
	if i := v.firstOf(cr.bySess[before], in); i >= 0 && (first < 0 || i < first) {
		return i
	}
	return first
}
