package check

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/scenario"
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
//
// One server at a time: an attempt that begins while the previous one is
// unfinished (no close of it recorded, its connect timeout not run out) is
// a violation, unless the client's effective contract declares the param
// overlap_ms (grpc-go balancer/pickfirst/pickfirst.go
// scheduleNextConnectionLocked: happy eyeballs starts the next address
// 250 ms after the previous one began if that one has not finished) and it
// began at least overlap_ms (less the run's slack) after the previous one.
// A walk that lands on an attempt still open when the next began so is
// judged up to that attempt: the first to answer wins and the later ones
// are abandoned.
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

// ValidateFor implements scenario.ScenarioValidator: check FAILS a scenario
// without cascading outright.
func (c *CascadeOrder) ValidateFor(sc *scenario.Scenario) error {
	if !sc.Client.Failover.Cascading {
		return errors.New("it judges cascading, and client.failover.cascading is off")
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
		overlaps := c.overlaps(v, &j, w, v.client().contract(w.Client, w.Until(v)))
		o := v.walks().orderRule(judgedWalk(w, overlaps), list)
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

// overlap is attempt K of a walk begun while attempt K−1 was unfinished.
type overlap struct {
	K       int
	Gap     time.Duration // from attempt K−1's start to attempt K's
	Allowed bool          // at least overlap_ms − slack after it, with the param declared
}

// unfinished reports whether attempt a was still open at t as the evidence
// shows: its connect timeout not yet run out (an attempt held by a
// blackhole leaves no close: the client gives up on it after the timeout,
// gaveUpSlack short of it on a loaded machine), and either its close
// recorded only after t (+ the run's slack: its records and the next
// attempt's are different observers' stamps) or none recorded while no
// fault that ends connections at once (reset, cut, down, limit) was in
// force on its link: a server that records no close of a reset attempt
// must not make a sequential client look like an overlapping one. Where the
// records leave it open, it leans to "finished".
func (v *walkView) unfinished(a attempt, t time.Duration) bool {
	ct := v.connectTimeout()
	if t >= a.at()+ct-v.gaveUpSlack(ct) {
		return false
	}
	if a.Close != nil {
		return a.Close.T > t+v.slack
	}
	for _, verb := range []string{VerbReset, VerbCut, VerbDown, VerbLimit} {
		if v.faultInForce(a.Accept.Server, verb, a.at()) {
			return false
		}
	}
	return true
}

// overlaps judges the walk's attempts that began while the previous one was
// unfinished: in order when the client's effective contract declares
// overlap_ms (grpc-go pick_first's happy eyeballs: the next address is
// started once the previous one has been connecting that long), and the
// attempt began at least overlap_ms − the run's slack after the previous
// one; a violation otherwise (C1's cascade tries one server at a time).
func (c *CascadeOrder) overlaps(v *view, j *judge, w srvWalk, ct *Contract) []overlap {
	if !w.Attributed {
		return nil
	}
	ms, declared := ct.Param(paramOverlap)
	after := time.Duration(ms * float64(time.Millisecond))
	var out []overlap
	for k := 1; k < len(w.Attempts); k++ {
		prev, a := w.Attempts[k-1], w.Attempts[k]
		if !v.walks().unfinished(prev, a.at()) {
			continue
		}
		o := overlap{K: k, Gap: a.at() - prev.at()}
		o.Allowed = declared && o.Gap >= after-v.slack
		out = append(out, o)
		open := "no close of it recorded by then, its connect timeout " + dur(v.connectTimeout()) + " not run out"
		if prev.Close != nil {
			open = fmt.Sprintf("its server close came at %s", dur(prev.Close.T))
		}
		what := fmt.Sprintf("%s attempt %d on %s (%s at %s) began %s after attempt %d on %s (%s at %s), which had not finished (%s)",
			w, k, a.Accept.Server, acceptWhat(a), dur(a.at()), dur(o.Gap), k-1, prev.Accept.Server, acceptWhat(prev), dur(prev.at()), open)
		j.measureMs(fmt.Sprintf("%s attempt %d began after attempt %d", w, k, k-1), o.Gap,
			fmt.Sprintf("%s − %s, attempt %d still open", acceptWhat(a), acceptWhat(prev), k-1),
			fmt.Sprintf("≥ overlap_ms %s − slack %s (contract param %s; undeclared: no overlap)", dur(after), dur(v.slack), paramOverlap))
		switch {
		case o.Allowed:
			j.note("%s: an overlap its contract allows (%s %g: the next address once the previous one has been connecting that long)", what, paramOverlap, ms)
		case declared:
			j.fail(a.at(), "%s: sooner than the contract's %s %g allows (≥ %s with the slack)", what, paramOverlap, ms, dur(after-v.slack))
		default:
			j.fail(a.at(), "%s: two attempts at once, and the client's effective contract declares no %s (%s)", what, paramOverlap, ct.Says(termFirstConnect))
		}
	}
	return out
}

// judgedWalk is w as the order rule judges it: a walk that landed on an
// attempt still open when the next one began under an allowed overlap (the
// first to answer wins; grpc-go pick_first shuts the others down:
// shutdownRemainingLocked) ends at that attempt, the later ones abandoned.
func judgedWalk(w srvWalk, ovs []overlap) srvWalk {
	if !w.Landed() || len(ovs) == 0 {
		return w
	}
	n := len(w.Attempts)
	land := -1
	for k := n - 1; k >= 0; k-- {
		if w.Attempts[k].Accept.Server == w.End.Server {
			land = k
			break
		}
	}
	if land < 0 || land == n-1 {
		return w
	}
	// The attempt after the landing one began while it was open, as
	// allowed; those after that followed on (at once past a failure, or
	// overlapping again) while it still was.
	for _, o := range ovs {
		if o.K == land+1 && o.Allowed {
			w.Attempts = w.Attempts[:land+1]
			return w
		}
	}
	return w
}
