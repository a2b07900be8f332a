package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// DefaultLossTolerance is loss_detected's and reconnect_window's default tolerance.
const DefaultLossTolerance = 50 * time.Millisecond

func init() {
	Register(Spec{Name: "loss_detected", Judges: []string{"R1"}, New: func() Checker { return &LossDetected{} }})
}

// LossDetected judges R1: after a loss fault on the link of the server a
// client is CONNECTED_ACTIVE on, the client leaves CONNECTED_ACTIVE for
// RECOVERING_RECONNECT (CLOSED_FAILED with reconnection off) within the bound,
// and the server saw the session's connection go too.
//
// The client's claim is not held against the server's disconnect as the
// same instant: after a blackhole or a reset the two sides learn of the loss
// by their own timers (idle bound, ping), so their stamps differ by design;
// after a cut or a down a late claim is what the bound (from the link's
// fault.on) already fails, and an early one is no hit at all (lossHits: the
// client must be CONNECTED_ACTIVE when the fault began, less the slack).
type LossDetected struct {
	// Within is an explicit bound on the detection latency (unset: derived
	// from the verb: cut/down tolerance; reset ping + tolerance; blackhole
	// idle bound + tolerance).
	Within *time.Duration `yaml:"within"`
	// Tolerance is added to the derived bound (default 50ms).
	Tolerance *time.Duration `yaml:"tolerance"`
}

// Validate checks the parameters.
func (c *LossDetected) Validate() error {
	if err := nonNegative("within", or(c.Within, 0)); err != nil {
		return err
	}
	return nonNegative("tolerance", or(c.Tolerance, 0))
}

func (c *LossDetected) tolerance() time.Duration { return or(c.Tolerance, DefaultLossTolerance) }

// bound is the detection bound for a fault and how it was derived.
func (c *LossDetected) bound(v *view, h lossHit) (time.Duration, string) {
	if c.Within != nil {
		return *c.Within, "within " + dur(*c.Within)
	}
	tol := c.tolerance()
	srv := v.server(h.Fault.Link)
	switch h.Fault.Verb {
	case VerbReset:
		p := srv.PingPeriod()
		return p + tol, fmt.Sprintf("ping period %s + tolerance %s", dur(p), dur(tol))
	case VerbBlackhole:
		// A real library finds a silent link by its own timers (MQTT's
		// keepalive in whole seconds, a ping timeout): its effective
		// contract gives the longest that takes with the settings it runs.
		ct := v.client().contract(h.Client, h.Fault.On.T)
		if ms, ok := ct.Param(paramDetect); ok {
			d := time.Duration(ms * float64(time.Millisecond))
			return d + tol, fmt.Sprintf("the library's detection bound %s (contract params %s; %s) + tolerance %s", dur(d), paramDetect, ct.Says(termLiveness), dur(tol))
		}
		ib := v.sc.Client.IdleBound(srv)
		return ib + tol, fmt.Sprintf("idle bound %s + tolerance %s", dur(ib), dur(tol))
	default:
		return tol, "tolerance " + dur(tol)
	}
}

// ValidateFor implements scenario.ScenarioValidator: check finds its hits
// among loss faults only (lossHits, outages.go) and, with none, has nothing
// to judge.
func (c *LossDetected) ValidateFor(sc *scenario.Scenario) error {
	if !hasLossFault(sc) {
		return errNoLossFault
	}
	return nil
}

// Check implements Checker.
func (c *LossDetected) Check(in Input) Result { return onView(in, c, c.check) }

func (c *LossDetected) check(v *view) Result {
	hits := v.outages().lossHits()
	if len(hits) == 0 {
		return Inconclusive(v.end, nil, "nothing to judge: no loss fault (cut|reset|blackhole|down) hit a link while a client was CONNECTED_ACTIVE on its server")
	}
	want := driver.RecoveringReconnect
	if !v.sc.Client.Reconnect.Enabled {
		want = driver.ClosedFailed
	}
	var j judge
	last := time.Duration(0)
	for _, h := range hits {
		f := h.Fault
		bound, how := c.bound(v, h)
		name := fmt.Sprintf("client %d %s", h.Client, f)
		if h.Leave == nil {
			j.fail(f.On.T, "client %d never left CONNECTED_ACTIVE after %s (still CONNECTED_ACTIVE at the end, %s; bound %s)", h.Client, f, dur(v.end), dur(bound))
			continue
		}
		lat := h.Leave.T - f.On.T
		stall := v.stalled(f.On.T, h.Leave.T)
		how += stallNote(stall)
		bound += stall
		j.measureSpan(name+": detection", f.On.T, h.Leave.T, fmt.Sprintf("client state %s − link fault.on (client-reported)", h.Leave.To), fmt.Sprintf("≤ %s (%s)", dur(bound), how))
		j.measureStall(name, stall)
		if h.Leave.To != want {
			j.fail(h.Leave.T, "client %d left CONNECTED_ACTIVE for %s%s at %s after %s, expected %s", h.Client, h.Leave.To, reasonText(*h.Leave), dur(h.Leave.T), f, want)
			continue
		}
		if lat > bound {
			j.fail(h.Leave.T, "client %d detected %s after %s > bound %s (%s); %s at %s", h.Client, f, dur(lat), dur(bound), how, h.Leave.To, dur(h.Leave.T))
		}
		if h.Leave.T > last {
			last = h.Leave.T
		}
		// Server evidence: the session's connection went on the server too.
		sess := h.Active.Session
		from := f.began() - v.slack
		for _, e := range v.sessions().sessEvents(sess, history.KindSessionResume, 0, f.On.T) {
			if e.T > from {
				from = e.T
			}
		}
		for _, e := range v.sessions().sessEvents(sess, history.KindSessionCreate, 0, f.On.T) {
			if e.T > from {
				from = e.T
			}
		}
		d, seen := v.sessions().firstSessEvent(sess, from, history.KindSessionDisconn, history.KindSessionClose)
		if !seen {
			j.fail(h.Leave.T, "client %d claims the loss (%s at %s) but the server never saw session %q disconnect or close by the end (%s)", h.Client, h.Leave.To, dur(h.Leave.T), sess, dur(v.end))
			continue
		}
		j.measureSpan(name+": server saw the loss", f.On.T, d.T, fmt.Sprintf("server %s %s%s − link fault.on", d.Server, d.Kind, reasonText(d)), "")
		if d.T > last {
			last = d.T
		}
	}
	return j.result(last, "%d loss fault(s) detected within bound, each confirmed by the server", len(hits))
}
