package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "round_robin", Judges: []string{"T1"}, New: func() Checker { return &RoundRobin{} }})
}

// RoundRobin judges T1: each message (each first part) goes to the next
// connected and writable instance of the circular list.
//
// Exact order is judged against the router's own view, replayed event by
// event (a round robin is only exact against the eligibility it decided on);
// the view is held to the servers: every routing claim must be matched by
// the instance's own route.receive (and nothing received that the router did
// not claim), and an instance routed to must have had a router connection.
// Whether the skips were justified is T2's (skip_ineligible). Shares per
// instance are counted from the instances' receipts.
type RoundRobin struct {
	// MinMessages is how many first parts must have been routed for the
	// verdict to mean anything (default 1).
	MinMessages int `yaml:"min_messages"`
	// Lag is how far apart the router's and an instance's records of one
	// change of a connection may be (default: the router's liveness bound,
	// client.liveness or 2 × the instances' ping).
	Lag *time.Duration `yaml:"lag"`
}

// Validate checks the parameters.
func (c *RoundRobin) Validate() error {
	if c.MinMessages < 0 {
		return fmt.Errorf("min_messages must not be negative")
	}
	return nonNegative("lag", or(c.Lag, 0))
}

// ValidateFor implements scenario.ScenarioValidator: its view FAILS a
// client that is no router (beginRoute), and check has nothing to judge
// with fewer first parts routed than min_messages (at least 1) than the
// timeline sends.
func (c *RoundRobin) ValidateFor(sc *scenario.Scenario) error {
	if err := needRouter(sc); err != nil {
		return err
	}
	if want, n := max(c.MinMessages, 1), sent(sc); n < want {
		return fmt.Errorf("it needs at least %d message(s) routed (min_messages), and the timeline's client send steps send %d", want, n)
	}
	return nil
}

// Check implements Checker.
func (c *RoundRobin) Check(in Input) Result { return onRouteView(in, c, c.Lag, c.check) }

func (c *RoundRobin) check(v *routeView) Result {
	rp := v.replay()
	var j judge
	if got, want := strings.Join(rp.initial, ","), strings.Join(v.sc.Client.Servers, ","); got != want {
		j.fail(0, "the router's circular list began as [%s], want the discovery's initial members in order [%s]", got, want)
	}
	routed := 0
	for _, d := range rp.decisions {
		if d.chosen == "" {
			continue
		}
		routed++
		switch {
		case !d.known:
			j.fail(d.ev.T, "message %s went to %s at %s, which is not in the router's list [%s]", d.msg, d.chosen, dur(d.ev.T), strings.Join(d.list, " "))
		case d.chosen != d.expected:
			exp := d.expected
			if exp == "" {
				exp = "none (a 500)"
			}
			j.fail(d.ev.T, "message %s went to %s at %s; the round robin over the router's view (from the pointer: %s) gives %s",
				d.msg, d.chosen, dur(d.ev.T), viewList(d), exp)
		}
		if !v.connectedAround(d.chosen, d.ev.T) {
			j.fail(d.ev.T, "message %s was routed to %s at %s, but %s had no router connection then (server)", d.msg, d.chosen, dur(d.ev.T), d.chosen)
		}
	}
	// Claims against receipts.
	shares := map[string]int{}
	for _, p := range v.sends {
		for _, rc := range p.recvs {
			if p.part == 1 {
				shares[rc.Server]++
			}
			switch {
			case p.route == nil:
				j.fail(rc.T, "%s received message %s part %d at %s, which the router never reported routing", rc.Server, p.msg.id, p.part, dur(rc.T))
			case p.route.Server != rc.Server:
				j.fail(rc.T, "message %s part %d: the router said %s, but %s received it at %s (server)", p.msg.id, p.part, p.route.Server, rc.Server, dur(rc.T))
			}
		}
	}
	for _, e := range v.strays {
		j.fail(e.T, "%s received message %s part %s at %s, which no op sent", e.Server, e.Attr("id"), e.Attr("part"), dur(e.T))
	}
	// Shares while every member was eligible: within an unbroken stretch of
	// one membership, a round robin gives each member the same share, ±1
	// (counted from the receipts; from the claim for a part lost on the way).
	worst, stretches, worstText := 0, 0, ""
	var cur map[string]int
	curKey := ""
	closeStretch := func() {
		if cur == nil {
			return
		}
		lo, hi := -1, 0
		for _, c := range cur {
			if lo < 0 || c < lo {
				lo = c
			}
			hi = max(hi, c)
		}
		if hi-lo > worst {
			worst, worstText = hi-lo, fmt.Sprint(cur)
		}
		cur = nil
	}
	for _, d := range rp.decisions {
		all := d.chosen != "" && len(d.list) > 0
		for _, n := range d.list {
			if d.states[n] != "eligible" {
				all = false
			}
		}
		key := strings.Join(sortedKeys(d.states), " ")
		if !all || key != curKey {
			closeStretch()
		}
		if !all {
			continue
		}
		if cur == nil {
			cur, curKey = map[string]int{}, key
			for _, n := range d.list {
				cur[n] = 0
			}
			stretches++
		}
		if p := v.parts[partKey(d.msg, 1)]; p != nil && len(p.recvs) > 0 {
			cur[p.recvs[0].Server]++
		} else {
			cur[d.chosen]++ // lost on the way (its instance went): the claim, checked above
		}
	}
	closeStretch()
	if stretches > 0 {
		j.measure("largest share spread in a stretch with every member eligible", float64(worst), "count",
			fmt.Sprintf("server route.receive (part 1), over %d unbroken stretch(es) of one membership, all eligible in the router's view", stretches), "≤ 1")
		if worst > 1 {
			j.fail(v.end, "while every member was eligible the instances' shares differ by %d (%s): not a round robin", worst, worstText)
		}
	}
	j.count("first parts routed", routed, "client route events, replayed against the router's view")
	for _, name := range sortedKeys(shares) {
		j.count("share "+name, shares[name], "server route.receive (part 1) on "+name)
	}
	if routed < max(c.MinMessages, 1) {
		j.unknown(v.end, "nothing to judge: %d first part(s) routed, want at least %d", routed, max(c.MinMessages, 1))
	}
	return j.result(v.end, "%d messages went round robin over the instances eligible in the router's view; every claim matched the instance's receipt", routed)
}

// viewList renders a decision's list from the pointer with each state.
func viewList(d decision) string {
	var s []string
	for _, n := range d.list {
		s = append(s, n+" ("+d.states[n]+")")
	}
	if len(s) == 0 {
		return "empty"
	}
	return strings.Join(s, ", ")
}
