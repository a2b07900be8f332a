package check

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "reconnect_before_failover", Judges: []string{"F1"}, New: func() Checker { return &ReconnectBeforeFailover{} }})
}

// ReconnectBeforeFailover judges how autofailover and reconnection combine
// when both are on (F1 with R; the engine's documented choice, since a
// session cannot be recovered on another server): on loss the client
// recovers first, every reconnection attempt going to the server it lost;
// only once the recovery ends without success (the reconnection timeout,
// measured from the client's RECOVERING_RECONNECT; a strategy abort; or the
// server's unknown_session / lost_messages) does it fail over, to a new
// session on another server. A recovery in time stays on the lost server
// (server session.resume) and no other server sees an attempt.
type ReconnectBeforeFailover struct {
	// Tolerance is the slack on the reconnection timeout (default 30ms + 10%).
	Tolerance *time.Duration `yaml:"tolerance"`
	// TolerancePct adds this percentage of the timeout (default 10).
	TolerancePct *float64 `yaml:"tolerance_pct"`
}

// Validate checks the parameters.
func (c *ReconnectBeforeFailover) Validate() error {
	if err := nonNegative("tolerance", or(c.Tolerance, 0)); err != nil {
		return err
	}
	if pct := or(c.TolerancePct, 0); pct < 0 {
		return fmt.Errorf("tolerance_pct must not be negative (got %g)", pct)
	}
	return nil
}

// giveUpReasons are why a recovery may end in a failover.
var giveUpReasons = []string{driver.ReasonReconnectTimeout, driver.ReasonReconnectAborted, driver.ReasonUnknownSession, driver.ReasonLostMessages}

// ValidateFor implements scenario.ScenarioValidator: check FAILS a scenario
// without both reconnection and autofailover outright.
func (c *ReconnectBeforeFailover) ValidateFor(sc *scenario.Scenario) error {
	if !sc.Client.Reconnect.Enabled || !sc.Client.Failover.Auto {
		return errors.New("it judges reconnection and failover together: client.reconnect.enabled and client.failover.auto must both be on")
	}
	return nil
}

// Check implements Checker.
func (c *ReconnectBeforeFailover) Check(in Input) Result { return onView(in, c, c.check) }

func (c *ReconnectBeforeFailover) check(v *view) Result {
	if !v.sc.Client.Reconnect.Enabled || !v.sc.Client.Failover.Auto {
		return Fail(0, nil, "the scenario needs reconnect.enabled and failover.auto on: reconnect_before_failover judges them together")
	}
	timeout := v.sc.Client.ReconnectTimeout()
	tol := tolerancesOf(c.Tolerance, c.TolerancePct, v.sc.Client.Reconnect.Strategy).tol(timeout)
	var j judge
	recovered, failedOver := 0, 0
	last := time.Duration(0)
	walks := v.walks().of(walkFailover)
	for _, cl := range v.clients {
		for _, o := range v.outages().of(cl) {
			lost := o.Server(v)
			sess := o.Session()
			last = max(last, o.Until(v))
			// The failover that ended this recovery, if one did.
			var w *srvWalk
			if o.End != nil && o.End.To == driver.Connecting {
				for i := range walks {
					if walks[i].Client == cl && walks[i].Start.T == o.End.T {
						w = &walks[i]
					}
				}
			}
			// Every attempt during the recovery goes to the lost server.
			if busy := v.walks().othersBusy(cl, o.Start.T, o.Until(v)); busy != "" {
				j.note("%s: attempts not attributable (%s)", o, busy)
			} else {
				atts := o.Attempts(v)
				onLost := 0
				for _, a := range atts {
					// The failover's first attempt, stamped by its server
					// before the client's CONNECTING was: the engine reports,
					// then dials, but a driver's report travels through its
					// stdout before the harness stamps it, while the server
					// stamps its accept at once. The failover's window
					// (walkSlack before its CONNECTING, never before the
					// recovery began) is where failover_sequence counts it
					// too, so no accept is judged both ways.
					if w != nil && a.Accept.Server != lost && a.Accept.T >= w.From {
						continue
					}
					if a.Accept.Server != lost {
						j.fail(a.Accept.T, "%s: recovery attempt on %s (server accept %s at %s): a session can only be recovered on the server that holds it, %s",
							o, a.Accept.Server, a.conn(), dur(a.Accept.T), lost)
					} else {
						onLost++
					}
				}
				j.count(fmt.Sprintf("%s: recovery attempts on %s", o, lost), onLost, "server accept on the lost server during RECOVERING_RECONNECT")
			}
			switch {
			case o.End == nil:
				j.fail(v.end, "%s %s", o, o.Ending(v))
			case o.Recovered():
				res := v.sessions().sessEvents(sess, history.KindSessionResume, o.Start.T, o.End.T+v.slack)
				switch {
				case o.End.Server != lost || o.End.Session != sess:
					j.fail(o.End.T, "%s recovered as %s on %s, not session %q on %s", o, o.End.Session, o.End.Server, sess, lost)
				case len(res) == 0:
					j.fail(o.End.T, "client claims recovery the server never saw: %s, but no session.resume of %q", o.Ending(v), sess)
				default:
					recovered++
				}
			case o.End.To == driver.Connecting:
				failedOver++
				fo := o.End
				if !slices.Contains(giveUpReasons, fo.Reason) {
					j.fail(fo.T, "%s failed over with reason %q: a recovery gives way to a failover only on %s", o, fo.Reason, strings.Join(giveUpReasons, ", "))
				}
				waited := fo.T - o.Start.T
				j.measureMs(fmt.Sprintf("%s: recovery before failover", o), waited, "client CONNECTING − client RECOVERING_RECONNECT (client-reported)",
					fmt.Sprintf("reconnect timeout %s ± %s", dur(timeout), dur(tol)))
				if fo.Reason == driver.ReasonReconnectTimeout && (waited < timeout-tol || waited > timeout+tol) {
					j.fail(fo.T, "%s failed over %s after the loss; the reconnection timeout is %s (± %s)", o, dur(waited), dur(timeout), dur(tol))
				}
				switch {
				case w == nil || w.End == nil:
					j.fail(v.end, "%s: the failover never ended", o)
				case !w.Landed():
					healthy, undecided := v.walks().unfailedIn(*w, v.sc.Client.Servers)
					switch {
					case len(healthy) > 0:
						j.fail(w.End.T, "%s %s although %s did not fail", w, w.Ending(v), strings.Join(healthy, ", "))
					case len(undecided) > 0:
						j.unknown(w.End.T, "%s %s; %s", w, w.Ending(v), strings.Join(undecided, "; "))
					}
				default:
					l := v.sessions().landing(*w)
					switch {
					case l.Problem != "":
						j.fail(w.End.T, "%s", l.Problem)
					case l.Server == lost:
						j.fail(w.End.T, "%s landed back on %s, not another server", w, lost)
					case l.Session == sess:
						j.fail(w.End.T, "%s kept session %q: a failover opens a new session", w, sess)
					default:
						last = max(last, w.End.T)
						j.measureMs(fmt.Sprintf("%s: new session on %s", o, l.Server), w.End.T-fo.T,
							fmt.Sprintf("client CONNECTED_ACTIVE (matched to server %s session.create %s) − client CONNECTING", l.Server, l.Create.Conn), "")
					}
				}
			default:
				j.fail(o.End.T, "%s %s: with autofailover on, a recovery that fails gives way to a failover, not a close", o, o.Ending(v))
			}
		}
		// A loss that skipped recovery altogether.
		for _, w := range walks {
			if w.Client == cl && w.Left == driver.ConnectedActive {
				j.fail(w.Start.T, "%s: failed over straight from CONNECTED_ACTIVE with reconnection on: recover first", w)
			}
		}
	}
	j.count("recovered", recovered, "client RECOVERING_RECONNECT → CONNECTED_ACTIVE with a server session.resume on the lost server")
	j.count("failed over after recovery", failedOver, "client RECOVERING_RECONNECT → CONNECTING")
	if failedOver == 0 {
		return j.inconclusive(v.end, "nothing to judge: no recovery gave way to a failover (%d recovered)%s", recovered, failText(j))
	}
	return j.result(last, "%d recovery(ies) on the lost server, %d failover(s) after the recovery ended", recovered, failedOver)
}
