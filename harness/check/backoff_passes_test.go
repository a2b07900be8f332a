package check

import (
	"encoding/json"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// R2 judged per pass: a library whose effective contract says
// delay_applies: per_pass (nats.go) tries the next servers of its pool at
// once and sleeps only before the attempt that wraps round the pool (the
// lost server, last in it: failover: next).

// passReply is client 0's connect reply at ms carrying a per-pass contract
// (delayApplies "": not declared) with the given params.
func passReply(ms float64, delayApplies string, params map[string]any) history.Event {
	term := func(v, cite string) map[string]string { return map[string]string{"value": v, "cite": cite} }
	ct := map[string]any{
		"first_attempt": term("immediate", "nats.go doReconnect(): doSleep = i+1 >= len(nc.srvPool)"),
		"failover":      term("next", "nats.go selectNextServer()"),
		"params":        params,
	}
	if delayApplies != "" {
		ct["delay_applies"] = term(delayApplies, "nats.go doReconnect(): once per full pass over the pool")
	}
	b, _ := json.Marshal(ct)
	return ev(ms, history.KindReply, "client=0", "op=connect", "id=1", "ok=true", "contract="+string(b))
}

// passStep is an attempt on Srv Gap ms after the previous attempt's close
// (the first after the client's RECOVERING_RECONNECT).
type passStep struct {
	Srv string
	Gap float64
}

func TestBackoffSchedulePerPass(t *testing.T) {
	fixed200 := map[string]any{"reconnect_wait_ms": 200, "jitter_ms": 0}
	// Client 0 on s1 of s1..s3 loses it at 300ms (RECOVERING_RECONNECT at
	// 302ms); its attempts fail (closed 1ms after the accept) and, after
	// the last step, the attempt that lands (a new session).
	story := func(reply *history.Event, steps ...passStep) history.History {
		s := newF()
		sess := s.connect(0, 5, "s1")
		if reply != nil {
			s.add(*reply)
		}
		s.fault(250, "s2", "cut").fault(250, "s3", "cut").fault(300, "s1", "cut")
		s.add(cst(302, 0, cA, rR, "s1", sess))
		t := 302.0
		for _, st := range steps[:len(steps)-1] {
			s.fail(t+st.Gap, st.Srv)
			t += st.Gap + 1
		}
		s.heal(t, "s1", "cut").heal(t, "s2", "cut").heal(t, "s3", "cut")
		last := steps[len(steps)-1]
		s.land(0, t+last.Gap, last.Srv, rR)
		return s.hist()
	}
	perPass := passReply(6, "per_pass", fixed200)
	exp := passReply(6, "per_pass", map[string]any{"initial_ms": 100, "multiplier": 2, "max_ms": 1000, "jitter": 0})
	notDeclared := passReply(6, "", fixed200)
	// Two passes over s2, s3 | s1, s2, s3 | s1, s2, s3 with 200ms before s1.
	passes := []passStep{{"s2", 1}, {"s3", 1}, {"s1", 200}, {"s2", 1}, {"s3", 1}, {"s1", 200}, {"s2", 1}}
	sc := fscen(3, auto, reconnectOn(3e9))
	sc.Client.Reconnect.Strategy.Initial = 200e6
	scExp := fscen(3, auto, reconnectOn(3e9))
	scExp.Client.Reconnect.Strategy.Backoff, scExp.Client.Reconnect.Strategy.Multiplier, scExp.Client.Reconnect.Strategy.Max = "exponential", 2, 1e9
	runCases(t, []tcase{
		{name: "per pass, followed: OK", cfg: &BackoffSchedule{}, sc: sc, h: story(&perPass, passes...), verdict: OK,
			detail: []string{"7 attempt(s) over 1 outage(s) followed the schedule",
				"judged per pass over a pool of 3 server(s) (a sleep before each attempt on the lost server s1, last in the pool, the others at once)",
				"delay_applies: per_pass (nats.go doReconnect(): once per full pass over the pool)", "first_attempt: immediate", "failover: next",
				"contract params reconnect_wait_ms 200 + U[0, jitter_ms 0)"}},
		{name: "per pass, exponential per pass from params: OK", cfg: &BackoffSchedule{}, sc: scExp,
			h: story(&exp, passStep{"s2", 1}, passStep{"s3", 1}, passStep{"s1", 100}, passStep{"s2", 1}, passStep{"s3", 1}, passStep{"s1", 200}, passStep{"s2", 1}), verdict: OK,
			detail: []string{"sleep n is min(initial_ms 100·multiplier 2^n, max_ms 1000)", "pass p sleeps sleep p−1"}},
		{name: "per pass, an attempt inside a pass waited: FAILED", cfg: &BackoffSchedule{}, sc: sc,
			h: story(&perPass, passStep{"s2", 1}, passStep{"s3", 200}, passStep{"s1", 200}, passStep{"s2", 1}), verdict: Failed,
			detail: []string{"attempt 1 (server accept s3#1 on s3 at 504.0ms) came 200.0ms after server conn.close s2#1 at 304.0ms; expected at once within pass 0 (no sleep before it) within [-30.0ms, 30.0ms]",
				"judged per pass", "delay_applies: per_pass"}},
		{name: "per pass, the pass's sleep too short: FAILED", cfg: &BackoffSchedule{}, sc: sc,
			h: story(&perPass, passStep{"s2", 1}, passStep{"s3", 1}, passStep{"s1", 50}, passStep{"s2", 1}), verdict: Failed,
			detail: []string{"attempt 2 (server accept s1#2 on s1 at 356.0ms) came 50.0ms after server conn.close s3#1 at 306.0ms; expected pass 1's sleep 200.0ms within [150.0ms, 250.0ms]",
				"judged per pass"}},
		{name: "per pass, the first attempt waited: FAILED", cfg: &BackoffSchedule{}, sc: sc,
			h: story(&perPass, passStep{"s2", 200}, passStep{"s3", 1}, passStep{"s1", 200}, passStep{"s2", 1}), verdict: Failed,
			detail: []string{"attempt 0 (server accept s2#1 on s2 at 502.0ms) came 200.0ms after client RECOVERING_RECONNECT (client-reported) at 302.0ms; expected at once within pass 0"}},
		// An attempt that never reached its server (a link refusing it
		// while a cut was put in force) does not shift the passes: the
		// sleep is before each attempt on the lost server.
		{name: "per pass, an attempt unseen by its server: OK", cfg: &BackoffSchedule{}, sc: sc,
			h: story(&perPass, passStep{"s3", 1}, passStep{"s1", 200}, passStep{"s2", 1}, passStep{"s3", 1}, passStep{"s1", 200}, passStep{"s2", 1}), verdict: OK},
		// Without a per-pass contract (faultline's own engines; a contract
		// not declaring delay_applies) the schedule is judged per attempt,
		// exactly as before: the per-pass history fails it ...
		{name: "no contract, per-pass history: per attempt, FAILED", cfg: &BackoffSchedule{}, sc: sc, h: story(nil, passes...), verdict: Failed,
			detail: []string{"attempt 0 (server accept s2#1 on s2 at 303.0ms) came 1.0ms after client RECOVERING_RECONNECT (client-reported) at 302.0ms; expected Delay(0) 200.0ms within [150.0ms, 250.0ms]"}},
		// (per attempt against the contract's own numbers: attempt 0 at
		// once, as its first_attempt says, then its wait before each)
		{name: "delay_applies not declared: per attempt, FAILED", cfg: &BackoffSchedule{}, sc: sc, h: story(&notDeclared, passes...), verdict: Failed,
			detail: []string{"expected Delay(1) 200.0ms within [150.0ms, 250.0ms]", "judged against the library's back-off: contract params reconnect_wait_ms 200"}},
		// ... and a per-attempt schedule passes, with the detail of old.
		{name: "no contract, per-attempt history: OK as before", cfg: &BackoffSchedule{}, sc: sc,
			h: story(nil, passStep{"s2", 200}, passStep{"s3", 200}, passStep{"s1", 200}, passStep{"s2", 200}), verdict: OK,
			detail: []string{"4 attempt(s) over 1 outage(s) followed the schedule (max deviation 0.0ms)"}},
	})
	// Without a contract the detail never speaks of passes.
	r := (&BackoffSchedule{}).Check(Input{History: story(nil, passStep{"s2", 200}, passStep{"s3", 200}, passStep{"s1", 200}), Scenario: sc, Requirement: "R2"})
	for _, m := range r.Measurements {
		if m.Name == "passes" {
			t.Errorf("a per-attempt judgement measured passes: %+v", m)
		}
	}
	if r.Detail != "3 attempt(s) over 1 outage(s) followed the schedule (max deviation 0.0ms)" {
		t.Errorf("per-attempt detail changed: %q", r.Detail)
	}
}

func TestJitterDistributionPerPass(t *testing.T) {
	// Fixed 200ms with jitter 0.5: nats.go's ReconnectWait 100ms +
	// U[0, 100ms). Ten passes over s2, s3 | s1, s2, s3 ...; the sleeps
	// before s1 spread evenly over [100ms, 200ms), the other attempts at once.
	h := func(reply *history.Event) history.History {
		s := newF()
		sess := s.connect(0, 5, "s1")
		if reply != nil {
			s.add(*reply)
		}
		s.fault(250, "s2", "cut").fault(250, "s3", "cut").fault(300, "s1", "cut")
		s.add(cst(302, 0, cA, rR, "s1", sess))
		t := 302.0
		step := func(srv string, gap float64) { s.fail(t+gap, srv); t += gap + 1 }
		step("s2", 1)
		step("s3", 1)
		for i := range 10 {
			step("s1", 100+100*(float64(i)+0.5)/10)
			step("s2", 1)
			step("s3", 1)
		}
		s.land(0, t+150, "s1", rR)
		return s.hist()
	}
	sc := fscen(3, auto, reconnectOn(3e9))
	sc.Client.Reconnect.Strategy.Initial, sc.Client.Reconnect.Strategy.Jitter = 200e6, 0.5
	reply := passReply(6, "per_pass", map[string]any{"reconnect_wait_ms": 100, "jitter_ms": 100})
	runCases(t, []tcase{
		{name: "per pass, the sleeps uniform: OK", cfg: &JitterDistribution{}, sc: sc, h: h(&reply), verdict: OK,
			detail: []string{"11 factor(s)", "samples are the sleeps before the attempts that wrap round the pool, judged per pass", "delay_applies: per_pass"}},
		// Without the contract every delay is a sample: the immediate
		// attempts are factors near 0, far outside [0.5, 1].
		{name: "no contract: per attempt, FAILED", cfg: &JitterDistribution{}, sc: sc, h: h(nil), verdict: Failed,
			detail: []string{"jitter is not Uniform[0.5, 1]"}},
	})
}
