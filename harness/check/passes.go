package check

import (
	"fmt"
	"time"
)

// Per-pass schedules: a library whose effective contract says
// delay_applies: per_pass (nats.go) does not sleep before every attempt but
// once per pass over its pool of servers. nats.go's doReconnect() computes
// doSleep = i+1 >= len(srvPool) before each attempt and resets i after the
// sleep: with a pool of N servers the first N−1 attempts after the loss go
// to the next servers at once (first_attempt: immediate), and the sleep comes
// before every N-th attempt, the one that wraps round the pool (to the lost
// server, which selectNextServer() moved to its end: failover: next). Pass 0
// is the attempts before the first sleep; pass p ≥ 1 starts with the p-th
// sleep; with failover: next the sleep falls before each attempt on the
// lost server. With one server every attempt is a pass of its own, after its sleep:
// the per-attempt schedule.

// passPlan is how a per-pass contract schedules one outage's attempts.
type passPlan struct {
	Ct     *Contract
	N      int                       // servers in the pool
	Delay  func(p int) time.Duration // the sleep before pass p ≥ 1 (its upper bound with jitter)
	Jitter float64                   // the sleep lies in [(1−Jitter)·Delay(p), Delay(p)]
	From   string                    // where Delay comes from
	Lost   string                    // the lost server, last in the pool (failover: next); "": unknown
	// Immediate: first_attempt immediate without a known lost server (e.g.
	// failover: top): the first pass starts at once, a sleep between passes.
	Immediate bool
}

// passPlanOf is the per-pass plan of outage o when its client's effective
// contract says delay_applies: per_pass (false: judge per attempt).
func (v *outageView) passPlanOf(o outage) (passPlan, bool) {
	ct := v.cv.contract(o.Client, o.Start.T)
	if ct.Value(termDelayApplies) != "per_pass" {
		return passPlan{}, false
	}
	pp := passPlan{Ct: ct, N: max(len(v.sc.Client.Servers), 1)}
	if ct.Value(termFailover) == "next" {
		pp.Lost = o.Server(v.view)
	}
	pp.Immediate = pp.Lost == "" && ct.Value(termFirstAttempt) == "immediate"
	if sleep, jit, from, ok := sleepsOf(ct); ok {
		pp.Delay = func(p int) time.Duration { return sleep(p - 1) }
		pp.Jitter, pp.From = jit, from+"; pass p sleeps sleep p−1"
	} else {
		st := v.sc.Client.Reconnect.Strategy
		pp.Delay = func(p int) time.Duration { return st.Delay(p - 1) }
		pp.Jitter = st.Jitter
		pp.From = "the scenario's strategy (the contract gives no params): pass p sleeps Delay(p−1)"
	}
	return pp, true
}

// Says is the plan's contract terms and numbers, for details and measurements.
func (pp passPlan) Says() string {
	wrap := fmt.Sprintf("a sleep before every %d-th attempt", pp.N)
	if pp.Lost != "" {
		wrap = fmt.Sprintf("a sleep before each attempt on the lost server %s, last in the pool", pp.Lost)
	}
	return fmt.Sprintf("judged per pass over a pool of %d server(s) (%s, the others at once), as the client's effective contract says: %s; %s; %s; %s",
		pp.N, wrap, pp.Ct.Says(termDelayApplies), pp.Ct.Says(termFirstAttempt), pp.Ct.Says(termFailover), pp.From)
}

// sleeps reports whether a sleep precedes attempt k (on server srv): with
// failover: next the pool's last server is the lost one, so doSleep
// (i+1 >= N) falls before each attempt on it, which stays true when an
// attempt elsewhere in a pass never reached its server; without it, before
// every N-th attempt.
func (pp passPlan) sleeps(k int, srv string) bool {
	if pp.Lost != "" {
		return srv == pp.Lost
	}
	if pp.Immediate { // each pass walks the list at once; the sleep comes between passes
		return k > 0 && k%pp.N == 0
	}
	return (k+1)%pp.N == 0
}

// judgePasses compares an outage's attempts with a per-pass plan: an attempt
// that wraps round the pool is due the pass's sleep after the previous
// attempt ended (attempt 0 after the client's RECOVERING_RECONNECT), every
// other attempt at once (within the tolerance).
func (v *outageView) judgePasses(o outage, atts []attempt, pp passPlan, t tolerances) []slot {
	var out []slot
	p := 0
	for k, a := range atts {
		sleeps := pp.sleeps(k, a.Accept.Server)
		if sleeps {
			p++
		}
		s := slot{Outage: o, K: k, Attempt: a, PerPass: true, Pass: p, Sleeps: sleeps}
		tt := t
		tt.Jitter = 0
		if sleeps {
			s.Expected = pp.Delay(p)
			tt.Jitter = pp.Jitter
		}
		v.measure(&s, atts, tt) // schedule.go
		s.tol = tt
		out = append(out, s)
	}
	return out
}

// passExpected is a per-pass slot's expectation.
func (s slot) passExpected() string {
	if s.Sleeps {
		return fmt.Sprintf("pass %d's sleep %s within [%s, %s]", s.Pass, dur(s.Expected), dur(s.Lo), dur(s.Hi))
	}
	return fmt.Sprintf("at once within pass %d (no sleep before it) within [%s, %s]", s.Pass, dur(s.Lo), dur(s.Hi))
}
