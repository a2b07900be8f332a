package check

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "no_reconnect", Judges: []string{"R7"}, New: func() Checker { return &NoReconnect{} }})
}

// NoReconnect judges R7: a client that disabled reconnection closes its
// session at once on loss, with zero reconnection attempts, and the server
// closes the session (no_reconnect). The client leaves CONNECTED_ACTIVE for
// CLOSED_FAILED or, with autofailover on, for CONNECTING: a failover opens a
// new session on another server (F1), which is not a reconnection. So a
// reconnection attempt is an attempt to resume the lost session, as the
// servers saw it: a handshake resuming its id (session.resume,
// session.unknown, a refused resume) on any server, or an accept outside
// every failover of the client (without autofailover: any accept after the
// loss). The failovers' attempts and landings are counted as evidence. Where
// the server keeps nothing past a connection (session.create scope connection), the session ends
// with it, and the server's record of that end stands for its close.
type NoReconnect struct{}

// NeedsOneClient implements OneClient: attempts are judged from server-side
// accepts, which cannot be attributed to one of several clients.
func (c *NoReconnect) NeedsOneClient() string { return oneClientWhy }

// ValidateFor implements scenario.ScenarioValidator: check FAILS a client
// with reconnection on outright, and judges the losses (lossHits) of a
// loss fault only, with none having nothing to judge.
func (c *NoReconnect) ValidateFor(sc *scenario.Scenario) error {
	if sc.Client.Reconnect.Enabled {
		return errors.New("it judges a client that opted out of reconnection, and client.reconnect.enabled is true (the default): set it to false")
	}
	if !hasLossFault(sc) {
		return errNoLossFault
	}
	return nil
}

// Check implements Checker.
func (c *NoReconnect) Check(in Input) Result { return onView(in, c, c.check) }

func (c *NoReconnect) check(v *view) Result {
	if v.sc.Client.Reconnect.Enabled {
		return Fail(0, nil, "the scenario has reconnect.enabled true: no_reconnect judges a client that opted out")
	}
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	failover := v.sc.Client.Failover.Auto
	var j judge
	judged := 0
	last := time.Duration(0)
	firstLoss := map[int]lossHit{}
	connEnded := 0 // sessions that ended with their connection (scope connection)
	done := map[string]bool{}
	for _, h := range v.outages().lossHits() {
		// Each session lost is judged once (several faults may hit it).
		k := fmt.Sprintf("%d|%d", h.Client, h.Active.T)
		if done[k] {
			continue
		}
		done[k] = true
		judged++
		f := h.Fault
		if _, ok := firstLoss[h.Client]; !ok {
			firstLoss[h.Client] = h
		}
		switch {
		case h.Leave == nil:
			j.fail(f.On.T, "client %d never left CONNECTED_ACTIVE after %s (still CONNECTED_ACTIVE at the end, %s)", h.Client, f, dur(v.end))
		case h.Leave.To == driver.ClosedFailed:
			j.measureMs(fmt.Sprintf("client %d: close latency", h.Client), h.Leave.T-f.On.T, "client CLOSED_FAILED − link fault.on (client-reported)", "")
			last = max(last, h.Leave.T)
		case failover && h.Leave.To == driver.Connecting:
			j.measureMs(fmt.Sprintf("client %d: left session %q for a failover", h.Client, h.Active.Session), h.Leave.T-f.On.T,
				"client CONNECTING − link fault.on (client-reported; the failover is judged by failover_sequence)", "")
			last = max(last, h.Leave.T)
		case failover:
			j.fail(h.Leave.T, "client %d went %s at %s after %s, expected CONNECTED_ACTIVE → CLOSED_FAILED, or CONNECTING (a failover), at once", h.Client, h.Leave.To, dur(h.Leave.T), f)
		default:
			j.fail(h.Leave.T, "client %d went %s at %s after %s, expected CONNECTED_ACTIVE → CLOSED_FAILED at once", h.Client, h.Leave.To, dur(h.Leave.T), f)
		}
		sess := h.Active.Session
		for _, e := range v.sessions().resumesOf(sess, f.began()-v.slack) {
			j.fail(e.T, "opt-out client %d tried to resume its lost session %q after %s: server %s %s at %s", h.Client, sess, f, e.Server, describeResume(e), dur(e.T))
		}
		if v.sessions().endsWithConn(sess) { // conn_sessions.go: nothing to close past the connection
			end, ok := v.sessions().connEnd(sess, f.began()-v.slack)
			if !ok {
				j.fail(v.end, "the server never recorded the end of session %q's connection after %s", sess, f)
				continue
			}
			j.measureMs(fmt.Sprintf("client %d: server session end", h.Client), end.T-f.On.T,
				"server session.disconnect − link fault.on (the session is its connection)", "")
			last = max(last, end.T)
			connEnded++
			continue
		}
		cl, ok := v.sessions().firstSessEvent(sess, f.began()-v.slack, history.KindSessionClose)
		switch {
		case !ok:
			j.fail(v.end, "the server never closed session %q with reason no_reconnect after %s", sess, f)
		case cl.Reason != "no_reconnect":
			j.fail(cl.T, "server %s closed session %q at %s with reason %q, expected no_reconnect", cl.Server, sess, dur(cl.T), cl.Reason)
		default:
			j.measureMs(fmt.Sprintf("client %d: server close", h.Client), cl.T-f.On.T, "server session.close (no_reconnect) − link fault.on", "")
			last = max(last, cl.T)
		}
	}
	if judged == 0 {
		return Inconclusive(v.end, nil, "nothing to judge: no loss fault (cut|reset|blackhole|down) hit a link while the client was CONNECTED_ACTIVE on its server")
	}
	for _, cl := range v.clients {
		h, ok := firstLoss[cl]
		if !ok {
			continue
		}
		f := h.Fault
		if rec, ok := v.client().firstStateAfter(cl, h.Active.T, driver.RecoveringReconnect); ok {
			j.fail(rec.T, "opt-out client %d entered RECOVERING_RECONNECT at %s after %s", cl, dur(rec.T), f)
		}
		// Without autofailover every accept after the loss is an attempt.
		stray, inFailover := v.outages().acceptsAfter(f.On.T), 0
		if failover {
			stray, inFailover = v.walks().splitByFailover(cl, stray)
		}
		ev := "server accept on client.servers after link fault.on"
		if failover {
			ev += ", outside the client's failovers (CONNECTING → CONNECTED_ACTIVE/CLOSED_*)"
		}
		if f.Verb == VerbDown {
			ev += " (under down, refused attempts reach no server: the servers see none either way; the client's states are the evidence)"
		}
		j.measure(fmt.Sprintf("client %d: reconnection attempts", cl), float64(len(stray)), "count", ev, "0")
		if len(stray) > 0 {
			what := "attempt(s)"
			if failover {
				what = "attempt(s) outside any failover"
			}
			j.fail(stray[0].T, "opt-out client %d made %d %s after %s: server accept %s", cl, len(stray), what, f, describeAccepts(stray))
		}
		if failover {
			j.count(fmt.Sprintf("client %d: failover attempts", cl), inFailover, "server accepts in the client's failovers (new sessions, not reconnections)")
			j.count(fmt.Sprintf("client %d: failover landings", cl), v.sessions().verifiedLandings(cl, f.On.T), "client CONNECTED_ACTIVE after a failover, matched to a server session.create of its session id")
		}
	}
	if failover && connEnded > 0 {
		return j.result(last, "the opt-out client left each lost session at once with zero reconnection attempts (failovers open new sessions); each session ended with its connection")
	}
	if failover {
		return j.result(last, "the opt-out client left each lost session at once with zero reconnection attempts (failovers open new sessions); the server closed the session (no_reconnect)")
	}
	if connEnded > 0 {
		return j.result(last, "the opt-out client closed on loss with zero attempts; its session ended with the connection (the server keeps nothing past it)")
	}
	return j.result(last, "the opt-out client closed on loss with zero attempts; the server closed its session (no_reconnect)")
}
