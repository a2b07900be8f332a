package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/scenario"
)

// Schedule tolerance defaults (backoff_schedule, strategy_reset).
const (
	DefaultScheduleTolerance    = 30 * time.Millisecond
	DefaultScheduleTolerancePct = 10.0
)

// tolerances is how far a measured delay may stray from the strategy's:
// within [(1−jitter)·d − tol, d + tol] with tol = abs + pct% of d.
type tolerances struct {
	Abs    time.Duration
	Pct    float64
	Jitter float64
}

// tolerancesOf is a schedule's tolerances from a check's parameters: nil
// is the default, an explicit 0 is zero.
func tolerancesOf(abs *time.Duration, pct *float64, st scenario.Strategy) tolerances {
	return tolerances{Abs: or(abs, DefaultScheduleTolerance), Pct: or(pct, DefaultScheduleTolerancePct), Jitter: st.Jitter}
}

func (t tolerances) tol(d time.Duration) time.Duration {
	return t.Abs + time.Duration(float64(d)*t.Pct/100)
}

func (t tolerances) band(d time.Duration) (lo, hi time.Duration) {
	tol := t.tol(d)
	return time.Duration(float64(d)*(1-t.Jitter)) - tol, d + tol
}

// deviation is how far m lies outside the nominal band [(1−jitter)·d, d]
// (0 inside it).
func (t tolerances) deviation(m, d time.Duration) time.Duration {
	lo := time.Duration(float64(d) * (1 - t.Jitter))
	switch {
	case m < lo:
		return lo - m
	case m > d:
		return m - d
	}
	return 0
}

func (t tolerances) describe(d time.Duration) string {
	s := fmt.Sprintf("tolerance %s + %g%% of %s", dur(t.Abs), t.Pct, dur(d))
	if t.Jitter > 0 {
		s += fmt.Sprintf(", jitter %g", t.Jitter)
	}
	return s
}

// slot is one attempt of an outage judged against the strategy.
type slot struct {
	Outage     outage
	K          int
	Attempt    attempt
	Origin     time.Duration // what the delay is measured from
	OriginWhat string
	Measured   time.Duration
	Expected   time.Duration // Delay(K)
	Lo, Hi     time.Duration
	Stall      time.Duration // machine stall inside [Origin, accept], added to both ends of the band
	Dev        time.Duration
	OK         bool
	// Per pass (passes.go): the attempt's pass, whether a sleep precedes
	// it, and the tolerances it was judged with.
	PerPass bool
	Pass    int
	Sleeps  bool
	tol     tolerances
}

// Evidence names the subtraction the slot's measurement rests on.
func (s slot) Evidence() string {
	if s.K == 0 {
		return fmt.Sprintf("server accept %s − client RECOVERING_RECONNECT (origin client-reported)", s.Attempt.conn())
	}
	return fmt.Sprintf("server accept %s − %s", s.Attempt.conn(), s.OriginWhat)
}

// ExpectedText is the slot's expectation for a measurement.
func (s slot) ExpectedText() string {
	if s.PerPass {
		return s.passExpected() + stallNote(s.Stall)
	}
	return fmt.Sprintf("Delay(%d) %s within [%s, %s]%s", s.K, dur(s.Expected), dur(s.Lo), dur(s.Hi), stallNote(s.Stall))
}

// Bounds is the slot's expectation as numbers (ms), for reports.
func (s slot) Bounds() *Bounds {
	return &Bounds{Expected: Ms(s.Expected), Lo: Ms(s.Lo), Hi: Ms(s.Hi)}
}

// Detail explains a slot that missed its band.
func (s slot) Detail() string {
	t := s.tol
	if s.PerPass {
		return fmt.Sprintf("%s attempt %d (server accept %s on %s at %s) came %s after %s at %s; expected %s (%s%s)",
			s.Outage, s.K, s.Attempt.conn(), s.Attempt.Accept.Server, dur(s.Attempt.Accept.T), dur(s.Measured),
			s.OriginWhat, dur(s.Origin), s.passExpected(), t.describe(s.Expected), stallNote(s.Stall))
	}
	return fmt.Sprintf("%s attempt %d (server accept %s on %s at %s) came %s after %s at %s; expected Delay(%d) %s within [%s, %s] (%s%s)",
		s.Outage, s.K, s.Attempt.conn(), s.Attempt.Accept.Server, dur(s.Attempt.Accept.T), dur(s.Measured),
		s.OriginWhat, dur(s.Origin), s.K, dur(s.Expected), dur(s.Lo), dur(s.Hi), t.describe(s.Expected), stallNote(s.Stall))
}

// schedule judges an outage's attempts against the back-off its client was
// to follow: per pass over the server list when its effective contract says
// so (passes.go, pp set), else per attempt against delaysOf (d).
func (v *outageView) schedule(o outage, atts []attempt, t tolerances) (slots []slot, d delays, pp *passPlan) {
	d = v.delaysOf(o)
	if plan, ok := v.passPlanOf(o); ok {
		return v.judgePasses(o, atts, plan, t), d, &plan
	}
	return v.judgeOutage(o, atts, d, t), d, nil
}

// expectedBand is a slot's expectation in a detail: Delay(k) and its band,
// or its pass's.
func (s slot) expectedBand() string {
	if s.PerPass {
		return s.passExpected()
	}
	return fmt.Sprintf("Delay(%d) %s within [%s, %s]", s.K, dur(s.Expected), dur(s.Lo), dur(s.Hi))
}

// judgeOutage compares an outage's attempts with the strategy: attempt 0 is
// measured from the client's RECOVERING_RECONNECT (client-reported), attempt
// k ≥ 1 from the end of attempt k−1 as the servers saw it (attemptEnd).
func (v *outageView) judgeOutage(o outage, atts []attempt, d delays, t tolerances) []slot {
	var out []slot
	t.Jitter = d.Jitter
	for k, a := range atts {
		s := slot{Outage: o, K: k, Attempt: a, Expected: d.Delay(k), tol: t}
		v.measure(&s, atts, t)
		out = append(out, s)
	}
	return out
}

// measure fills a slot whose attempt, index and expected delay are set: its
// origin (attempt 0 from the client's RECOVERING_RECONNECT, attempt k ≥ 1
// from the end of attempt k−1 as the servers saw it), the measured delay,
// its band widened by the stall, the deviation and the verdict. The
// per-attempt and the per-pass schedules (passes.go) share it.
func (v *outageView) measure(s *slot, atts []attempt, t tolerances) {
	k, a := s.K, s.Attempt
	if k == 0 {
		s.Origin, s.OriginWhat = s.Outage.Start.T, "client RECOVERING_RECONNECT (client-reported)"
	} else {
		s.Origin, s.OriginWhat = v.attemptEnd(atts[k-1], a.Accept.T)
	}
	s.Measured = a.Accept.T - s.Origin
	s.Lo, s.Hi = t.band(s.Expected)
	s.Stall = v.stalled(s.Origin, a.Accept.T)
	s.Lo, s.Hi = s.Lo-s.Stall, s.Hi+s.Stall
	s.Dev = t.deviation(s.Measured, s.Expected)
	s.OK = s.Measured >= s.Lo && s.Measured <= s.Hi
}

// nextDue is when the strategy's next attempt after heal was due in outage o:
// after the last attempt k that failed before heal, at end_k + Delay(k+1);
// with none yet, at the outage start + Delay(0). Under a `down` fault the
// servers see no attempt, so the due time is computed from the client-reported
// start with refused attempts failing at once. It returns the due time and
// how it was derived.
func (v *outageView) nextDue(o outage, heal time.Duration, verb string) (time.Duration, string) {
	d := v.delaysOf(o)
	if verb == VerbDown {
		due, k := o.Start.T+d.Delay(0), 0
		for due < heal && d.Delay(k+1) > 0 {
			k++
			due += d.Delay(k)
		}
		return due, fmt.Sprintf("attempt %d due at %s: client RECOVERING_RECONNECT %s + Delay(0..%d), refused attempts are invisible to the servers (client-reported origin)", k, dur(due), dur(o.Start.T), k)
	}
	all := o.Attempts(v.view)
	var before []attempt
	next := o.Until(v.view)
	for _, a := range all {
		if a.Accept.T < heal && a.Served == nil {
			before = append(before, a)
			continue
		}
		if a.Accept.T >= heal || a.Served != nil {
			next = a.Accept.T
			break
		}
	}
	if len(before) == 0 {
		due := o.Start.T + d.Delay(0)
		return due, fmt.Sprintf("attempt 0 due at %s: client RECOVERING_RECONNECT %s + Delay(0) %s (client-reported origin)", dur(due), dur(o.Start.T), dur(d.Delay(0)))
	}
	k := len(before) - 1
	end, what := v.attemptEnd(before[k], next)
	due := end + d.Delay(k+1)
	return due, fmt.Sprintf("attempt %d due at %s: %s at %s + Delay(%d) %s", k+1, dur(due), what, dur(end), k+1, dur(d.Delay(k+1)))
}
