package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "cascade_scope", Judges: []string{"C3"}, New: func() Checker { return &CascadeScope{} }})
}

// CascadeScope judges C3: cascading applies before a connection exists,
// autofailover after, and each works with the other off. It needs both a
// first connection whose first server failed and a loss of an established
// session, and judges each by the scenario's switches:
//
//   - first server failed, cascading on: the client went on to another
//     server (a server accept elsewhere, or a verified session elsewhere);
//     cascading off: it closed, and no other server saw an attempt;
//   - session lost, autofailover on: a new session on another server
//     (verified by its session.create); off: no other server saw an attempt
//     and the client never reported a session elsewhere.
//
// A real library whose effective contract lists the switch the scenario
// turned off as unsupported (failover.cascading or failover.auto: nats.go
// always walks its pool at the first connect, and always moves on to the
// next server when it reconnects) cannot be asked for that half: it is
// UNIMPLEMENTED, with the reason and what the client was seen doing, never
// FAILED for doing what it cannot be told not to do.
type CascadeScope struct{}

// ValidateFor implements scenario.ScenarioValidator: check FAILS a client
// given fewer than two servers outright.
func (c *CascadeScope) ValidateFor(sc *scenario.Scenario) error {
	if n := len(sc.Client.Servers); n < 2 {
		return fmt.Errorf("it needs at least two servers in client.servers (it has %d): a cascade moves on to the next", n)
	}
	return nil
}

// Check implements Checker.
func (c *CascadeScope) Check(in Input) Result { return onView(in, c, c.check) }

func (c *CascadeScope) check(v *view) Result {
	fo := v.sc.Client.Failover
	servers := v.sc.Client.Servers
	if len(servers) < 2 {
		return Fail(0, nil, "cascade_scope needs at least two servers in client.servers")
	}
	first := servers[0]
	var j judge
	var shown, unimpl []string
	pre, post := 0, 0
	last := time.Duration(0)
	for _, w := range v.walks().of(walkCascade) {
		if w.End == nil {
			j.fail(v.end, "%s %s", w, w.Ending(v))
			continue
		}
		fl, failed := v.walks().failedIn(w, first)
		if !failed {
			continue // the first server was fine: nothing to show
		}
		f := fl.Fault
		pre++
		last = max(last, w.End.T)
		var elsewhere []string
		if w.Attributed {
			for _, a := range w.Attempts {
				if a.Accept.Server != first {
					elsewhere = append(elsewhere, fmt.Sprintf("%s (server accept %s at %s)", a.Accept.Server, a.conn(), dur(a.Accept.T)))
				}
			}
		}
		landedElsewhere := ""
		if w.Landed() && w.End.Server != first {
			if l := v.sessions().landing(w); l.Problem != "" {
				j.fail(w.End.T, "%s", l.Problem)
			} else {
				landedElsewhere = l.Server
			}
		}
		if why, ok := cantSwitchOff(fo.Cascading, walkContract(v, w), optCascading); ok {
			seen := elsewhere
			if landedElsewhere != "" {
				seen = append(seen, "a session on "+landedElsewhere)
			}
			did := "no other server saw an attempt"
			if len(seen) > 0 {
				did = "it went on to " + strings.Join(seen, ", ")
			}
			unimpl = append(unimpl, fmt.Sprintf("cascading off cannot be asked of the library (unsupported %s: %s): after %s failed (%s) %s %s; %s", optCascading, why, first, f.Verb, w, w.Ending(v), did))
			continue
		}
		switch {
		case fo.Cascading && len(elsewhere) == 0 && landedElsewhere == "":
			j.fail(w.End.T, "cascading on, but after %s failed (%s) %s %s without any other server seeing an attempt", first, f, w, w.Ending(v))
		case fo.Cascading:
			to := elsewhere
			if landedElsewhere != "" {
				to = append(to, "a session on "+landedElsewhere)
			}
			shown = append(shown, fmt.Sprintf("cascaded past %s (%s) to %s", first, f.Verb, strings.Join(to, ", ")))
		case !w.Attributed:
			j.fail(w.End.T, "%s: attempts cannot be attributed (%s): judge cascading off with one client connecting at a time", w, w.Clash)
		case len(elsewhere) > 0 || landedElsewhere != "":
			j.fail(w.End.T, "cascading off, but after %s failed (%s) %s tried %s%s", first, f, w, strings.Join(elsewhere, ", "), map[bool]string{true: ", connected to " + landedElsewhere}[landedElsewhere != ""])
		case w.End.To != driver.ClosedFailed && !w.Landed():
			j.fail(w.End.T, "cascading off: after %s failed (%s) %s %s, expected CLOSED_FAILED", first, f, w, w.Ending(v))
		default:
			shown = append(shown, fmt.Sprintf("no cascade: %s %s after %s failed (%s), no other server saw an attempt", w, w.Ending(v), first, f.Verb))
		}
	}
	walks := v.walks().of(walkFailover)
	done := map[string]bool{}
	for _, h := range v.outages().lossHits() {
		k := fmt.Sprintf("%d|%d", h.Client, h.Active.T)
		if done[k] || h.Leave == nil || h.Leave.To == driver.ClosedByClient || h.Leave.To == driver.ClosedByServer {
			continue
		}
		done[k] = true
		lost := h.Server(v)
		var fw *srvWalk
		for i := range walks {
			if walks[i].Client == h.Client && walks[i].Start.T >= h.Active.T {
				fw = &walks[i]
				break
			}
		}
		if fo.Auto {
			if fw != nil && h.Leave.To == driver.RecoveringReconnect {
				if next, ok := v.client().firstStateAfter(h.Client, h.Leave.T+1, driver.ConnectedActive, driver.Connecting); ok && next.To == driver.ConnectedActive && next.T < fw.Start.T {
					continue // recovered on the same server first: not a failover
				}
			}
			post++
			switch {
			case fw == nil:
				j.fail(h.Leave.T, "autofailover on, but after losing %s (%s) client %d went %s%s at %s and never failed over", lost, h.Fault, h.Client, h.Leave.To, reasonText(*h.Leave), dur(h.Leave.T))
			case fw.Landed():
				if l := v.sessions().landing(*fw); l.Problem != "" {
					j.fail(fw.End.T, "%s", l.Problem)
				} else if l.Server == lost {
					j.fail(fw.End.T, "%s came back to %s, not another server", fw, lost)
				} else {
					shown = append(shown, fmt.Sprintf("failed over from %s to %s", lost, l.Server))
					last = max(last, fw.End.T)
				}
			default:
				healthy, undecided := v.walks().unfailedIn(*fw, servers)
				switch {
				case len(healthy) > 0:
					j.fail(fw.Until(v), "%s %s although %s did not fail", fw, fw.Ending(v), strings.Join(healthy, ", "))
				case len(undecided) > 0:
					j.unknown(fw.Until(v), "%s %s; %s", fw, fw.Ending(v), strings.Join(undecided, "; "))
				default:
					shown = append(shown, fmt.Sprintf("%s ran out of servers (every one failing)", fw))
				}
			}
			continue
		}
		post++
		if why, ok := cantSwitchOff(fo.Auto, v.client().contract(h.Client, h.Leave.T), optAuto); ok {
			did := fmt.Sprintf("client %d did not fail over: it %s", h.Client, endingOf(v, h))
			if fw != nil {
				did = fmt.Sprintf("%s %s", fw, fw.Ending(v))
			}
			unimpl = append(unimpl, fmt.Sprintf("autofailover off cannot be asked of the library (unsupported %s: %s): after losing %s (%s) %s", optAuto, why, lost, h.Fault.Verb, did))
			last = max(last, h.Leave.T)
			continue
		}
		from := h.Fault.On.T
		to := v.end
		if cl, ok := v.client().firstStateAfter(h.Client, h.Active.T+1, driver.ClosedByClient, driver.ClosedByServer, driver.ClosedFailed); ok {
			to = cl.T
		}
		last = max(last, to)
		if fw != nil {
			j.fail(fw.Start.T, "autofailover off, but client %d failed over after losing %s: CONNECTING at %s", h.Client, lost, dur(fw.Start.T))
		}
		if other, ok := v.client().firstStateAfter(h.Client, h.Active.T+1, driver.ConnectedActive); ok && other.Server != lost && other.T <= to {
			j.fail(other.T, "autofailover off, but client %d reported CONNECTED_ACTIVE on %s at %s after losing %s", h.Client, other.Server, dur(other.T), lost)
		}
		if busy := v.walks().othersBusy(h.Client, from, to); busy != "" {
			j.fail(from, "client %d's attempts after losing %s cannot be attributed (%s): judge autofailover off with one client", h.Client, lost, busy)
			continue
		}
		var elsewhere []string
		for _, a := range v.outages().attempts(from, to+v.slack) {
			if a.Accept.Server != lost {
				elsewhere = append(elsewhere, fmt.Sprintf("%s (server accept %s at %s)", a.Accept.Server, a.conn(), dur(a.Accept.T)))
			}
		}
		j.count(fmt.Sprintf("client %d: attempts elsewhere after losing %s", h.Client, lost), len(elsewhere), "server accept on client.servers other than the lost one, from link fault.on to the client's close")
		if len(elsewhere) > 0 {
			j.fail(from, "autofailover off, but after losing %s (%s) other servers saw attempts: %s", lost, h.Fault, strings.Join(elsewhere, ", "))
		} else {
			shown = append(shown, fmt.Sprintf("no failover: client %d lost %s and %s, no other server saw an attempt", h.Client, lost, endingOf(v, h)))
		}
	}
	j.count("first connections with a failed first server", pre, "link loss fault on "+first+" during the client's first connection")
	j.count("established sessions lost", post, "link loss fault while the client was CONNECTED_ACTIVE on its server")
	if pre == 0 || post == 0 {
		return j.inconclusive(v.end, "nothing to judge: C3 needs a first connection whose first server failed (%d seen) and a lost established session (%d seen)%s", pre, post, failText(j))
	}
	if len(unimpl) > 0 && !j.failed() && len(j.unknowns) == 0 {
		r := j.result(last, "")
		r.Verdict = Unimplemented
		r.Detail = list(unimpl)
		if len(shown) > 0 {
			r.Detail += "; judged: " + strings.Join(shown, "; ")
		}
		r.Detail += notesOf(&j)
		return r
	}
	return j.result(last, "cascading %s, autofailover %s: %s", onOff(fo.Cascading), onOff(fo.Auto), strings.Join(shown, "; "))
}

// The failover options a contract may list unsupported (switched off).
const (
	optCascading = "failover.cascading"
	optAuto      = "failover.auto"
)

// cantSwitchOff is why the library cannot be asked to switch opt off, when
// the scenario did (on false) and its effective contract lists opt
// unsupported.
func cantSwitchOff(on bool, ct *Contract, opt string) (string, bool) {
	if on || ct == nil {
		return "", false
	}
	for _, u := range ct.Unsupported {
		if u.Option == opt {
			return u.Reason, true
		}
	}
	return "", false
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func endingOf(v *view, h lossHit) string {
	if cl, ok := v.client().firstStateAfter(h.Client, h.Active.T+1, driver.ClosedByClient, driver.ClosedByServer, driver.ClosedFailed); ok {
		return fmt.Sprintf("went %s%s at %s", cl.To, reasonText(cl), dur(cl.T))
	}
	return "did not close"
}
