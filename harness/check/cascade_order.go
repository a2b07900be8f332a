package check

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

func init() {
	Register(Spec{Name: "cascade_order", Judges: []string{"C1"}, New: func() Checker { return &CascadeOrder{} }})
}

// DefaultCascadeTolerance is cascade_order's absolute slack on each attempt.
const DefaultCascadeTolerance = 50 * time.Millisecond

// CascadeOrder judges C1: when the first connection attempt fails (refused,
// reset, handshake timeout) the client tries the next server in list order,
// each attempt bounded by the connect timeout, and connects to the first
// server that answers. Attempts are the servers' accepts; a server whose
// link is down refuses before any server sees the attempt, so passing it
// rests on the link's record (the attempt itself is the client's word). A
// server failed when a loss fault hit its link during the cascade, or when
// a degrading one (slow, throttle, slice, limit) spoiled its attempt
// (failedIn). The order rule is failover_sequence's too (orderRule).
type CascadeOrder struct {
	// Tolerance is the absolute slack on each attempt's bound (default 50ms:
	// a timer, a dial and two records between the two accepts).
	Tolerance *time.Duration `yaml:"tolerance"`
	// TolerancePct adds this percentage of the connect timeout (default 10).
	TolerancePct *float64 `yaml:"tolerance_pct"`
}

// Validate checks the parameters.
func (c *CascadeOrder) Validate() error {
	if err := nonNegative("tolerance", or(c.Tolerance, 0)); err != nil {
		return err
	}
	if pct := or(c.TolerancePct, 0); pct < 0 {
		return fmt.Errorf("tolerance_pct must not be negative (got %g)", pct)
	}
	return nil
}

// Check implements Checker.
func (c *CascadeOrder) Check(in Input) Result { return onView(in, c, c.check) }

func (c *CascadeOrder) check(v *view) Result {
	if !v.sc.Client.Failover.Cascading {
		return Fail(0, nil, "the scenario has failover.cascading off: cascade_order judges cascading")
	}
	ct := v.connectTimeout()
	tol := tolerances{Abs: or(c.Tolerance, DefaultCascadeTolerance), Pct: or(c.TolerancePct, DefaultScheduleTolerancePct)}.tol(ct)
	list := v.walks().cascadeList()
	var j judge
	judged := 0
	last := time.Duration(0)
	for _, w := range v.walks().of(walkCascade) {
		if !w.Attributed {
			j.fail(w.From, "%s: its attempts cannot be attributed (%s): judge cascades with one client at a time", w, w.Clash)
			continue
		}
		if w.End == nil {
			j.fail(v.end, "%s %s", w, w.Ending(v))
			continue
		}
		o := v.walks().orderRule(w, list)
		cascaded := len(o.SkippedDown) > 0 || len(w.Attempts) > 1 || (w.Landed() && w.End.Server != list[0])
		if !cascaded && !driver.IsClosed(w.End.To) {
			continue // the first server answered: nothing cascaded
		}
		judged++
		last = max(last, w.End.T)
		if w.Landed() {
			if l := v.sessions().landing(w); l.Problem != "" {
				j.fail(w.End.T, "%s", l.Problem)
			} else {
				j.measureMs(fmt.Sprintf("%s: connected to %s", w, l.Server), w.End.T-w.Start.T,
					fmt.Sprintf("client CONNECTED_ACTIVE (matched to server %s session.create %s) − harness connect op", l.Create.Server, l.Create.Conn), "")
			}
		}
		for _, f := range o.Fails {
			j.fail(w.End.T, "%s", f)
		}
		if o.Undecided != "" {
			j.unknown(w.End.T, "%s", o.Undecided)
		}
		// Each attempt is bounded by the connect timeout: the next attempt
		// (or the close) comes within it, per server passed.
		prevT, prevWhat, prevIdx := w.Start.T, "harness connect op (client-reported start)", -1
		bound := func(idx int) time.Duration { return time.Duration(idx-prevIdx)*ct + tol }
		for k, a := range w.Attempts {
			idx := slices.Index(list, a.Accept.Server)
			if idx <= prevIdx {
				idx = prevIdx + 1 // out of order: reported above; bound as one step
			}
			gap, b := a.Accept.T-prevT, bound(idx)
			if k > 0 {
				j.measureMs(fmt.Sprintf("%s attempt %d (%s) ended", w, k-1, w.Attempts[k-1].Accept.Server), gap,
					fmt.Sprintf("server accept %s − %s", a.conn(), prevWhat), fmt.Sprintf("≤ %s (connect_timeout %s × %d + %s)", dur(b), dur(ct), idx-prevIdx, dur(tol)))
			}
			if gap > b {
				j.fail(a.Accept.T, "%s attempt %d on %s (server accept %s at %s) came %s after %s at %s: more than %s, the connect timeout %s per server passed plus %s",
					w, k, a.Accept.Server, a.conn(), dur(a.Accept.T), dur(gap), prevWhat, dur(prevT), dur(b), dur(ct), dur(tol))
			}
			prevT, prevWhat, prevIdx = a.Accept.T, "server accept "+a.conn(), idx
		}
		// Closed: the last attempt is bounded too, up to the list's end.
		if n := len(w.Attempts); n > 0 && !w.Landed() {
			gap := w.End.T - prevT
			if b := time.Duration(len(list)-prevIdx)*ct + tol; gap > b {
				j.fail(w.End.T, "%s closed %s after its last attempt (server accept %s): more than %s", w, dur(gap), w.Attempts[n-1].conn(), dur(b))
			}
		}
		if len(o.SkippedDown) > 0 {
			j.note("passed %s with the link down: refused before any server, so those attempts are client-reported (the link's down record is the evidence)", strings.Join(o.SkippedDown, ", "))
		}
		if degraded := degradedOnly(o.Passed); len(degraded) > 0 {
			j.note("passed %s", failureList(degraded))
		}
	}
	if judged == 0 {
		return j.inconclusive(v.end, "nothing to judge: no first connection cascaded (every client's first attempt succeeded, or none connected)%s", failText(j))
	}
	return j.result(last, "%d cascade(s) followed list order %s, each attempt within connect_timeout %s + %s", judged, strings.Join(list, " → "), dur(ct), dur(tol))
}
