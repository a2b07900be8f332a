package check

import (
	"fmt"
	"github.com/faultline/faultline/harness/scenario"
	"sort"
	"strings"
	"time"
)

// Defaults of jitter_distribution.
const (
	DefaultJitterTolerance    = 15 * time.Millisecond
	DefaultJitterTolerancePct = 2.0
	DefaultJitterMaxFalseFail = 1e-4
	DefaultJitterMinSamples   = 8
)

func init() {
	Register(Spec{Name: "jitter_distribution", Judges: []string{"R2"}, New: func() Checker { return &JitterDistribution{} }})
}

// JitterDistribution judges R2's jitter: the strategy scales each delay by a
// factor f uniform in [1−jitter, 1], so u = (f − (1−jitter))/jitter is
// Uniform(0, 1) and independent from delay to delay. backoff_schedule only
// checks that each delay lies in the band, which an engine ignoring jitter
// passes; this check tests the distribution.
//
// A sample is the delay before attempt k ≥ 1 of an outage: the attempt's
// link accept (its server accept where the link recorded none) minus the end
// of attempt k−1 as the servers saw it (its conn.close), divided by
// Delay(k). Attempt 0 is left out: its origin is client-reported. Each
// measured delay may be off by its tolerance (absolute + percent of Delay(k),
// plus any machine stall inside it and the run's evidence lag), i.e. u by
// δ = tolerance/(jitter·Delay(k)).
//
// The test is Kolmogorov–Smirnov against Uniform(0, 1) on the band-widened
// statistic (KSBand): the smallest D the samples reach when each may move
// within its δ toward the uniform. With every error within its tolerance it
// is at most the true factors' D, so an honest engine FAILS with probability
// at most P(D_n ≥ threshold) = the reported false-FAIL probability, ≤
// max_false_fail (exact two-sided tail for D ≥ 1/2: KSSF). Measurement error
// within the tolerance can never cause a false FAIL; it only costs power.
//
// Power: an engine ignoring jitter (or adding it on top, f ≥ 1) puts every
// u at 1 + e or above, e its measurement error in units of u (≥ 0 but for
// stamp skew: its timers fire late, its connects take time), so D ≥ 1 − max δ
// + min e. With n = 8 samples and max_false_fail 1e-4 the threshold is
// 0.720: such an engine is FAILED with certainty whenever δ − e < 0.28 (at
// jitter 0.5 and the default tolerance, δ < 0.28 is any Delay above 125ms),
// and an honest engine's 8 samples look that bad with probability
// KSSF(8, 1 − δ + e) (< 1e-6 for δ − e ≤ 0.16; jitter_distribution_test.go
// proves both for Delay 300ms and errors from −2ms to +21ms).
// When the tolerances are so wide that even an engine ignoring jitter would
// pass, the check proves nothing and says UNKNOWN.
type JitterDistribution struct {
	// Tolerance is the absolute error allowed on each measured delay
	// (default 15ms).
	Tolerance *time.Duration `yaml:"tolerance"`
	// TolerancePct adds this percentage of Delay(k) (default 2).
	TolerancePct *float64 `yaml:"tolerance_pct"`
	// MaxFalseFail bounds the probability that an honest engine FAILS
	// (default 1e-4): it sets the test's threshold.
	MaxFalseFail *float64 `yaml:"max_false_fail"`
	// MinSamples is how many measured delays the test needs (default 8);
	// fewer is UNKNOWN.
	MinSamples *int `yaml:"min_samples"`
}

// Validate checks the parameters.
func (c *JitterDistribution) Validate() error {
	if err := nonNegative("tolerance", or(c.Tolerance, 0)); err != nil {
		return err
	}
	if p := or(c.TolerancePct, 0); p < 0 {
		return fmt.Errorf("tolerance_pct must not be negative (got %g)", p)
	}
	if a := or(c.MaxFalseFail, DefaultJitterMaxFalseFail); !(a > 0 && a <= 0.5) {
		return fmt.Errorf("max_false_fail must be in (0, 0.5] (got %g)", a)
	}
	if n := or(c.MinSamples, DefaultJitterMinSamples); n < 2 {
		return fmt.Errorf("min_samples must be at least 2 (got %d)", n)
	}
	return nil
}

// NeedsOneClient implements OneClient: delays are measured from server-side
// accepts, which cannot be attributed to one of several clients.
func (c *JitterDistribution) NeedsOneClient() string { return oneClientWhy }

// jitterSample is one measured delay and its factor.
type jitterSample struct {
	Outage   outage
	K        int
	At       time.Duration // the attempt's link (else server) accept
	AtWhat   string
	Origin   time.Duration // the end of attempt K−1
	From     string
	Measured time.Duration
	Expected time.Duration // Delay(K)
	Tol      time.Duration // tolerance + stall + evidence lag
	Stall    time.Duration
	F, U     float64 // Measured/Expected; (F − (1−j))/j
	Delta    float64 // Tol in units of u
}

// ValidateFor implements scenario.ScenarioValidator: without jitter there is
// no distribution to test.
func (c *JitterDistribution) ValidateFor(sc *scenario.Scenario) error {
	if sc.Client.Reconnect.Strategy.Jitter <= 0 {
		return fmt.Errorf("the client declares no jitter (client.reconnect.strategy.jitter is 0): jitter_distribution tests the delays' factors against Uniform[1−jitter, 1]")
	}
	return nil
}

// Check implements Checker.
func (c *JitterDistribution) Check(in Input) Result { return onView(in, c, c.check) }

func (c *JitterDistribution) check(v *view) Result {
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	st := v.sc.Client.Reconnect.Strategy
	jit := st.Jitter
	if jit <= 0 {
		return Inconclusive(0, nil, "nothing to judge: the scenario declares no jitter (client.reconnect.strategy.jitter 0), and jitter_distribution tests the delays' factors against Uniform[1−jitter, 1]")
	}
	var outs []outage
	for _, cl := range v.clients {
		outs = append(outs, v.outages().of(cl)...)
	}
	if len(outs) == 0 {
		return Inconclusive(v.end, nil, "nothing to judge: the client never entered RECOVERING_RECONNECT (no outage)")
	}
	abs, pct := or(c.Tolerance, DefaultJitterTolerance), or(c.TolerancePct, DefaultJitterTolerancePct)
	var j judge
	var ss []jitterSample
	skipped := 0
	var plan *passPlan // the first per-pass plan (nil: every delay is a sample)
	for _, o := range outs {
		atts := o.Attempts(v)
		// A per-pass contract sleeps only before the attempt that wraps
		// round the pool (passes.go): only those delays are samples.
		pp, perPass := v.outages().passPlanOf(o)
		pass := 0
		if perPass && len(atts) > 0 && pp.sleeps(0, atts[0].Accept.Server) {
			pass = 1
		}
		if perPass && plan == nil {
			plan = &pp
		}
		for k := 1; k < len(atts); k++ {
			prev, a := atts[k-1], atts[k]
			expected := st.Delay(k)
			if perPass {
				if !pp.sleeps(k, a.Accept.Server) {
					continue
				}
				pass++
				expected = pp.Delay(pass)
			}
			end, from := v.outages().attemptEnd(prev, a.Accept.T)
			if end == prev.Accept.T && (prev.Close == nil || prev.Close.T > a.Accept.T) {
				skipped++ // when attempt k−1 ended is not known
				continue
			}
			s := jitterSample{Outage: o, K: k, At: a.at(), Origin: end, From: from, Expected: expected}
			if s.Expected <= 0 {
				continue
			}
			s.AtWhat = "server accept " + a.conn()
			if a.Link != nil {
				s.AtWhat = "link accept of " + a.conn()
			}
			s.Measured = s.At - s.Origin
			s.Stall = v.stalled(s.Origin, s.At)
			// + the run's evidence lag: streamed server stamps may each be
			// up to lag late, so their difference is off by up to lag.
			s.Tol = abs + time.Duration(float64(s.Expected)*pct/100) + s.Stall + v.lag
			s.F = float64(s.Measured) / float64(s.Expected)
			s.U = (s.F - (1 - jit)) / jit
			s.Delta = float64(s.Tol) / (jit * float64(s.Expected))
			ss = append(ss, s)
		}
	}
	if skipped > 0 {
		j.note("%d delay(s) left out: the previous attempt's close was not recorded", skipped)
	}
	if plan != nil {
		j.note("samples are the sleeps before the attempts that wrap round the pool, %s", plan.Says())
	}
	c.measureSamples(&j, ss, jit, v.lag)
	n, last := len(ss), time.Duration(0)
	for _, s := range ss {
		last = max(last, s.At)
	}
	if minN := or(c.MinSamples, DefaultJitterMinSamples); n < minN {
		return j.inconclusive(v.end, "nothing to judge: %d delay(s) between attempts measured, fewer than min_samples %d (attempt 0 of each outage is not a sample; a `down` link hides attempts from the servers: use cut, reset or blackhole)", n, minN)
	}
	alpha := or(c.MaxFalseFail, DefaultJitterMaxFalseFail)
	lo, hi := make([]float64, n), make([]float64, n)
	ilo, ihi := make([]float64, n), make([]float64, n)
	for i, s := range ss {
		lo[i], hi[i] = s.U-s.Delta, s.U+s.Delta
		ilo[i], ihi[i] = 1-s.Delta, 1+s.Delta // the same delays with jitter ignored
	}
	d, plus, minus := KSBand(lo, hi)
	dIgnored, _, _ := KSBand(ilo, ihi)
	crit := KSCritical(n, alpha)
	p, pIgnored, falseFail := KSSF(n, d), KSSF(n, dIgnored), KSSF(n, crit)
	band := fmt.Sprintf("Uniform[%g, 1] (jitter %g)", 1-jit, jit)
	j.measure("KS statistic", d, "", fmt.Sprintf("distance of the factors' empirical CDF from %s, each factor moved within its tolerance toward it (D⁺ %.3f, D⁻ %.3f)", band, plus, minus), fmt.Sprintf("< threshold %.3f", crit))
	j.measure("threshold", crit, "", fmt.Sprintf("smallest D with P(D_%d ≥ D) ≤ max_false_fail %g for uniform factors (2 × Birnbaum–Tingey one-sided tail)", n, alpha), "")
	j.measure("false-FAIL probability", falseFail, "", fmt.Sprintf("P(D_%d ≥ threshold) for an honest engine; measurement error within the tolerances only lowers D", n), fmt.Sprintf("≤ max_false_fail %g", alpha))
	j.measure("p-value", p, "", fmt.Sprintf("P(D_%d ≥ the statistic) for an honest engine (exact two-sided tail above 1/2, an upper bound below)", n), fmt.Sprintf("> %.3g", falseFail))
	j.measure("p-value if jitter were ignored", pIgnored, "", fmt.Sprintf("the same test on these delays all at Delay(k) (D %.3f): the test's power against an engine that ignores jitter", dIgnored), fmt.Sprintf("≤ %g (else the tolerances swamp the jitter)", alpha))
	summary := fmt.Sprintf("%d factor(s) %s; KS D %.3f (tolerance-widened), threshold %.3f for false-FAIL ≤ %g", n, factorRange(ss), d, crit, alpha)
	switch {
	case d >= crit:
		j.fail(last, "jitter is not %s: %s; an honest engine's factors lie this far from uniform with probability %.3g%s", band, summary, p, jitterHint(ss, jit))
	case pIgnored > alpha:
		j.unknown(last, "the tolerances swamp the jitter: %s, but the same delays with jitter ignored would pass too (p %.3g > %g): use longer delays, more attempts or a tighter tolerance", summary, pIgnored, alpha)
	}
	return j.result(last, "jitter follows %s: %s (p %.3g; an engine ignoring jitter would score p %.3g)", band, summary, p, pIgnored)
}

// measureSamples records the sample count and the first factors.
func (c *JitterDistribution) measureSamples(j *judge, ss []jitterSample, jit float64, lag time.Duration) {
	j.count("samples", len(ss), "delays before attempts k ≥ 1 of each outage: link accept (else server accept) − the previous attempt's server conn.close")
	for i, s := range ss {
		if i == maxSlotMeasurements {
			break
		}
		tolF := float64(s.Tol) / float64(s.Expected)
		j.measure(fmt.Sprintf("outage %d attempt %d factor", s.Outage.N, s.K), s.F, "",
			fmt.Sprintf("(%s at %s − %s at %s) / Delay(%d) %s = %s / %s", s.AtWhat, dur(s.At), s.From, dur(s.Origin), s.K, dur(s.Expected), dur(s.Measured), dur(s.Expected)),
			fmt.Sprintf("uniform in [%g, 1] ± %.3f (tolerance %s%s%s)", 1-jit, tolF, dur(s.Tol-s.Stall-lag), stallNote(s.Stall), lagNote(lag)))
		j.ms[len(j.ms)-1].Bounds = &Bounds{Expected: 1 - jit/2, Lo: 1 - jit - tolF, Hi: 1 + tolF}
	}
}

// lagNote is the text added to a tolerance widened by the evidence lag.
func lagNote(lag time.Duration) string {
	if lag <= 0 {
		return ""
	}
	return fmt.Sprintf(" + evidence lag %s (server events streamed from another process)", dur(lag))
}

// factorRange describes the factors: their range and mean, and up to
// maxSlotMeasurements of them sorted.
func factorRange(ss []jitterSample) string {
	fs := make([]float64, len(ss))
	sum := 0.0
	for i, s := range ss {
		fs[i] = s.F
		sum += s.F
	}
	sort.Float64s(fs)
	var parts []string
	for i, f := range fs {
		if i == maxSlotMeasurements {
			parts = append(parts, fmt.Sprintf("… %d more", len(fs)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%.3f", f))
	}
	return fmt.Sprintf("in [%.3f, %.3f], mean %.3f (%s)", fs[0], fs[len(fs)-1], sum/float64(len(fs)), strings.Join(parts, " "))
}

// jitterHint guesses what a failing engine does, from where its factors sit.
func jitterHint(ss []jitterSample, jit float64) string {
	above, low := 0, 0
	for _, s := range ss {
		if s.U >= 1-s.Delta {
			above++
		}
		if s.U < -s.Delta {
			low++
		}
	}
	switch {
	case above == len(ss):
		return " (every delay at Delay(k) or above: jitter ignored, or added on top?)"
	case low > 0:
		return fmt.Sprintf(" (%d delay(s) below (1−%g)·Delay(k): jitter wider than declared?)", low, jit)
	}
	return ""
}
