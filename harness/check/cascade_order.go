package check

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

func init() { Register("cascade_order", func() Checker { return &CascadeOrder{} }) }

// DefaultCascadeTolerance is cascade_order's absolute slack on each attempt.
const DefaultCascadeTolerance = 50 * time.Millisecond

// CascadeOrder judges C1: when the first connection attempt fails (refused,
// reset, handshake timeout) the client tries the next server in list order,
// each attempt bounded by the connect timeout, and connects to the first
// server that answers. Attempts are the servers' accepts; a server whose
// link is down refuses before any server sees the attempt, so passing it
// rests on the link's record (the attempt itself is the client's word).
type CascadeOrder struct {
	// Tolerance is the absolute slack on each attempt's bound (default 50ms:
	// a timer, a dial and two records between the two accepts).
	Tolerance time.Duration `yaml:"tolerance"`
	// TolerancePct adds this percentage of the connect timeout (default 10).
	TolerancePct float64 `yaml:"tolerance_pct"`
}

// Validate checks the parameters.
func (c *CascadeOrder) Validate() error {
	if err := nonNegative("tolerance", c.Tolerance); err != nil {
		return err
	}
	if c.TolerancePct < 0 {
		return fmt.Errorf("tolerance_pct must not be negative (got %g)", c.TolerancePct)
	}
	return nil
}

// Check implements Checker.
func (c *CascadeOrder) Check(in Input) Result {
	v, r, ok := prepare(in, c)
	if !ok {
		return r
	}
	if !v.sc.Client.Failover.Cascading {
		return Fail(0, nil, "the scenario has failover.cascading off: cascade_order judges cascading")
	}
	ct := v.connectTimeout()
	abs := c.Tolerance
	if abs == 0 {
		abs = DefaultCascadeTolerance
	}
	tol := scheduleTolerances(abs, c.TolerancePct, v.sc.Client.Reconnect.Strategy).tol(ct)
	list := v.cascadeList()
	var j judge
	judged := 0
	last := time.Duration(0)
	for _, w := range v.walksOf(walkCascade) {
		if !w.Attributed {
			j.fail(w.From, "%s: its attempts cannot be attributed (%s): judge cascades with one client at a time", w, w.Clash)
			continue
		}
		if w.End == nil {
			j.fail(v.end, "%s %s", w, w.Ending(v))
			continue
		}
		fails, skipped := v.orderCheck(w, list)
		cascaded := len(skipped) > 0 || len(w.Attempts) > 1 || (w.Landed() && w.End.Server != list[0])
		if !cascaded && !driver.IsClosed(w.End.To) {
			continue // the first server answered: nothing cascaded
		}
		judged++
		last = max(last, w.End.T)
		for _, f := range fails {
			j.fail(w.End.T, "%s", f)
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
		if w.Landed() {
			l := v.landing(w)
			if l.Problem != "" {
				j.fail(w.End.T, "%s", l.Problem)
				continue
			}
			want, excused := v.firstHealthy(list, w.From, w.End.T)
			if l.Server != want {
				j.fail(w.End.T, "%s connected to %s; in list order %s the first server without a fault was %s (past %s)",
					w, l.Server, strings.Join(list, " → "), want, strings.Join(excused, ", "))
			}
			if n := len(w.Attempts); n > 0 && w.Attempts[n-1].Accept.Server != l.Server {
				j.fail(w.End.T, "%s connected to %s, but the last attempt the servers saw was on %s", w, l.Server, w.Attempts[n-1].Accept.Server)
			}
			j.measureMs(fmt.Sprintf("%s: connected to %s", w, l.Server), w.End.T-w.Start.T,
				fmt.Sprintf("client CONNECTED_ACTIVE (matched to server %s session.create %s) − harness connect op", l.Create.Server, l.Create.Conn), "")
		} else {
			// Closed: the list must have been exhausted, every attempt bounded.
			tried := map[string]bool{}
			for _, s := range append(w.servers(), skipped...) {
				tried[s] = true
			}
			var untried []string
			for _, s := range list {
				if !tried[s] && !v.downAt(s, w.End.T) {
					untried = append(untried, s)
				}
			}
			if len(untried) > 0 {
				j.fail(w.End.T, "%s %s with %s never tried (no server accept, link not down)", w, w.Ending(v), strings.Join(untried, ", "))
			}
			if n := len(w.Attempts); n > 0 {
				gap := w.End.T - prevT
				if b := time.Duration(len(list)-prevIdx)*ct + tol; gap > b {
					j.fail(w.End.T, "%s closed %s after its last attempt (server accept %s): more than %s", w, dur(gap), w.Attempts[n-1].conn(), dur(b))
				}
			}
		}
		if len(skipped) > 0 {
			j.note("passed %s with the link down: refused before any server, so those attempts are client-reported (the link's down record is the evidence)", strings.Join(skipped, ", "))
		}
	}
	if judged == 0 {
		return Fail(v.end, j.ms, "nothing to judge: no first connection cascaded (every client's first attempt succeeded, or none connected)%s", failText(j))
	}
	return j.result(last, "%d cascade(s) followed list order %s, each attempt within connect_timeout %s + %s", judged, strings.Join(list, " → "), dur(ct), dur(tol))
}
