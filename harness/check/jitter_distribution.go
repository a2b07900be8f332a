package check

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/scenario"
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

// JitterDistribution judges R2's jitter: each wait before an attempt is
// drawn uniformly from its law's band [Lo, Hi], independently from wait to
// wait, so u = (wait − Lo)/(Hi − Lo) is Uniform(0, 1). backoff_schedule only
// checks that each delay lies in the band, which an engine ignoring jitter
// passes; this check tests the distribution.
//
// The law is the client's effective contract's when it gives back-off
// params (the same numbers backoff_schedule judges by: delaysOf, and per
// pass passPlanOf), else the scenario's strategy. Around the nominal delay d
// (min(initial·multiplier^n, max)) the contract's jitter term says: `below`
// (faultline's own model) d·U[1−j, 1]; `symmetric` d·U[1−j, 1+j] (grpc-go
// internal/backoff Exponential.Backoff); `added` d·U[1, 1+j], or with
// reconnect_wait_ms w + U[0, jitter_ms) (nats.go). Every one is uniform on
// its band, so u is Uniform(0, 1) under each contract's law.
//
// A sample is the delay before attempt k ≥ 1 of an outage: the attempt's
// link accept (its server accept where the link recorded none) minus the end
// of attempt k−1 as the servers saw it (its conn.close). Attempt 0 is left
// out: its origin is client-reported. A wait the contract draws without
// jitter (param first_wait_exact: true, grpc-go's Backoff(0) = BaseDelay;
// with first_attempt: immediate that is the wait before attempt 1) is not a
// uniform sample: it is left out of the distribution and checked instead as
// exact, d within its tolerance (FAILED outside). Each measured delay may be
// off by its tolerance (absolute + percent of Hi, plus any machine stall
// inside it and the run's evidence lag), i.e. u by δ = tolerance/(Hi − Lo).
//
// The test is Kolmogorov–Smirnov against Uniform(0, 1) on the band-widened
// statistic (KSBand): the smallest D the samples reach when each may move
// within its δ toward the uniform. With every error within its tolerance
// each true u lies in [u − δ, u + δ], so KSBand is at most the true u's D,
// and an honest engine FAILS with probability at most P(D_n ≥ threshold) =
// the reported false-FAIL probability, ≤ max_false_fail (exact two-sided
// tail for D ≥ 1/2: KSSF). This holds for every law above, since only the
// uniformity of u on [0, 1] is used. Measurement error within the tolerance
// can never cause a false FAIL; it only costs power.
//
// Power: an engine ignoring jitter puts every u at the nominal's place in
// the band (1 for below, ½ for symmetric, 0 for added) give or take e, its
// measurement error in units of u; one adding jitter on top where the law
// takes it off puts every u at 1 + e or above, so D ≥ 1 − max δ + min e.
// With n = 8 samples and max_false_fail 1e-4 the threshold is 0.720: such an
// engine is FAILED with certainty whenever δ − e < 0.28 (at jitter 0.5 and
// the default tolerance, δ < 0.28 is any Delay above 125ms), and an honest
// engine's 8 samples look that bad with probability KSSF(8, 1 − δ + e) (<
// 1e-6 for δ − e ≤ 0.16; jitter_distribution_test.go proves both for Delay
// 300ms and errors from −2ms to +21ms). Under a symmetric law the faults it
// must see lie half a band away (no jitter: every u at ½; jitter below or
// added only: every u in one half), so D ≥ ½ − δ: that takes more samples
// (30 at δ 0.1 and the default max_false_fail, threshold 0.395;
// jitter_distribution_test.go FAILS each of the three in 400 of 400 draws
// of 40 waits at grpc-go's jitter 0.2, δ ≤ 0.08).
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

// jitterSample is one measured delay and its place in its law's band.
type jitterSample struct {
	Outage   outage
	K        int
	At       time.Duration // the attempt's link (else server) accept
	AtWhat   string
	Origin   time.Duration // the end of attempt K−1
	From     string
	Measured time.Duration
	Expected time.Duration // Delay(K): the band's upper end Hi
	Nominal  time.Duration // the un-jittered delay d the factor is taken of
	Lo       time.Duration // the band's lower end: the wait is uniform in [Lo, Expected]
	Law      string        // the law, for details: "Uniform[0.8, 1.2] (jitter symmetric 0.2, …)"
	FLo, FHi float64       // the band as factors of Nominal
	Tol      time.Duration // tolerance + stall + evidence lag
	Stall    time.Duration
	F, U     float64 // Measured/Nominal; (Measured − Lo)/(Expected − Lo)
	Delta    float64 // Tol in units of u
	UNominal float64 // where a wait of exactly Nominal lies in u (jitter ignored)
	Exact    bool    // a wait drawn without jitter: checked as exact, not a sample
}

// ValidateFor implements scenario.ScenarioValidator: without jitter there is
// no distribution to test.
func (c *JitterDistribution) ValidateFor(sc *scenario.Scenario) error {
	if sc.Client.Reconnect.Strategy.Jitter <= 0 {
		return fmt.Errorf("the client declares no jitter (client.reconnect.strategy.jitter is 0): jitter_distribution tests the delays' factors against their uniform law")
	}
	return nil
}

// Check implements Checker.
func (c *JitterDistribution) Check(in Input) Result { return onView(in, c, c.check) }

// jitterLaw is the law of one outage's waits: the upper end of the wait
// before attempt k (or pass p), its nominal, its jitter fraction of the band,
// whether it is exact, and how it was derived.
type jitterLaw struct {
	Delay, Nominal func(i int) time.Duration
	Exact          func(i int) bool
	Jitter         float64
	Kind           string
	J              float64 // the fraction as the contract (or strategy) states it
	Contract       bool
}

// describe is the law as factors of the nominal, for details.
func (l jitterLaw) describe(flo, fhi float64) string {
	if !l.Contract { // faultline's own model: Delay(k)·U[1−jitter, 1]
		return fmt.Sprintf("Uniform[%.4g, %.4g] (jitter %g)", flo, fhi, l.J)
	}
	return fmt.Sprintf("Uniform[%.4g, %.4g] (jitter %s %g, the client's effective contract)", flo, fhi, l.Kind, l.J)
}

// lawOf is outage o's law per attempt, or per pass when its contract says
// delay_applies: per_pass (then i is the pass).
func (c *JitterDistribution) lawOf(v *view, o outage) (jitterLaw, passPlan, bool) {
	st := v.sc.Client.Reconnect.Strategy
	ct := v.client().contract(o.Client, o.Start.T)
	l, fromContract := sleepLawOf(ct)
	if pp, perPass := v.outages().passPlanOf(o); perPass {
		law := jitterLaw{Delay: pp.Delay, Jitter: pp.Jitter, Kind: jitterBelow, J: st.Jitter,
			Nominal: func(p int) time.Duration { return st.Delay(p - 1) }, Exact: func(int) bool { return false }}
		if fromContract {
			law.Kind, law.J, law.Contract = l.Kind, l.J, true
			law.Nominal = func(p int) time.Duration { return l.Nominal(p - 1) }
			law.Exact = func(p int) bool { return l.FirstExact && p == 1 }
		}
		return law, pp, true
	}
	d := v.outages().delaysOf(o)
	law := jitterLaw{Delay: d.Delay, Nominal: d.Nominal, Exact: d.Exact, Jitter: d.Jitter, Kind: d.Kind, J: st.Jitter}
	if fromContract {
		law.J, law.Contract = l.J, true
	}
	return law, passPlan{}, false
}

func (c *JitterDistribution) check(v *view) Result {
	if r, ok := v.needOneClient(); !ok {
		return r
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
	var ss, exact []jitterSample
	skipped := 0
	var plan *passPlan // the first per-pass plan (nil: every delay is a sample)
	noJitter := ""     // why an outage's law has no jitter
	for _, o := range outs {
		law, pp, perPass := c.lawOf(v, o)
		if law.Jitter <= 0 {
			noJitter = "the scenario declares no jitter (client.reconnect.strategy.jitter 0)"
			if law.Contract {
				ct := v.client().contract(o.Client, o.Start.T)
				noJitter = "the client's effective contract declares no jitter (" + ct.Says(termJitter) + ")"
				// The scenario asked for jitter and the library can give it
				// (the driver lists no reason it cannot), yet the library
				// runs without: configured against the scenario's intent.
				if asked := v.sc.Client.Reconnect.Strategy.Jitter; asked > 0 && !ct.CannotExpress(optionJitter) {
					j.fail(o.Start.T, "client %d: the scenario asks for jitter %g, but the client's effective contract declares none (%s) and does not list %s among what the library cannot express: the library was configured without the jitter it can give",
						o.Client, asked, ct.Says(termJitter), optionJitter)
				}
			}
			continue
		}
		atts := o.Attempts(v)
		// A per-pass contract sleeps only before the attempt that wraps
		// round the pool (passes.go): only those delays are samples.
		pass := 0
		if perPass && len(atts) > 0 && pp.sleeps(0, atts[0].Accept.Server) {
			pass = 1
		}
		if perPass && plan == nil {
			plan = &pp
		}
		for k := 1; k < len(atts); k++ {
			prev, a := atts[k-1], atts[k]
			i := k
			if perPass {
				if !pp.sleeps(k, a.Accept.Server) {
					continue
				}
				pass++
				i = pass
			}
			end, from := v.outages().attemptEnd(prev, a.Accept.T)
			if end == prev.Accept.T && (prev.Close == nil || prev.Close.T > a.Accept.T) {
				skipped++ // when attempt k−1 ended is not known
				continue
			}
			s := jitterSample{Outage: o, K: k, At: a.at(), Origin: end, From: from, Expected: law.Delay(i), Nominal: law.Nominal(i), Exact: law.Exact(i)}
			if s.Expected <= 0 || s.Nominal <= 0 {
				continue
			}
			s.Lo = time.Duration(float64(s.Expected) * (1 - law.Jitter))
			s.FLo, s.FHi = float64(s.Lo)/float64(s.Nominal), float64(s.Expected)/float64(s.Nominal)
			s.Law = law.describe(s.FLo, s.FHi)
			s.AtWhat = "server accept " + a.conn()
			if a.Link != nil {
				s.AtWhat = "link accept of " + a.conn()
			}
			s.Measured = s.At - s.Origin
			s.Stall = v.stalled(s.Origin, s.At)
			// + the run's evidence lag: streamed server stamps may each be
			// up to lag late, so their difference is off by up to lag.
			s.Tol = abs + time.Duration(float64(s.Expected)*pct/100) + s.Stall + v.lag
			width := float64(s.Expected - s.Lo)
			s.F = float64(s.Measured) / float64(s.Nominal)
			s.U = float64(s.Measured-s.Lo) / width
			s.Delta = float64(s.Tol) / width
			s.UNominal = float64(s.Nominal-s.Lo) / width
			if s.Exact {
				exact = append(exact, s)
				continue
			}
			ss = append(ss, s)
		}
	}
	if j.failed() {
		return j.result(0, "")
	}
	if len(ss) == 0 && len(exact) == 0 && noJitter != "" {
		return j.inconclusive(0, "nothing to judge: %s, and jitter_distribution tests the delays' factors against their uniform law", noJitter)
	}
	if skipped > 0 {
		j.note("%d delay(s) left out: the previous attempt's close was not recorded", skipped)
	}
	if plan != nil {
		j.note("samples are the sleeps before the attempts that wrap round the pool, %s", plan.Says())
	}
	c.judgeExact(&j, exact, v.lag)
	c.measureSamples(&j, ss, v.lag)
	n, last := len(ss), time.Duration(0)
	for _, s := range append(ss, exact...) {
		last = max(last, s.At)
	}
	if minN := or(c.MinSamples, DefaultJitterMinSamples); n < minN {
		return j.inconclusive(v.end, "nothing to judge: %d delay(s) between attempts measured, fewer than min_samples %d (attempt 0 of each outage is not a sample, nor is a wait the contract draws without jitter; a `down` link hides attempts from the servers: use cut, reset or blackhole)", n, minN)
	}
	alpha := or(c.MaxFalseFail, DefaultJitterMaxFalseFail)
	lo, hi := make([]float64, n), make([]float64, n)
	ilo, ihi := make([]float64, n), make([]float64, n)
	for i, s := range ss {
		lo[i], hi[i] = s.U-s.Delta, s.U+s.Delta
		ilo[i], ihi[i] = s.UNominal-s.Delta, s.UNominal+s.Delta // the same delays with jitter ignored
	}
	d, plus, minus := KSBand(lo, hi)
	dIgnored, _, _ := KSBand(ilo, ihi)
	crit := KSCritical(n, alpha)
	p, pIgnored, falseFail := KSSF(n, d), KSSF(n, dIgnored), KSSF(n, crit)
	band := lawsOf(ss)
	j.measure("KS statistic", d, "", fmt.Sprintf("distance from Uniform(0, 1) of u = (delay − band's lower end)/(band's width) under %s, each u moved within its tolerance toward it (D⁺ %.3f, D⁻ %.3f)", band, plus, minus), fmt.Sprintf("< threshold %.3f", crit))
	j.measure("threshold", crit, "", fmt.Sprintf("smallest D with P(D_%d ≥ D) ≤ max_false_fail %g for uniform factors (2 × Birnbaum–Tingey one-sided tail)", n, alpha), "")
	j.measure("false-FAIL probability", falseFail, "", fmt.Sprintf("P(D_%d ≥ threshold) for an honest engine; measurement error within the tolerances only lowers D", n), fmt.Sprintf("≤ max_false_fail %g", alpha))
	j.measure("p-value", p, "", fmt.Sprintf("P(D_%d ≥ the statistic) for an honest engine (exact two-sided tail above 1/2, an upper bound below)", n), fmt.Sprintf("> %.3g", falseFail))
	j.measure("p-value if jitter were ignored", pIgnored, "", fmt.Sprintf("the same test on these delays all at their nominal delay (D %.3f): the test's power against an engine that ignores jitter", dIgnored), fmt.Sprintf("≤ %g (else the tolerances swamp the jitter)", alpha))
	summary := fmt.Sprintf("%d factor(s) %s; KS D %.3f (tolerance-widened), threshold %.3f for false-FAIL ≤ %g", n, factorRange(ss), d, crit, alpha)
	switch {
	case d >= crit:
		j.fail(last, "jitter is not %s: %s; an honest engine's factors lie this far from uniform with probability %.3g%s", band, summary, p, jitterHint(ss))
	case pIgnored > alpha:
		j.unknown(last, "the tolerances swamp the jitter: %s, but the same delays with jitter ignored would pass too (p %.3g > %g): use longer delays, more attempts or a tighter tolerance", summary, pIgnored, alpha)
	}
	return j.result(last, "jitter follows %s: %s (p %.3g; an engine ignoring jitter would score p %.3g)", band, summary, p, pIgnored)
}

// lawsOf names the samples' laws (one, unless outages had different contracts).
func lawsOf(ss []jitterSample) string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s.Law) {
			out = append(out, s.Law)
		}
	}
	return strings.Join(out, " / ")
}

// judgeExact holds a wait the contract draws without jitter to its nominal
// delay within its tolerance.
func (c *JitterDistribution) judgeExact(j *judge, ss []jitterSample, lag time.Duration) {
	for _, s := range ss {
		j.measureMs(fmt.Sprintf("outage %d attempt %d exact wait", s.Outage.N, s.K), s.Measured,
			fmt.Sprintf("%s at %s − %s at %s", s.AtWhat, dur(s.At), s.From, dur(s.Origin)),
			fmt.Sprintf("exactly %s ± %s (%s: drawn without jitter; tolerance %s%s%s)", dur(s.Nominal), dur(s.Tol), paramFirstWaitExact, dur(s.Tol-s.Stall-lag), stallNote(s.Stall), lagNote(lag)))
		j.ms[len(j.ms)-1].Bounds = &Bounds{Expected: Ms(s.Nominal), Lo: Ms(s.Nominal - s.Tol), Hi: Ms(s.Nominal + s.Tol)}
		if off := s.Measured - s.Nominal; off > s.Tol || -off > s.Tol {
			j.fail(s.At, "%s attempt %d came %s after %s at %s; the contract says that wait is exact (%s: true): %s ± %s",
				s.Outage, s.K, dur(s.Measured), s.From, dur(s.Origin), paramFirstWaitExact, dur(s.Nominal), dur(s.Tol))
		}
	}
	if len(ss) > 0 {
		j.note("%d wait(s) drawn without jitter (%s) checked as exact, not sampled", len(ss), paramFirstWaitExact)
	}
}

// measureSamples records the sample count and the first factors.
func (c *JitterDistribution) measureSamples(j *judge, ss []jitterSample, lag time.Duration) {
	j.count("samples", len(ss), "delays before attempts k ≥ 1 of each outage: link accept (else server accept) − the previous attempt's server conn.close")
	for i, s := range ss {
		if i == maxSlotMeasurements {
			break
		}
		tolF := float64(s.Tol) / float64(s.Nominal)
		j.measure(fmt.Sprintf("outage %d attempt %d factor", s.Outage.N, s.K), s.F, "",
			fmt.Sprintf("(%s at %s − %s at %s) / nominal delay %s = %s / %s", s.AtWhat, dur(s.At), s.From, dur(s.Origin), dur(s.Nominal), dur(s.Measured), dur(s.Nominal)),
			fmt.Sprintf("uniform in [%.4g, %.4g] ± %.3f (tolerance %s%s%s)", s.FLo, s.FHi, tolF, dur(s.Tol-s.Stall-lag), stallNote(s.Stall), lagNote(lag)))
		j.ms[len(j.ms)-1].Bounds = &Bounds{Expected: (s.FLo + s.FHi) / 2, Lo: s.FLo - tolF, Hi: s.FHi + tolF}
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

// jitterHint guesses what a failing engine does, from where its delays sit
// in their bands (u).
func jitterHint(ss []jitterSample) string {
	above, low, atNominal, lowerHalf, upperHalf := 0, 0, 0, 0, 0
	for _, s := range ss {
		if s.U >= 1-s.Delta {
			above++
		}
		if s.U < -s.Delta {
			low++
		}
		if math.Abs(s.U-s.UNominal) <= s.Delta {
			atNominal++
		}
		if s.U <= 0.5+s.Delta {
			lowerHalf++
		}
		if s.U >= 0.5-s.Delta {
			upperHalf++
		}
	}
	n := len(ss)
	switch {
	case above == n:
		return " (every delay at the band's upper end or above: jitter ignored, or added on top?)"
	case atNominal == n:
		return " (every delay at its nominal delay: jitter ignored?)"
	case low > 0 && ss[0].FHi == 1: // below: the nominal is the band's top
		return fmt.Sprintf(" (%d delay(s) below (1−%.4g)·Delay(k): jitter wider than declared?)", low, 1-ss[0].FLo)
	case low > 0:
		return fmt.Sprintf(" (%d delay(s) below the band's lower end, %.4g × the nominal: jitter wider than declared?)", low, ss[0].FLo)
	case lowerHalf == n:
		return " (every delay in the lower half of its band: jitter taken off only?)"
	case upperHalf == n:
		return " (every delay in the upper half of its band: jitter added on top only?)"
	}
	return ""
}
