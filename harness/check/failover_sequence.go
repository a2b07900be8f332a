package check

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "failover_sequence", Judges: []string{"F1", "F2", "F4"}, New: func() Checker { return &FailoverSequence{} }})
}

// failoverTop is the failover contract term's value for a library that
// walks its list from the top after a loss (termFailover, contract.go).
const failoverTop = "top"

// Failover orders (FailoverSequence.Order).
const (
	OrderList = "list"
	OrderAny  = "any"
)

// FailoverSequence judges F1, F2 and F4: a loss of an established session,
// with autofailover on, is followed by a new session on the next server of
// the list; an attempt that fails moves on to the next; without load
// balancing the order is the list's. Every landing is checked against the
// servers: the session the client names must have been created (not
// resumed) by the server it names, and differ from the session lost. With
// order list, a failover that lands and one that runs out of servers are
// held to cascade_order's order rule (orderRule); a server failed as for
// cascades (failedIn: a loss fault, or an attempt a degrading fault spoiled).
type FailoverSequence struct {
	// Order is "list" (each next server is the next in the list after the
	// lost one, wrapping round, the lost one last) or "any" (load
	// balancing: order judged by shuffle_uniform and no_repeat). Default:
	// "any" when the client has load_balancing on, else "list".
	Order string `yaml:"order"`
	// MinFailovers is how many failovers must be seen (default 1).
	MinFailovers *int `yaml:"min_failovers"`
}

// DefaultMinFailovers is how many failovers failover_sequence needs by default.
const DefaultMinFailovers = 1

// Validate checks the parameters.
func (c *FailoverSequence) Validate() error {
	if c.Order != "" && c.Order != OrderList && c.Order != OrderAny {
		return fmt.Errorf("order must be %q or %q (got %q)", OrderList, OrderAny, c.Order)
	}
	if n := or(c.MinFailovers, DefaultMinFailovers); n < 1 {
		return fmt.Errorf("min_failovers must be at least 1 (got %d): a check with nothing to judge proves nothing", n)
	}
	return nil
}

// ValidateFor implements scenario.ScenarioValidator: check FAILS a scenario
// without autofailover outright, and order: list with load balancing on.
func (c *FailoverSequence) ValidateFor(sc *scenario.Scenario) error {
	fo := sc.Client.Failover
	if !fo.Auto {
		return errors.New("it judges autofailover, and client.failover.auto is off")
	}
	if c.Order == OrderList && fo.LoadBalancing {
		return errors.New("order: list, but client.failover.load_balancing is on (its order is a shuffle: use order: any)")
	}
	return nil
}

// Check implements Checker.
func (c *FailoverSequence) Check(in Input) Result { return onView(in, c, c.check) }

func (c *FailoverSequence) check(v *view) Result {
	fo := v.sc.Client.Failover
	if !fo.Auto {
		return Fail(0, nil, "the scenario has failover.auto off: failover_sequence judges autofailover")
	}
	order := c.Order
	if order == "" {
		order = OrderList
		if fo.LoadBalancing {
			order = OrderAny
		}
	}
	if order == OrderList && fo.LoadBalancing {
		return Fail(0, nil, "bad parameters: order: list, but the client has load_balancing on (its order is a shuffle: use order: any)")
	}
	minN := or(c.MinFailovers, DefaultMinFailovers)
	var j judge
	// Every loss of an established session must lead to a failover (or,
	// with reconnection on, to a recovery first).
	done := map[string]bool{}
	for _, h := range v.outages().lossHits() {
		k := fmt.Sprintf("%d|%d", h.Client, h.Active.T)
		if done[k] {
			continue
		}
		done[k] = true
		switch {
		case h.Leave == nil:
			j.fail(h.Fault.On.T, "client %d never left CONNECTED_ACTIVE on %s after %s (still there at the end, %s)", h.Client, h.Server(v), h.Fault, dur(v.end))
		case h.Leave.To == driver.Connecting:
		case h.Leave.To == driver.RecoveringReconnect && v.sc.Client.Reconnect.Enabled:
			// recovery first: reconnect_before_failover judges what follows
		case h.Leave.To == driver.RecoveringReconnect:
			j.fail(h.Leave.T, "client %d entered RECOVERING_RECONNECT at %s after %s with reconnection off: a failover opens a new session (CONNECTING)", h.Client, dur(h.Leave.T), h.Fault)
		case h.Leave.To == driver.ClosedByClient:
		default:
			j.fail(h.Leave.T, "client %d went %s%s at %s after %s instead of failing over to another server", h.Client, h.Leave.To, reasonText(*h.Leave), dur(h.Leave.T), h.Fault)
		}
	}
	walks := v.walks().of(walkFailover)
	landedOn := map[string]int{}
	judged, exhausted, unattributed, listed := 0, 0, 0, 0
	notedTop := false
	last := time.Duration(0)
	for _, w := range walks {
		judged++
		last = max(last, w.Until(v))
		expected := v.walks().failoverList(w.Lost)
		// A library whose effective contract walks its list from the top
		// after a loss (paho.mqtt.golang's attemptConnection()) is held to
		// that order, the lost server first again.
		ct := v.client().contract(w.Client, w.Start.T)
		top := ct.Value(termFailover) == failoverTop
		if top {
			expected = slices.Clone(v.sc.Client.Servers)
			if !notedTop {
				notedTop = true
				j.note("order judged by the client's contract: %s", ct.Says(termFailover))
			}
		}
		switch {
		case w.End == nil:
			j.fail(v.end, "%s %s", w, w.Ending(v))
			continue
		case w.End.To == driver.ClosedByClient:
			j.note("%s ended by the client's own close at %s", w, dur(w.End.T))
			continue
		case !w.Landed():
			healthy, undecided := v.walks().unfailedIn(w, v.sc.Client.Servers)
			switch {
			case len(healthy) > 0:
				j.fail(w.End.T, "%s gave up: %s, although %s did not fail during the failover", w, w.Ending(v), strings.Join(healthy, ", "))
			case len(undecided) > 0:
				j.unknown(w.End.T, "%s gave up: %s; %s", w, w.Ending(v), strings.Join(undecided, "; "))
			default:
				exhausted++
			}
			// A walk that ran out of servers is held to the same order as
			// one that landed.
			if order == OrderList {
				for _, f := range v.walks().orderRule(w, expected).Fails {
					j.fail(w.End.T, "%s", f)
				}
			}
			if !w.Attributed {
				unattributed++
			}
			continue
		}
		l := v.sessions().landing(w)
		if l.Problem != "" {
			j.fail(w.End.T, "%s", l.Problem)
			continue
		}
		landedOn[l.Server]++
		if l.Session == w.LostSession {
			j.fail(w.End.T, "%s came back with the lost session %q: a failover opens a new session", w, l.Session)
		}
		others := slices.DeleteFunc(slices.Clone(v.sc.Client.Servers), func(s string) bool { return s == w.Lost })
		if l.Server == w.Lost && !top {
			if healthy, _ := v.walks().unfailedIn(w, others); len(healthy) > 0 {
				j.fail(w.End.T, "%s landed back on the lost server %s although %s did not fail: the next server in the list comes first", w, w.Lost, strings.Join(healthy, ", "))
			}
		}
		want := ""
		if order == OrderList {
			o := v.walks().orderRule(w, expected)
			want = o.Want
			for _, f := range o.Fails {
				j.fail(w.End.T, "%s", f)
			}
			if o.Undecided != "" {
				j.unknown(w.End.T, "%s", o.Undecided)
			}
			if degraded := degradedOnly(o.Passed); len(degraded) > 0 {
				j.note("%s passed %s", w, failureList(degraded))
			}
		} else if f := v.walks().lastAttemptOff(w); f != "" {
			j.fail(w.End.T, "%s", f)
		}
		if !w.Attributed {
			unattributed++
		}
		if listed < maxSlotMeasurements {
			listed++
			exp := ""
			if want != "" {
				exp = "lands on " + want
			}
			tried := strings.Join(w.servers(), ",")
			if !w.Attributed {
				tried = "not attributable: " + w.Clash
			}
			j.measureMs(fmt.Sprintf("client %d failover %d: %s → %s", w.Client, w.N, w.Lost, l.Server), w.End.T-w.Start.T,
				fmt.Sprintf("client CONNECTED_ACTIVE (matched to server %s session.create %s) − client CONNECTING; attempts seen by the servers: [%s]", l.Create.Server, l.Create.Conn, tried), exp)
		}
	}
	j.count("failovers", judged, "client changes into CONNECTING from a session; landings matched to server session.create by session id")
	names := make([]string, 0, len(landedOn))
	for s := range landedOn {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		j.count("new sessions on "+s, landedOn[s], "server session.create matched to a client's CONNECTED_ACTIVE by session id")
	}
	if unattributed > 0 {
		j.note("%d failover(s) overlapped other clients' attempts: judged by their landing only", unattributed)
	}
	if exhausted > 0 {
		j.note("%d failover(s) ran out of servers while every server failed (the close is judged by close_names_tried)", exhausted)
	}
	if judged == 0 || judged < minN {
		return j.inconclusive(v.end, "nothing to judge: %d failover(s) seen (client CONNECTED_ACTIVE/RECOVERING_RECONNECT → CONNECTING), min_failovers %d%s", judged, minN, failText(j))
	}
	return j.result(last, "%d failover(s), each a new session on the %s server, verified by the servers", judged, map[string]string{OrderList: "next listed", OrderAny: "chosen"}[order])
}

// failText appends the findings gathered so far to a "nothing to judge".
func failText(j judge) string {
	if len(j.fails) == 0 {
		return ""
	}
	return "; " + list(j.fails)
}
