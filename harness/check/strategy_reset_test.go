package check

import (
	"encoding/json"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestStrategyReset(t *testing.T) {
	// twoOutages: session A; outage 0 (cut at 400ms): failing attempts after
	// 100, 200ms, success after 400ms (3 attempts); outage 1 (cut at 2000ms,
	// RECOVERING at 2002ms): failing attempts after the given delays, then a
	// success after next.
	twoOutages := func(next float64, delays ...float64) *story {
		s := &story{}
		s.connect(5, "A")
		rec := s.lose(400, "cut", "A")
		end := s.attempts(rec, 100, 200)
		s.add(ev(1000, "fault.off", "link=s1", "verb=cut"))
		s.resume(end+400, "A")
		rec = s.lose(2000, "cut", "A")
		end = s.attempts(rec, delays...)
		s.add(ev(2100, "fault.off", "link=s1", "verb=cut"))
		s.resume(end+next, "A")
		return s
	}
	one := &story{}
	one.connect(5, "A")
	rec := one.lose(400, "cut", "A")
	one.resume(rec+100, "A")

	runCases(t, []tcase{
		{name: "starts again from Delay(0)", cfg: &StrategyReset{}, h: twoOutages(400, 100, 200).hist(), verdict: OK},
		{name: "strategy not reset", cfg: &StrategyReset{}, h: twoOutages(1000, 800).hist(), verdict: Failed,
			detail: []string{"strategy not reset: client 0 outage 1 (RECOVERING_RECONNECT at 2002.0ms) attempt 0 came 800.0ms after client RECOVERING_RECONNECT (client-reported) at 2002.0ms, expected Delay(0) 100.0ms within [60.0ms, 140.0ms]",
				"an un-reset strategy would continue with Delay(3) 800.0ms after the 3 earlier attempt(s)"}},
		{name: "second delay not reset", cfg: &StrategyReset{}, h: twoOutages(400, 100, 1000).hist(), verdict: Failed,
			detail: []string{"attempt 1 came 1000.0ms", "expected Delay(1) 200.0ms", "continue with Delay(4) 1000.0ms"}},
		{name: "one outage", cfg: &StrategyReset{}, h: one.hist(), verdict: Unknown,
			detail: []string{"needs ≥ 2 outages that each had ≥ 1 attempt", "seen: 1 outage(s), 1 with attempts"}},
	})
}

// A library whose effective contract does not promise a reset on success
// (paho.mqtt.golang resets its back-off only after a quiet spell) is not
// failed for continuing it: the result says so, with the evidence.
func TestStrategyResetNotPromised(t *testing.T) {
	withReset := func(value string, delays ...float64) history.History {
		s := &story{}
		s.connect(5, "A")
		b, _ := json.Marshal(map[string]any{"reset": map[string]string{"value": value, "cite": "lib backoff.go"}})
		s.add(ev(6, history.KindReply, "client=0", "op=connect", "id=1", "ok=true", "contract="+string(b)))
		rec := s.lose(400, "cut", "A")
		end := s.attempts(rec, 100, 200)
		s.add(ev(1000, "fault.off", "link=s1", "verb=cut"))
		s.resume(end+400, "A")
		rec = s.lose(2000, "cut", "A")
		end = s.attempts(rec, delays...)
		s.add(ev(2100, "fault.off", "link=s1", "verb=cut"))
		s.resume(end+200, "A")
		return s.hist()
	}
	runCases(t, []tcase{
		{name: "not promised, not reset", cfg: &StrategyReset{}, h: withReset("after_quiet", 800), verdict: Informational,
			detail: []string{"the library does not promise a reset on success, and did not reset", "attempt 0 came 800.0ms", "reset: after_quiet (lib backoff.go)"}},
		{name: "not promised, reset anyway", cfg: &StrategyReset{}, h: withReset("after_quiet", 100), verdict: OK},
		{name: "promised, not reset", cfg: &StrategyReset{}, h: withReset("on_success", 800), verdict: Failed},
	})
}
