package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

func init() { Register("no_reconnect", func() Checker { return &NoReconnect{} }) }

// NoReconnect judges R7: a client that disabled reconnection closes at once
// on loss (CONNECTED_ACTIVE → CLOSED_FAILED), with zero attempts, and the
// server closes its session (no_reconnect).
type NoReconnect struct{}

// Check implements Checker.
func (c *NoReconnect) Check(in Input) Result {
	v, r, ok := prepare(in, c)
	if !ok {
		return r
	}
	if v.sc.Client.Reconnect.Enabled {
		return Fail(0, nil, "the scenario has reconnect.enabled true: no_reconnect judges a client that opted out")
	}
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	var j judge
	judged := 0
	last := time.Duration(0)
	done := map[int]bool{}
	for _, h := range v.lossHits() {
		if done[h.Client] {
			continue
		}
		done[h.Client] = true
		judged++
		f := h.Fault
		if rec, ok := v.firstStateAfter(h.Client, h.Active.T, driver.RecoveringReconnect); ok {
			j.fail(rec.T, "opt-out client %d entered RECOVERING_RECONNECT at %s after %s", h.Client, dur(rec.T), f)
		}
		switch {
		case h.Leave == nil:
			j.fail(f.On.T, "client %d never left CONNECTED_ACTIVE after %s (still CONNECTED_ACTIVE at the end, %s)", h.Client, f, dur(v.end))
		case h.Leave.To != driver.ClosedFailed:
			j.fail(h.Leave.T, "client %d went %s at %s after %s, expected CONNECTED_ACTIVE → CLOSED_FAILED at once", h.Client, h.Leave.To, dur(h.Leave.T), f)
		default:
			j.measureMs(fmt.Sprintf("client %d: close latency", h.Client), h.Leave.T-f.On.T, "client CLOSED_FAILED − link fault.on (client-reported)", "")
			last = h.Leave.T
		}
		after := v.acceptsAfter(f.On.T)
		ev := "server accept on client.servers after link fault.on"
		if f.Verb == VerbDown {
			ev += " (under down, refused attempts reach no server: the servers see none either way; the client's states are the evidence)"
		}
		j.measure(fmt.Sprintf("client %d: attempts", h.Client), float64(len(after)), "count", ev, "0")
		if len(after) > 0 {
			j.fail(after[0].T, "opt-out client %d made %d attempt(s) after %s: server accept %s", h.Client, len(after), f, describeAccepts(after))
		}
		sess := h.Active.Session
		cl, ok := v.firstSessEvent(sess, f.began()-v.slack, history.KindSessionClose)
		switch {
		case !ok:
			j.fail(v.end, "the server never closed session %q with reason no_reconnect after %s", sess, f)
		case cl.Reason != "no_reconnect":
			j.fail(cl.T, "server %s closed session %q at %s with reason %q, expected no_reconnect", cl.Server, sess, dur(cl.T), cl.Reason)
		default:
			j.measureMs(fmt.Sprintf("client %d: server close", h.Client), cl.T-f.On.T, "server session.close (no_reconnect) − link fault.on", "")
			if cl.T > last {
				last = cl.T
			}
		}
	}
	if judged == 0 {
		return Fail(v.end, nil, "nothing to judge: no loss fault (cut|reset|blackhole|down) hit a link while the client was CONNECTED_ACTIVE on its server")
	}
	return j.result(last, "the opt-out client closed on loss with zero attempts; the server closed its session (no_reconnect)")
}
