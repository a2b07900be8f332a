package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "deliberate_close", Judges: []string{"R8"}, New: func() Checker { return &DeliberateClose{} }})
}

// DeliberateClose judges R8: a session closed on purpose, by the client or by
// the server, ends in the matching closed state and does not reconnect. The
// server records a client's close (session.close closed_by_client); where it
// keeps nothing past a connection (session.create scope connection), the connection's end, with
// no loss fault in force, is that record.
type DeliberateClose struct {
	// By is who closes: client or server (required).
	By string `yaml:"by"`
}

// Validate checks the parameters.
func (c *DeliberateClose) Validate() error {
	if c.By != "client" && c.By != "server" {
		return fmt.Errorf("by must be client or server (got %q)", c.By)
	}
	return nil
}

// ValidateFor implements scenario.ScenarioValidator: a close by the client
// needs a client close step, the only source of the harness's close op;
// without one check answers "nothing to judge: the harness never sent a
// close op to a client" in every run. (A server's close may come from a
// close step or from a kind's own action, so by: server needs nothing
// here.)
func (c *DeliberateClose) ValidateFor(sc *scenario.Scenario) error {
	if c.By == "client" {
		return needClientOp(sc, driver.OpClose, "{client: close}")
	}
	return nil
}

// closeEvent is the deliberate close of one client's session.
type closeEvent struct {
	client  int
	session string
	at      history.Event // harness op close, or server session.close
	what    string
}

func (c *DeliberateClose) closes(v *view) []closeEvent {
	var out []closeEvent
	for _, cl := range v.clients {
		if c.By == "client" {
			for _, e := range v.h {
				if e.Kind == history.KindOp && e.Client == cl && e.Op == driver.OpClose {
					sess := ""
					if i := v.client().stateAt(cl, e.T); i >= 0 {
						sess = v.states[cl][i].Session
					}
					out = append(out, closeEvent{client: cl, session: sess, at: e, what: "harness op close"})
					break
				}
			}
			continue
		}
		for _, sess := range v.sessions().of(cl) {
			if e, ok := v.sessions().firstSessEvent(sess, 0, history.KindSessionClose); ok && e.Reason == driver.ReasonClosedByServer {
				out = append(out, closeEvent{client: cl, session: sess, at: e, what: "server " + e.Server + " session.close (closed_by_server)"})
				break
			}
		}
	}
	return out
}

// NeedsOneClient implements OneClient: attempts are judged from server-side
// accepts, which cannot be attributed to one of several clients.
func (c *DeliberateClose) NeedsOneClient() string { return oneClientWhy }

// Check implements Checker.
func (c *DeliberateClose) Check(in Input) Result { return onView(in, c, c.check) }

func (c *DeliberateClose) check(v *view) Result {
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	closes := c.closes(v)
	if len(closes) == 0 {
		if c.By == "client" {
			return Inconclusive(v.end, nil, "nothing to judge: the harness never sent a close op to a client")
		}
		return Inconclusive(v.end, nil, "nothing to judge: no server closed a client's session with reason closed_by_server")
	}
	want := driver.ClosedByClient
	if c.By == "server" {
		want = driver.ClosedByServer
	}
	var j judge
	last := time.Duration(0)
	for _, ce := range closes {
		t := ce.at.T
		who := fmt.Sprintf("client %d", ce.client)
		// A server's close may be recorded just after the client saw it.
		from := t
		if c.By == "server" {
			from = t - v.slack
		}
		if i := v.client().stateAt(ce.client, from); i >= 0 && driver.IsClosed(v.states[ce.client][i].To) {
			j.fail(t, "%s was already %s at %s, before the %s at %s: nothing to close", who, v.states[ce.client][i].To, dur(v.states[ce.client][i].T), ce.what, dur(t))
			continue
		}
		if rec, ok := v.client().firstStateAfter(ce.client, from, driver.RecoveringReconnect); ok {
			j.fail(rec.T, "reconnect after deliberate close: %s entered RECOVERING_RECONNECT at %s after the %s at %s", who, dur(rec.T), ce.what, dur(t))
		}
		after := v.outages().acceptsAfter(t)
		j.measure(who+": attempts after close", float64(len(after)), "count", "server accept on client.servers after the "+ce.what, "0")
		if len(after) > 0 {
			j.fail(after[0].T, "reconnect after deliberate close: %d server accept(s) after the %s at %s: %s", len(after), ce.what, dur(t), describeAccepts(after))
		}
		closed, ok := v.client().firstStateAfter(ce.client, from, driver.ClosedByClient, driver.ClosedByServer, driver.ClosedFailed)
		switch {
		case !ok:
			j.fail(t, "%s never reached %s after the %s at %s (%s)", who, want, ce.what, dur(t), v.client().lastStateText(ce.client))
		case closed.To != want:
			j.fail(closed.T, "%s went %s%s at %s after the %s at %s, expected %s", who, closed.To, reasonText(closed), dur(closed.T), ce.what, dur(t), want)
		default:
			j.measureMs(who+": time to "+want, closed.T-t, fmt.Sprintf("client %s − %s", want, ce.what), "")
			last = closed.T
		}
		if c.By == "client" && v.sessions().endsWithConn(ce.session) {
			// conn_sessions.go: the close is the connection's end, seen by
			// the server with no loss fault in force on its link.
			end, ok := v.sessions().connEnd(ce.session, t)
			switch {
			case !ok:
				j.fail(v.end, "the server never recorded the end of session %q's connection after the harness op close at %s", ce.session, dur(t))
			case v.lossOnLink(end.Server, end.T):
				j.fail(end.T, "session %q's connection ended at %s with a loss fault in force on %s: the server's evidence cannot tell the client's close from the fault", ce.session, dur(end.T), end.Server)
			default:
				j.measureMs(who+": server saw the connection end", end.T-t, "server session.disconnect − harness op close (the session is its connection: the close is its end)", "")
				last = max(last, end.T)
			}
		} else if c.By == "client" {
			sc, ok := v.sessions().firstSessEvent(ce.session, t, history.KindSessionClose)
			switch {
			case !ok:
				j.fail(v.end, "the server never recorded session.close of %q after the harness op close at %s", ce.session, dur(t))
			case sc.Reason != driver.ReasonClosedByClient:
				j.fail(sc.T, "server %s closed session %q at %s with reason %q, expected closed_by_client", sc.Server, ce.session, dur(sc.T), sc.Reason)
			default:
				j.measureMs(who+": server close", sc.T-t, "server session.close (closed_by_client) − harness op close", "")
				if sc.T > last {
					last = sc.T
				}
			}
		}
	}
	return j.result(last, "closed by the %s: %s reached, no reconnect, zero attempts after the close", c.By, want)
}
