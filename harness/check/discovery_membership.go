package check

import (
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "discovery_membership", Judges: []string{"T6"}, New: func() Checker { return &DiscoveryMembership{} }})
}

// DiscoveryMembership judges T6: instances added or removed at run time
// (service discovery) join or leave the rotation without a restart.
//
// For each discovery op of the harness:
//   - add: the router's view adds the instance within Within, the instance
//     sees the router connect within Within (server route.connect), and once
//     it is connected it takes messages (server route.receive) if enough
//     were routed after that for the rotation to reach it;
//   - remove: the router's view removes it within Within, nothing is routed
//     to it after that (client route), it receives no message sent after
//     that (server route.receive vs harness op send), and its router
//     connection is closed within Within (server conn.close);
//   - no restart: no other member's router connection closes within Within
//     of the op unless a loss fault on its own link explains it (server,
//     link); and the view adds or removes nothing no op asked for.
type DiscoveryMembership struct {
	// Within bounds each reaction to a discovery op (default 1s).
	Within *time.Duration `yaml:"within"`
	// Lag as in round_robin (default: the router's liveness bound).
	Lag *time.Duration `yaml:"lag"`
}

// Validate checks the parameters.
func (c *DiscoveryMembership) Validate() error {
	if err := nonNegative("within", or(c.Within, 0)); err != nil {
		return err
	}
	return nonNegative("lag", or(c.Lag, 0))
}

// ValidateFor implements scenario.ScenarioValidator: its view FAILS a
// client that is no router (beginRoute), and check has nothing to judge
// without a discovery op, which only a discovery step sends.
func (c *DiscoveryMembership) ValidateFor(sc *scenario.Scenario) error {
	if err := needRouter(sc); err != nil {
		return err
	}
	return needDiscovery(sc)
}

// Check implements Checker.
func (c *DiscoveryMembership) Check(in Input) Result { return onRouteView(in, c, c.Lag, c.check) }

func (c *DiscoveryMembership) check(v *routeView) Result {
	within := or(c.Within, time.Second)
	rp := v.replay()
	var j judge
	// View changes each explained by an op (beyond the initial members).
	used := map[int]bool{}
	viewChange := func(add bool, name string, from time.Duration) (history.Event, bool) {
		list := rp.removes
		if add {
			list = rp.adds
		}
		for i, e := range list {
			k := i
			if add {
				k = -1 - i
			}
			if !used[k] && e.Server == name && e.T >= from {
				used[k] = true
				return e, true
			}
		}
		return history.Event{}, false
	}
	for i := range rp.initial {
		used[-1-i] = true
	}
	ops := 0
	for _, d := range v.disc {
		if d.reply == nil || !d.reply.OK {
			j.fail(d.op.T, "discovery %s of %s at %s was refused by the driver: %s", d.op.Op, d.name, dur(d.op.T), replyReason(d.reply))
			continue
		}
		ops++
		t := d.op.T
		ve, seen := viewChange(d.add, d.name, t)
		switch {
		case !seen:
			j.fail(t+within, "the router's view never followed the %s of %s at %s", d.op.Op, d.name, dur(t))
		case ve.T > t+within:
			j.fail(ve.T, "the router's view followed the %s of %s at %s only %s later (within %s)", d.op.Op, d.name, dur(t), dur(ve.T-t), dur(within))
		default:
			j.measureMs(d.op.Op+" "+d.name+": router view", ve.T-t, "client instance "+map[bool]string{true: "added", false: "removed"}[d.add]+" − harness op", "≤ "+dur(within))
		}
		if d.add {
			c.judgeAdd(&j, v, d, within)
		} else {
			from := t + within
			if seen {
				from = ve.T
			}
			c.judgeRemove(&j, v, d, from, within)
		}
		// No restart: the other members keep their connections.
		for _, m := range v.membersAt(t) {
			if m == d.name {
				continue
			}
			for _, s := range v.spans[m] {
				if s.close == nil || s.close.T < t || s.close.T > t+within {
					continue
				}
				if _, faulted := v.lossFault(m, s.close.T); faulted || v.removedBy(m, s.close.T) {
					continue
				}
				j.fail(s.close.T, "%s's router connection %s closed at %s, %s after the %s of %s: the router restarted?", m, s.conn, dur(s.close.T), dur(s.close.T-t), d.op.Op, d.name)
			}
		}
	}
	for i, e := range rp.adds {
		if !used[-1-i] {
			j.fail(e.T, "the router added %s at %s without a discovery op", e.Server, dur(e.T))
		}
	}
	for i, e := range rp.removes {
		if !used[i] {
			j.fail(e.T, "the router removed %s at %s without a discovery op", e.Server, dur(e.T))
		}
	}
	if ops == 0 {
		j.unknown(v.end, "nothing to judge: no discovery op")
	}
	return j.result(v.end, "%d discovery changes followed within %s, without a restart", ops, dur(within))
}

func (c *DiscoveryMembership) judgeAdd(j *judge, v *routeView, d discOp, within time.Duration) {
	t := d.op.T
	var conn *connSpan
	for _, s := range v.spans[d.name] {
		if s.open.T >= t {
			conn = s
			break
		}
	}
	if conn == nil || conn.open.T > t+within {
		j.fail(t+within, "%s was added at %s, but the router did not connect to it within %s (server)", d.name, dur(t), dur(within))
		return
	}
	j.measureMs("add "+d.name+": connected", conn.open.T-t, "server route.connect − harness op discovery.add", "≤ "+dur(within))
	// Once connected it must take its turn: after len(members) first parts
	// routed while it was connected, one must have reached it.
	until := v.end
	if conn.close != nil {
		until = conn.close.T
	}
	for _, r := range v.disc {
		if !r.add && r.name == d.name && r.op.T > t && r.op.T < until {
			until = r.op.T
		}
	}
	routed, got := 0, 0
	for _, p := range v.sends {
		if p.part != 1 || p.op.T < conn.open.T+v.live || p.op.T > until || p.route == nil {
			continue
		}
		routed++
		for _, rc := range p.recvs {
			if rc.Server == d.name {
				got++
			}
		}
	}
	j.count("add "+d.name+": messages received while a member", got, "server route.receive (part 1)")
	if n := len(v.membersAt(conn.open.T)); routed >= 2*n && got == 0 {
		j.fail(until, "%s was connected from %s but received none of the %d messages routed after (server): it never joined the rotation", d.name, dur(conn.open.T), routed)
	}
}

func (c *DiscoveryMembership) judgeRemove(j *judge, v *routeView, d discOp, from, within time.Duration) {
	after := 0
	for _, p := range v.sends {
		if p.route != nil && p.route.Server == d.name && p.route.T > from {
			j.fail(p.route.T, "message %s part %d was routed to %s at %s, after its removal at %s", p.msg.id, p.part, d.name, dur(p.route.T), dur(from))
		}
		if p.op.T <= from {
			continue
		}
		for _, rc := range p.recvs {
			if rc.Server == d.name {
				after++
				j.fail(rc.T, "%s received message %s part %d (sent at %s) after its removal at %s (server)", d.name, p.msg.id, p.part, dur(p.op.T), dur(from))
			}
		}
	}
	j.count("remove "+d.name+": messages received after the removal", after, "server route.receive − harness op send")
	for _, s := range v.spans[d.name] {
		if s.open.T > d.op.T || (s.close != nil && s.close.T < d.op.T) {
			continue // not live at the removal
		}
		if s.close == nil || s.close.T > d.op.T+within {
			j.fail(d.op.T+within, "%s was removed at %s, but the router kept its connection %s open (server)", d.name, dur(d.op.T), s.conn)
			continue
		}
		j.measureMs("remove "+d.name+": connection closed ("+s.close.Reason+")", s.close.T-d.op.T, "server conn.close − harness op discovery.remove", "≤ "+dur(within))
	}
}

// removedBy reports whether a discovery op removed inst at or before t.
func (v *routeView) removedBy(inst string, t time.Duration) bool {
	for _, d := range v.disc {
		if !d.add && d.name == inst && d.op.T <= t {
			return true
		}
	}
	return false
}
