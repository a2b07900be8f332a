package check

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "skip_ineligible", Judges: []string{"T2"}, New: func() Checker { return &SkipIneligible{} }})
}

// SkipIneligible judges T2: instances that are not connected, or whose write
// buffer is above the high watermark, are skipped, and only those (an
// instance is writable again only below the low mark).
//
// Against the router's view, replayed: nothing is routed to an instance the
// view had not connected or not writable, and nothing eligible is passed
// over. Against the servers and links, every skip and every claim of
// unwritability must be possible:
//   - a skip needs the skipped instance to have been really unavailable:
//     no solidly live router connection (server route.connect/conn.close),
//     or a loss fault in force on its link (link), or at least the low mark
//     of bytes in flight towards it (parts it received later, or never, whose
//     op was sent before, plus the one frame a writer may still be writing
//     after the instance read it: server route.receive − harness op send);
//   - an unwritable claim needs at least the high mark in flight then, and
//     the claimed buffer above the high mark; a writable claim, the claimed
//     buffer below the low mark.
//
// In-flight bytes bound the router's buffer from above (its buffer is part
// of what is in flight), so these refute impossible claims; the link's
// fault record shows why the buffer grew.
type SkipIneligible struct {
	// ExpectSkips lists instances that must have been skipped at least once
	// (the scenario's point: a throttled or cut instance).
	ExpectSkips []string `yaml:"expect_skips"`
	// Lag as in round_robin (default: the router's liveness bound).
	Lag *time.Duration `yaml:"lag"`
}

// Validate checks the parameters.
func (c *SkipIneligible) Validate() error { return nonNegative("lag", or(c.Lag, 0)) }

// ValidateFor implements scenario.ScenarioValidator: its view FAILS a
// client that is no router (beginRoute), and check has nothing to judge
// when no message was routed, which takes a send.
func (c *SkipIneligible) ValidateFor(sc *scenario.Scenario) error {
	if err := needRouter(sc); err != nil {
		return err
	}
	return needClientOp(sc, "send", "messages to route")
}

// Check implements Checker.
func (c *SkipIneligible) Check(in Input) Result { return onRouteView(in, c, c.Lag, c.check) }

func (c *SkipIneligible) check(v *routeView) Result {
	rp := v.replay()
	var j judge
	skips := map[string]map[string]int{} // instance → view state → count
	routed := 0
	maxBacklog := map[string]int{}
	for _, d := range rp.decisions {
		if d.chosen == "" {
			continue // a 500 skips everyone: unavailable_500 (T3) judges it
		}
		routed++
		if d.known && d.ineligib != "" {
			j.fail(d.ev.T, "message %s was routed to %s at %s while the router's own view had it %s", d.msg, d.chosen, dur(d.ev.T), d.ineligib)
		}
		for _, s := range d.skipped {
			if skips[s.name] == nil {
				skips[s.name] = map[string]int{}
			}
			skips[s.name][s.state()]++
			if s.eligible() {
				j.fail(d.ev.T, "message %s at %s passed over %s, which the router's own view had eligible", d.msg, dur(d.ev.T), s.name)
				continue
			}
			a := v.available(s.name, d.ev.T)
			if a.backlog > maxBacklog[s.name] {
				maxBacklog[s.name] = a.backlog
			}
			if a.up {
				j.fail(d.ev.T, "message %s at %s skipped %s as %s, but %s", d.msg, dur(d.ev.T), s.name, s.state(), a.why)
			}
		}
	}
	// The view's writability claims against the bytes in flight.
	unwritable := map[string]int{}
	for _, e := range v.router {
		if e.Kind != kindInstance {
			continue
		}
		b, _ := strconv.Atoi(e.Attr("bytes"))
		switch e.Attr("state") {
		case stUnwritable:
			unwritable[e.Server]++
			if b <= v.high {
				j.fail(e.T, "the router called %s unwritable at %s with %d bytes buffered: not above the high mark %d", e.Server, dur(e.T), b, v.high)
			}
			if f := v.inflight(e.Server, e.T); f < v.high {
				j.fail(e.T, "the router called %s unwritable at %s, but only %d bytes were in flight towards it (server receipts), below the high mark %d", e.Server, dur(e.T), f, v.high)
			} else if f > maxBacklog[e.Server] {
				maxBacklog[e.Server] = f
			}
		case stWritable:
			if b >= v.low {
				j.fail(e.T, "the router called %s writable again at %s with %d bytes buffered: not below the low mark %d", e.Server, dur(e.T), b, v.low)
			}
		}
	}
	for _, name := range sortedKeys(skips) {
		var parts []string
		n := 0
		for _, st := range sortedKeys(skips[name]) {
			parts = append(parts, fmt.Sprintf("%d %s", skips[name][st], st))
			n += skips[name][st]
		}
		j.measure("skips of "+name, float64(n), "count", "client route events replayed ("+strings.Join(parts, ", ")+"), each checked against server/link evidence", "")
	}
	for _, name := range sortedKeys(unwritable) {
		j.count("unwritable claims of "+name, unwritable[name], "client instance events, each checked against bytes in flight (server route.receive − harness op send)")
	}
	for _, name := range sortedKeys(maxBacklog) {
		j.measure("largest backlog towards "+name+" at a skip or claim", float64(maxBacklog[name]), "bytes", "server route.receive − harness op send", fmt.Sprintf("high %d / low %d", v.high, v.low))
	}
	for _, name := range c.ExpectSkips {
		if len(skips[name]) == 0 {
			j.fail(v.end, "%s was never skipped: the scenario meant it to become ineligible (is back-pressure ignored?)", name)
		}
	}
	if routed == 0 {
		j.unknown(v.end, "nothing to judge: no message was routed")
	}
	return j.result(v.end, "%d routing decisions: only eligible instances taken, every skip backed by server or link evidence", routed)
}
