package check

import (
	"encoding/json"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// jitterD is Delay(k) of jitterScen: fixed 300ms, jitter 0.5, so honest
// delays are uniform in [150ms, 300ms] and the default tolerance is
// 15ms + 2% = 21ms, δ = 21/150 = 0.14 in units of u.
const jitterD = 300.0

func jitterScen(mods ...func(*scenario.Scenario)) *scenario.Scenario {
	return scen(append([]func(*scenario.Scenario){func(sc *scenario.Scenario) {
		sc.Client.Reconnect.Strategy = scenario.Strategy{Backoff: "fixed", Initial: 300 * time.Millisecond, Jitter: 0.5}
	}}, mods...)...)
}

// jitterH: session A, cut at 400ms (RECOVERING at 402ms), attempts after
// the given delays (the first from RECOVERING, not a sample; each next from
// the previous attempt's close), the last one resuming A.
func jitterH(delays ...float64) history.History {
	s := &story{}
	s.connect(5, "A")
	end := s.attempts(s.lose(400, "cut", "A"), delays[:len(delays)-1]...)
	return s.resume(end+delays[len(delays)-1], "A").hist()
}

// withFactors turns factors into delays of jitterD ms plus lat ms each,
// behind a first delay (attempt 0) of 250ms.
func withFactors(lat float64, fs ...float64) []float64 {
	out := []float64{250}
	for _, f := range fs {
		out = append(out, f*jitterD+lat)
	}
	return out
}

// spread is n factors evenly spaced over [lo, hi] (cell midpoints).
func spread(n int, lo, hi float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = lo + (hi-lo)*(float64(i)+0.5)/float64(n)
	}
	return out
}

func repeat(n int, f float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = f
	}
	return out
}

// honestFactors draws n factors of an honest engine (jitter 0.5).
func honestFactors(rng *rand.Rand, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 1 - 0.5*rng.Float64()
	}
	return out
}

func TestJitterDistribution(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	expo := func(sc *scenario.Scenario) {
		sc.Client.Reconnect.Strategy = scenario.Strategy{Backoff: "exponential", Initial: 100 * time.Millisecond, Multiplier: 2, Max: time.Second, Jitter: 0.5}
	}
	expoH := func() history.History { // Delay(k) 100, 200, 400, 800, 1000, …
		st := scenario.Strategy{Backoff: "exponential", Initial: 100 * time.Millisecond, Multiplier: 2, Max: time.Second}
		ds := []float64{80}
		for k, f := range honestFactors(rng, 10) {
			ds = append(ds, f*Ms(st.Delay(k+1))+0.7)
		}
		return jitterH(ds...)
	}
	noJitter := func(sc *scenario.Scenario) { sc.Client.Reconnect.Strategy.Jitter = 0 }
	short := func(sc *scenario.Scenario) { sc.Client.Reconnect.Strategy.Initial = 30 * time.Millisecond }
	two := func(sc *scenario.Scenario) { sc.Clients = 2 }
	honest := jitterH(withFactors(0.6, honestFactors(rng, 16)...)...)

	runCases(t, []tcase{
		{name: "honest engine, 16 delays", cfg: &JitterDistribution{}, sc: jitterScen(), h: honest, verdict: OK,
			detail: []string{"jitter follows Uniform[0.5, 1] (jitter 0.5): 16 factor(s)", "threshold 0.530 for false-FAIL ≤ 0.0001"}},
		{name: "honest engine, exponential", cfg: &JitterDistribution{}, sc: scen(expo), h: expoH(), verdict: OK},
		{name: "evenly spread, late by the whole tolerance", cfg: &JitterDistribution{}, sc: jitterScen(),
			h: jitterH(withFactors(20.9, spread(8, 0.5, 1)...)...), verdict: OK},
		{name: "jitter ignored, 8 delays", cfg: &JitterDistribution{}, sc: jitterScen(),
			h: jitterH(withFactors(0.5, repeat(8, 1)...)...), verdict: Failed,
			detail: []string{"jitter is not Uniform[0.5, 1] (jitter 0.5): 8 factor(s) in [1.002, 1.002]", "KS D 0.863", "threshold 0.720", "with probability 2.43e-07", "jitter ignored, or added on top?"}},
		{name: "jitter added on top", cfg: &JitterDistribution{}, sc: jitterScen(),
			h: jitterH(withFactors(0.5, spread(12, 1, 1.5)...)...), verdict: Failed,
			detail: []string{"factor(s) in [1.022, 1.481]", "jitter ignored, or added on top?"}},
		{name: "jitter 0.1 applied for 0.5", cfg: &JitterDistribution{}, sc: jitterScen(),
			h: jitterH(withFactors(0.5, spread(16, 0.9, 1)...)...), verdict: Failed, detail: []string{"KS D 0.670", "threshold 0.530"}},
		{name: "jitter wider than declared", cfg: &JitterDistribution{}, sc: jitterScen(),
			h: jitterH(withFactors(0.5, spread(40, 0, 1)...)...), verdict: Failed,
			detail: []string{"delay(s) below (1−0.5)·Delay(k): jitter wider than declared?", "threshold 0.344"}},
		{name: "too few delays", cfg: &JitterDistribution{}, sc: jitterScen(),
			h: jitterH(withFactors(0.5, spread(7, 0.5, 1)...)...), verdict: Unknown,
			detail: []string{"nothing to judge: 7 delay(s) between attempts measured, fewer than min_samples 8"}},
		{name: "min_samples lowered", cfg: &JitterDistribution{MinSamples: Ptr(7)}, sc: jitterScen(),
			h: jitterH(withFactors(0.5, repeat(7, 1)...)...), verdict: Failed, detail: []string{"7 factor(s)"}},
		{name: "no jitter declared", cfg: &JitterDistribution{}, sc: jitterScen(noJitter), h: honest, verdict: Unknown,
			detail: []string{"declares no jitter"}},
		{name: "tolerance swamps the jitter", cfg: &JitterDistribution{}, sc: jitterScen(short),
			h: jitterH(append([]float64{25}, spread(12, 15, 30)...)...), verdict: Unknown,
			detail: []string{"the tolerances swamp the jitter", "with jitter ignored would pass too"}},
		{name: "a tighter tolerance gives the power back", cfg: &JitterDistribution{Tolerance: Ptr(time.Millisecond), TolerancePct: Ptr(0.0)}, sc: jitterScen(short),
			h: jitterH(append([]float64{25}, repeat(12, 30.2)...)...), verdict: Failed, detail: []string{"jitter ignored"}},
		{name: "a streamed evidence lag widens every tolerance", cfg: &JitterDistribution{}, sc: jitterScen(),
			h: append(jitterH(withFactors(0.5, repeat(12, 1)...)...), ev(6000, history.KindLag, "src=harness", "max=60ms")), verdict: Unknown,
			detail: []string{"the tolerances swamp the jitter"}},
		{name: "no outage", cfg: &JitterDistribution{}, sc: jitterScen(), h: (&story{}).connect(5, "A").hist(), verdict: Unknown,
			detail: []string{"nothing to judge"}},
		{name: "two clients", cfg: &JitterDistribution{}, sc: jitterScen(two), h: honest, verdict: Failed, detail: []string{"needs clients: 1"}},
		{name: "bad max_false_fail", cfg: &JitterDistribution{MaxFalseFail: Ptr(0.0)}, sc: jitterScen(), h: honest, verdict: Failed,
			detail: []string{"bad parameters: max_false_fail"}},
		{name: "bad min_samples", cfg: &JitterDistribution{MinSamples: Ptr(1)}, sc: jitterScen(), h: honest, verdict: Failed,
			detail: []string{"bad parameters: min_samples"}},
	})
}

// The delay of attempt k is measured from the previous attempt's close to
// this attempt's link accept when the link recorded one; a previous attempt
// whose close was not recorded gives no sample.
func TestJitterDistributionEvidence(t *testing.T) {
	s := &story{}
	s.connect(5, "A")
	rec := s.lose(400, "cut", "A")
	t0 := s.fail(rec + 250)
	s.add(ev(t0+200, "link.accept", "link=s1", "conn=127.0.0.1:1"))
	t1 := s.fail(t0 + 200.4)
	s.add(ev(t1+100, "accept", "server=s1", "conn=s1#9")) // never closed
	s.conn = 9
	s.resume(t1+400, "A")
	r := (&JitterDistribution{MinSamples: Ptr(2)}).Check(Input{History: s.hist(), Scenario: jitterScen()})
	got := map[string]Measurement{}
	for _, m := range r.Measurements {
		got[m.Name] = m
	}
	m1 := got["outage 0 attempt 1 factor"]
	if math.Abs(m1.Value-200.0/300) > 1e-9 || !strings.Contains(m1.Evidence, "link accept of s1#3 at 853.0ms − server conn.close s1#2 at 653.0ms") {
		t.Errorf("attempt 1: %g, %q", m1.Value, m1.Evidence)
	}
	if m2 := got["outage 0 attempt 2 factor"]; !strings.Contains(m2.Evidence, "server accept s1#9") {
		t.Errorf("attempt 2: %q", m2.Evidence)
	}
	if _, ok := got["outage 0 attempt 3 factor"]; ok || !strings.Contains(r.Detail, "1 delay(s) left out") {
		t.Errorf("attempt 3 follows an attempt whose close was not recorded: %s %v", r.Detail, got)
	}
	lagged := append(s.hist(), ev(2000, history.KindLag, "src=harness", "max=5ms"))
	r = (&JitterDistribution{MinSamples: Ptr(2)}).Check(Input{History: lagged, Scenario: jitterScen()})
	if e := r.Measurements[1].Expected; !strings.Contains(e, "± 0.087 (tolerance 21.0ms + evidence lag 5.0ms") {
		t.Errorf("a lag must widen the tolerance: %q", e)
	}
	for _, name := range []string{"KS statistic", "threshold", "false-FAIL probability", "p-value", "p-value if jitter were ignored"} {
		if _, ok := got[name]; !ok {
			t.Errorf("no measurement %q", name)
		}
	}
}

// jitterRun is the verdict and measurements for delays drawn by one engine.
func jitterRun(t *testing.T, cfg *JitterDistribution, delays []float64) Result {
	t.Helper()
	return cfg.Check(Input{History: jitterH(delays...), Scenario: jitterScen()})
}

func measured(r Result, name string) float64 {
	for _, m := range r.Measurements {
		if m.Name == name {
			return m.Value
		}
	}
	return math.NaN()
}

// Power: an engine ignoring jitter 0.5 over 8 delays of 300ms is FAILED,
// whatever its measurement error from −2ms (an early stamp) to the whole
// tolerance late; and an honest engine's 8 factors look like that with
// probability ≤ 1e-6.
func TestJitterDistributionPower(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	const trials = 2000
	for i := range trials {
		ds := []float64{250}
		for range 8 {
			ds = append(ds, jitterD-2+23*rng.Float64()) // error in [−2ms, +21ms]
		}
		r := jitterRun(t, &JitterDistribution{}, ds)
		if r.Verdict != Failed {
			t.Fatalf("trial %d: an engine ignoring jitter got %s: %s", i, r.Verdict, r.Detail)
		}
		if p := measured(r, "p-value"); p > 1e-6 {
			t.Fatalf("trial %d: an honest engine would look like this with probability %g > 1e-6", i, p)
		}
	}
	// The closed form of the worst of those: every factor at 1 − 2/300·2
	// in u, widened by δ = 0.14, D = 1 − 0.14 − 0.0133.
	if p := KSSF(8, 1-0.14-2.0/150); p > 1e-6 {
		t.Errorf("P(D_8 ≥ %g) = %g > 1e-6", 1-0.14-2.0/150, p)
	}
	if c := KSCritical(8, 1e-4); math.Abs(c-0.7201) > 1e-4 {
		t.Errorf("threshold for 8 samples at 1e-4: %g (the doc comment says 0.720)", c)
	}
}

// False FAILs: 2,000 honest engines of 8 delays each, measured with errors
// anywhere within the tolerance (random, and all of them pushed the whole
// tolerance one way), FAIL no more often than the reported false-FAIL
// probability allows — at the default 1e-4, and at 0.05, where failures are
// frequent enough to see the bound hold.
func TestJitterDistributionFalseFail(t *testing.T) {
	const sets = 2000
	for _, alpha := range []float64{1e-4, 0.05} {
		for _, noise := range []struct {
			name string
			err  func(rng *rand.Rand) float64
		}{
			{"random error within ±20ms", func(rng *rand.Rand) float64 { return 40*rng.Float64() - 20 }},
			{"every delay 20ms late", func(*rand.Rand) float64 { return 20 }},
			{"every delay 20ms early", func(*rand.Rand) float64 { return -20 }},
		} {
			rng := rand.New(rand.NewSource(23))
			fails, bound := 0, 0.0
			for range sets {
				ds := []float64{250}
				for _, f := range honestFactors(rng, 8) {
					ds = append(ds, f*jitterD+noise.err(rng))
				}
				r := jitterRun(t, &JitterDistribution{MaxFalseFail: Ptr(alpha)}, ds)
				switch r.Verdict {
				case Failed:
					fails++
				case OK:
				default:
					t.Fatalf("%s: %s %s", noise.name, r.Verdict, r.Detail)
				}
				bound = measured(r, "false-FAIL probability")
			}
			if bound > alpha {
				t.Errorf("reported false-FAIL probability %g above max_false_fail %g", bound, alpha)
			}
			// Consistent with the bound: that many fails or more has
			// probability ≥ 1e-3 at the bound's rate.
			if p := BinomialSF(sets, bound, fails); p < 1e-3 {
				t.Errorf("alpha %g, %s: %d of %d honest sets FAILED, P(≥ that | rate %g) = %g", alpha, noise.name, fails, sets, bound, p)
			}
			t.Logf("alpha %g, %s: %d/%d FAILED (bound %.3g)", alpha, noise.name, fails, sets, bound)
		}
	}
}

// ---- jitter judged by the client's effective contract -------------------

// grpcReply is a connect reply whose contract is grpc-go's back-off (scaled
// down to 1s ×1.6 up to 2s): first attempt at once, jitter of the given kind
// 0.2, the first wait exact unless exactFirst is false.
func grpcReply(kind string, exactFirst bool) history.Event {
	term := func(v string) map[string]string {
		return map[string]string{"value": v, "cite": "grpc-go internal/backoff/backoff.go Exponential.Backoff"}
	}
	params := map[string]any{"initial_ms": 1000, "multiplier": 1.6, "max_ms": 2000, "jitter": 0.2}
	if exactFirst {
		params["first_wait_exact"] = true
	}
	ct := map[string]any{"first_attempt": term("immediate"), "delay_applies": term("per_attempt"), "jitter": term(kind), "params": params}
	b, _ := json.Marshal(ct)
	return ev(6, history.KindReply, "client=0", "op=connect", "id=1", "ok=true", "contract="+string(b))
}

// cannotJitter adds to a connect reply's contract that the library cannot
// express the scenario's jitter.
func cannotJitter(reply history.Event) history.Event {
	var ct map[string]any
	if err := json.Unmarshal([]byte(reply.Attr("contract")), &ct); err != nil {
		panic(err)
	}
	ct["unsupported"] = []map[string]string{{"option": "reconnect.strategy.jitter", "reason": "no jitter in this library"}}
	b, _ := json.Marshal(ct)
	reply.Attrs["contract"] = string(b)
	return reply
}

// grpcNominal is the nominal wait before attempt k ≥ 1 under grpcReply:
// sleep k−1 of 1s ×1.6 capped at 2s.
func grpcNominal(k int) float64 { return min(1000*math.Pow(1.6, float64(k-1)), 2000) }

// grpcH: session A, cut at 400ms, attempt 0 at once, then attempt k after
// wait(k) ms from the previous attempt's close; the last one resumes A.
func grpcH(reply history.Event, n int, wait func(k int) float64) history.History {
	s := &story{}
	s.connect(5, "A")
	s.add(reply)
	rec := s.lose(400, "cut", "A")
	ds := []float64{0.5}
	for k := 1; k < n; k++ {
		ds = append(ds, wait(k))
	}
	end := s.attempts(rec, ds...)
	return s.resume(end+wait(n), "A").hist()
}

// engine draws the wait before attempt k ≥ 1: the nominal times a factor
// drawn by f, plus err ms of measurement error; the first wait exact.
func engine(f func() float64, err func() float64) func(k int) float64 {
	return func(k int) float64 {
		if k == 1 {
			return grpcNominal(1) + err()
		}
		return grpcNominal(k)*f() + err()
	}
}

func TestJitterDistributionContractLaw(t *testing.T) {
	rng := rand.New(rand.NewSource(41))
	u := func(lo, hi float64) func() float64 { return func() float64 { return lo + (hi-lo)*rng.Float64() } }
	noErr := func() float64 { return 0.7 }
	const n = 41 // attempts 0..40 failing, 41 resuming: 41 waits, the first exact
	sym := grpcReply("symmetric", true)
	sc := jitterScen() // the scenario asks 300ms fixed, jitter 0.5: the library cannot
	runCases(t, []tcase{
		{name: "symmetric, honest: OK", cfg: &JitterDistribution{}, sc: sc, h: grpcH(sym, n, engine(u(0.8, 1.2), noErr)), verdict: OK,
			detail: []string{"jitter follows Uniform[0.8, 1.2] (jitter symmetric 0.2, the client's effective contract): 40 factor(s)",
				"1 wait(s) drawn without jitter (first_wait_exact) checked as exact, not sampled"}},
		{name: "symmetric, jitter below only: FAILED", cfg: &JitterDistribution{}, sc: sc, h: grpcH(sym, n, engine(u(0.8, 1), noErr)), verdict: Failed,
			detail: []string{"jitter is not Uniform[0.8, 1.2]", "every delay in the lower half of its band: jitter taken off only?"}},
		{name: "symmetric, no jitter: FAILED", cfg: &JitterDistribution{}, sc: sc, h: grpcH(sym, n, engine(func() float64 { return 1 }, noErr)), verdict: Failed,
			detail: []string{"jitter is not Uniform[0.8, 1.2]", "every delay at its nominal delay: jitter ignored?"}},
		{name: "symmetric, jitter added on top: FAILED", cfg: &JitterDistribution{}, sc: sc, h: grpcH(sym, n, engine(u(1, 1.2), noErr)), verdict: Failed,
			detail: []string{"jitter is not Uniform[0.8, 1.2]", "every delay in the upper half of its band: jitter added on top only?"}},
		{name: "added, honest: OK", cfg: &JitterDistribution{}, sc: sc, h: grpcH(grpcReply("added", true), n, engine(u(1, 1.2), noErr)), verdict: OK,
			detail: []string{"Uniform[1, 1.2] (jitter added 0.2, the client's effective contract)"}},
		{name: "below, honest: OK", cfg: &JitterDistribution{}, sc: sc, h: grpcH(grpcReply("below", true), n, engine(u(0.8, 1), noErr)), verdict: OK,
			detail: []string{"Uniform[0.8, 1] (jitter below 0.2, the client's effective contract)"}},
		{name: "the exact first wait jittered: FAILED", cfg: &JitterDistribution{}, sc: sc,
			h: grpcH(sym, n, func(k int) float64 {
				if k == 1 {
					return 1150
				}
				return grpcNominal(k) * u(0.8, 1.2)()
			}), verdict: Failed,
			detail: []string{"outage 0 (RECOVERING_RECONNECT at 402.0ms) attempt 1 came 1150.0ms after server conn.close s1#2", "the contract says that wait is exact (first_wait_exact: true): 1000.0ms ± 39.0ms"}},
		{name: "first wait not declared exact: sampled", cfg: &JitterDistribution{}, sc: sc, h: grpcH(grpcReply("symmetric", false), n, engine(u(0.8, 1.2), noErr)), verdict: OK,
			detail: []string{": 41 factor(s)"}},
		{name: "contract without jitter, which the library cannot express: UNKNOWN", cfg: &JitterDistribution{}, sc: sc,
			h: grpcH(cannotJitter(grpcReply("none", true)), n, engine(u(0.8, 1.2), noErr)), verdict: Unknown,
			detail: []string{"nothing to judge: the client's effective contract declares no jitter (jitter: none (grpc-go"}},
		// The driver configured the library without the jitter the scenario
		// asks and the library can give (FAULTLINE_NATS_AGAINST=no_jitter):
		// its own contract shows it.
		{name: "contract without jitter the library could give: FAILED", cfg: &JitterDistribution{}, sc: sc,
			h: grpcH(grpcReply("none", true), n, engine(u(0.8, 1.2), noErr)), verdict: Failed,
			detail: []string{"client 0: the scenario asks for jitter 0.5, but the client's effective contract declares none (jitter: none (grpc-go", "does not list reconnect.strategy.jitter among what the library cannot express"}},
	})
}

// False FAILs under the symmetric law: 400 honest engines of 40 waits each,
// measured with errors anywhere within the tolerance, FAIL no more often
// than the reported false-FAIL probability allows; at max_false_fail 0.05
// failures are frequent enough to see the bound hold. And the faults the
// symmetric law must see are FAILED in every one of those 400 draws.
func TestJitterDistributionContractFalseFail(t *testing.T) {
	sym := grpcReply("symmetric", true)
	sc := jitterScen()
	for _, alpha := range []float64{1e-4, 0.05} {
		rng := rand.New(rand.NewSource(43))
		u := func(lo, hi float64) func() float64 { return func() float64 { return lo + (hi-lo)*rng.Float64() } }
		err := func() float64 { return 70*rng.Float64() - 35 } // within the 37–63ms tolerances
		const sets = 400
		fails, bound := 0, 0.0
		for range sets {
			r := (&JitterDistribution{MaxFalseFail: Ptr(alpha)}).Check(Input{History: grpcH(sym, 41, engine(u(0.8, 1.2), err)), Scenario: sc})
			switch r.Verdict {
			case Failed:
				fails++
			case OK:
			default:
				t.Fatalf("alpha %g: %s %s", alpha, r.Verdict, r.Detail)
			}
			bound = measured(r, "false-FAIL probability")
		}
		if bound > alpha {
			t.Errorf("reported false-FAIL probability %g above max_false_fail %g", bound, alpha)
		}
		if p := BinomialSF(sets, bound, fails); p < 1e-3 {
			t.Errorf("alpha %g: %d of %d honest sets FAILED, P(≥ that | rate %g) = %g", alpha, fails, sets, bound, p)
		}
		t.Logf("alpha %g: %d/%d honest symmetric engines FAILED (bound %.3g)", alpha, fails, sets, bound)
	}
	rng := rand.New(rand.NewSource(47))
	u := func(lo, hi float64) func() float64 { return func() float64 { return lo + (hi-lo)*rng.Float64() } }
	err := func() float64 { return 70*rng.Float64() - 35 }
	for name, f := range map[string]func() float64{"below only": u(0.8, 1), "added only": u(1, 1.2), "none": func() float64 { return 1 }} {
		for i := range 400 {
			r := (&JitterDistribution{}).Check(Input{History: grpcH(sym, 41, engine(f, err)), Scenario: sc})
			if r.Verdict != Failed {
				t.Fatalf("%s, draw %d: an engine with jitter %s got %s: %s", name, i, name, r.Verdict, r.Detail)
			}
		}
	}
}
