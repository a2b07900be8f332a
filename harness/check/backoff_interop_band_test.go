package check

import (
	"encoding/json"
	"math/rand"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// ctReply is client 0's connect reply at ms carrying a contract with the
// given terms (name → value, each cited to grpc-go) and params.
func ctReply(ms float64, terms map[string]string, params map[string]any) history.Event {
	ct := map[string]any{}
	for k, v := range terms {
		ct[k] = map[string]string{"value": v, "cite": "grpc-go " + k}
	}
	if params != nil {
		ct["params"] = params
	}
	b, _ := json.Marshal(ct)
	return ev(ms, history.KindReply, "client=0", "op=connect", "id=1", "ok=true", "contract="+string(b))
}

// grpcDefaults is grpc-go's back-off contract with its defaults but for
// max_ms (the interop test's client may set max_reconnect_backoff_ms).
func grpcDefaults(maxMs float64) history.Event {
	return ctReply(6, map[string]string{"first_attempt": "immediate", "delay_applies": "per_attempt", "jitter": "symmetric"},
		map[string]any{"initial_ms": 1000, "multiplier": 1.6, "max_ms": maxMs, "jitter": 0.2, "first_wait_exact": true})
}

// interopH: session A on s1 (contract reply r, none when nil), cut at
// 400ms; the client's attempts are accepted and closed 1ms later, attempt 0
// at once, each next one sleeps[k] ms after attempt k's close; the last
// resumes A.
func interopH(r *history.Event, sleeps ...float64) history.History {
	s := &story{}
	s.connect(5, "A")
	if r != nil {
		s.add(*r)
	}
	rec := s.lose(400, "cut", "A")
	end := s.attempts(rec, append([]float64{0.5}, sleeps[:len(sleeps)-1]...)...)
	return s.resume(end+sleeps[len(sleeps)-1], "A").hist()
}

// grpcSleeps is n sleeps of grpc-go's back-off (1s ×1.6 up to maxMs,
// symmetric 0.2, the first exact), scaled by mul (1: honest).
func grpcSleeps(rng *rand.Rand, n int, maxMs, mul float64) []float64 {
	out := []float64{1000}
	b := 1000.0
	for len(out) < n {
		b = min(b*mul, maxMs)
		out = append(out, b*(1+0.2*(2*rng.Float64()-1)))
	}
	return out
}

func TestBackoffInteropBand(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	g := grpcDefaults(120000)
	g10 := grpcDefaults(10000)
	sc := scen(reconnectOn(600e9)) // the scenario's own strategy is 100ms ×2: the contract rules
	stall := func(at float64, d string) history.Event { return ev(at, history.KindStall, "src=harness", "for="+d) }
	runCases(t, []tcase{
		{name: "grpc-go's back-off, 9 gaps: OK", cfg: &BackoffInteropBand{}, sc: sc, h: interopH(&g, grpcSleeps(rng, 9, 120000, 1.6)...), verdict: OK,
			detail: []string{"9 gap(s) in 1 run(s) within gRPC's interop band [expected·0.8 − 0.100s, expected·1.2 + 0.100s]",
				"factors: jitter symmetric 0.2 of the client's effective contract",
				"client 0 outage 0 on s1: gap 1: expected 1.000s band [0.700s, 1.300s] measured 1.001s; gap 2: expected 1.600s band [1.180s, 2.020s] measured",
				"gap 9: expected 42.950s band [34.260s, 51.640s]"}},
		{name: "capped at max_ms: OK", cfg: &BackoffInteropBand{}, sc: sc, h: interopH(&g10, grpcSleeps(rng, 9, 10000, 1.6)...), verdict: OK,
			detail: []string{"gap 7: expected 10.000s band [7.900s, 12.100s]", "gap 9: expected 10.000s"}},
		{name: "too fast (100ms ×1.6): FAILED", cfg: &BackoffInteropBand{}, sc: sc, h: interopH(&g, 100, 160, 256, 410), verdict: Failed,
			detail: []string{"4 of 4 gap(s) outside gRPC's interop band", "client 0 outage 0 on s1 gap 1: expected 1.000s band [0.700s, 1.300s] measured 0.101s OUTSIDE"}},
		{name: "no back-off (1s every time): FAILED", cfg: &BackoffInteropBand{}, sc: sc, h: interopH(&g, 1000, 1000, 1000, 1000, 1000), verdict: Failed,
			detail: []string{"4 of 5 gap(s) outside", "gap 2: expected 1.600s band [1.180s, 2.020s] measured 1.001s OUTSIDE"}},
		{name: "doubling instead of ×1.6: FAILED", cfg: &BackoffInteropBand{}, sc: sc, h: interopH(&g, 1000, 2000, 4000, 8000), verdict: Failed,
			detail: []string{"2 of 4 gap(s) outside", "gap 3: expected 2.560s band [1.948s, 3.172s] measured 4.001s OUTSIDE",
				"All gaps: client 0 outage 0 on s1: gap 1: expected 1.000s band [0.700s, 1.300s] measured 1.001s; gap 2: expected 1.600s band [1.180s, 2.020s] measured 2.001s"}},
		{name: "factors and slack set: FAILED", cfg: &BackoffInteropBand{LowFactor: Ptr(0.95), HighFactor: Ptr(1.05), Slack: Ptr(time.Duration(0))}, sc: sc,
			h: interopH(&g, 1000, 1800), verdict: Failed, detail: []string{"[expected·0.95 − 0.000s, expected·1.05 + 0.000s]: ", "(factors: low_factor, high_factor as set", "gap 2: expected 1.600s band [1.520s, 1.680s] measured 1.801s OUTSIDE"}},
		{name: "a stall inside a gap widens its band: OK", cfg: &BackoffInteropBand{}, sc: sc,
			h: append(interopH(&g, 1000, 2400), stall(2000, "400ms")), verdict: OK, detail: []string{"gap 2: expected 1.600s band [0.780s, 2.420s] measured 2.401s (band + stall 0.400s)"}},
		// Without a contract: the scenario's strategy, 100ms ×2 up to 1s
		// without jitter: factors 0.8/1.2; the wait after attempt k is Delay(k+1).
		{name: "no contract: the strategy's delays, OK", cfg: &BackoffInteropBand{}, h: interopH(nil, 200, 400, 800, 1000), verdict: OK,
			detail: []string{"factors: the interop test's 0.8 and 1.2 (no jitter declared)", "gap 1: expected 0.200s band [0.060s, 0.340s] measured 0.201s"}},
		{name: "no contract, strategy with jitter 0.5: below", cfg: &BackoffInteropBand{},
			sc: scen(func(sc *scenario.Scenario) { sc.Client.Reconnect.Strategy.Jitter = 0.5 }), h: interopH(nil, 110, 400, 800, 1000), verdict: OK,
			detail: []string{"[expected·0.5 − 0.100s, expected·1 + 0.100s]: ", "(factors: jitter below 0.5 of the scenario's strategy"}},
		{name: "per-pass contract over two servers: UNKNOWN", cfg: &BackoffInteropBand{}, sc: scen(func(sc *scenario.Scenario) {
			sc.Servers = append(sc.Servers, scenario.Server{Name: "s2"})
			sc.Client.Servers = []string{"s1", "s2"}
		}),
			h: interopH(Ptr(passReply(6, "per_pass", map[string]any{"reconnect_wait_ms": 100})), 100, 100), verdict: Unknown,
			detail: []string{"1 run(s) under delay_applies: per_pass, which backoff_schedule judges"}},
		{name: "per-pass contract over one server: a pass is an attempt", cfg: &BackoffInteropBand{}, sc: sc,
			h: interopH(Ptr(passReply(6, "per_pass", map[string]any{"reconnect_wait_ms": 100})), 100, 100), verdict: OK,
			detail: []string{"2 gap(s) in 1 run(s) within gRPC's interop band"}},
		{name: "per-pass contract over one server, too fast: FAILED", cfg: &BackoffInteropBand{}, sc: sc,
			h: interopH(Ptr(passReply(6, "per_pass", map[string]any{"reconnect_wait_ms": 1000})), 100, 100), verdict: Failed},
		{name: "no outage: UNKNOWN", cfg: &BackoffInteropBand{}, h: (&story{}).connect(5, "A").hist(), verdict: Unknown, detail: []string{"nothing to judge"}},
		{name: "two clients: FAILED", cfg: &BackoffInteropBand{}, sc: scen(clients(2)), h: interopH(&g, 1000), verdict: Failed, detail: []string{"needs clients: 1"}},
		{name: "low above high: bad parameters", cfg: &BackoffInteropBand{LowFactor: Ptr(1.3), HighFactor: Ptr(1.2)}, h: interopH(&g, 1000), verdict: Failed,
			detail: []string{"bad parameters: low_factor 1.3 is above high_factor 1.2"}},
	})
}

// The interop test's own shape: a server that accepts and closes every
// connection from the start, so the channel never connects: the first
// connect's attempts under a back-off contract are a run too.
func TestBackoffInteropBandFirstConnect(t *testing.T) {
	build := func(contract bool) history.History {
		s := newF()
		s.op(0, 0)
		if contract {
			s.add(grpcDefaults(120000))
		}
		at := 1.0
		for _, sl := range []float64{1000, 1500, 2700, 4000, 6000} {
			s.fail(at, "s1")
			at += 1 + sl
		}
		s.fail(at, "s1")
		return s.hist()
	}
	h := build(true)
	sc := fscen(1, reconnectOn(600e9))
	runCases(t, []tcase{
		{name: "first connect, never connecting: OK", cfg: &BackoffInteropBand{}, sc: sc, h: h, verdict: OK,
			detail: []string{"5 gap(s) in 1 run(s)", "client 0 first connect on s1: gap 1: expected 1.000s band [0.700s, 1.300s] measured 1.001s",
				"gap 5: expected 6.554s band [5.143s, 7.964s] measured 6.001s"}},
	})
	// Without a contract a first connect follows no back-off: nothing to judge.
	r := (&BackoffInteropBand{}).Check(Input{History: build(false), Scenario: sc})
	if r.Verdict != Unknown {
		t.Errorf("first connect without a contract: %s %s", r.Verdict, r.Detail)
	}
}
