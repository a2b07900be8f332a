package check

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// R2 judged per attempt against the library's own back-off: a library that
// cannot express the scenario's strategy (paho.mqtt.golang's reconnect
// starts at a fixed 1 s and doubles) is judged by the numbers its
// effective contract gives, first attempt at once when it says so.
func TestBackoffScheduleFromTheContract(t *testing.T) {
	reply := func(first, jitterKind string, params map[string]any) history.Event {
		term := func(v string) map[string]string { return map[string]string{"value": v, "cite": "lib reconnect()"} }
		ct := map[string]any{"first_attempt": term(first), "delay_applies": term("per_attempt"), "jitter": term(jitterKind), "params": params}
		b, _ := json.Marshal(ct)
		return ev(6, history.KindReply, "client=0", "op=connect", "id=1", "ok=true", "contract="+string(b))
	}
	// Client 0 on s1 loses it at 300ms (RECOVERING_RECONNECT at 302ms);
	// each attempt fails 1ms after its accept; the last one lands.
	story := func(r history.Event, gaps ...float64) history.History {
		s := newF()
		sess := s.connect(0, 5, "s1")
		s.add(r)
		s.fault(300, "s1", "cut")
		s.add(cst(302, 0, cA, rR, "s1", sess))
		t := 302.0
		for _, g := range gaps[:len(gaps)-1] {
			s.fail(t+g, "s1")
			t += g + 1
		}
		s.heal(t, "s1", "cut")
		s.land(0, t+gaps[len(gaps)-1], "s1", rR)
		return s.hist()
	}
	paho := reply("immediate", "none", map[string]any{"initial_ms": 1000, "multiplier": 2, "max_ms": 4000})
	sc := fscen(1, reconnectOn(30e9)) // the scenario asked 100ms exponential: the library cannot
	runCases(t, []tcase{
		{name: "at once, then 1s, 2s, 4s, 4s: OK", cfg: &BackoffSchedule{}, sc: sc, h: story(paho, 1, 1000, 2000, 4000, 4000), verdict: OK,
			detail: []string{"5 attempt(s) over 1 outage(s) followed the schedule",
				"judged against the library's back-off: contract params: sleep n is min(initial_ms 1000·multiplier 2^n, max_ms 4000)",
				"first_attempt immediate"}},
		// The servers may stamp an at-once attempt before the client's
		// report of the loss arrives (seen: 0.3 ms): it is the outage's.
		{name: "attempt 0 stamped before the client's report: OK", cfg: &BackoffSchedule{}, sc: sc, h: story(paho, -0.3, 1000, 2000, 4000), verdict: OK,
			detail: []string{"4 attempt(s) over 1 outage(s) followed the schedule"}},
		{name: "the first attempt waited: FAILED", cfg: &BackoffSchedule{}, sc: sc, h: story(paho, 1000, 1000, 2000, 4000), verdict: Failed,
			detail: []string{"attempt 0", "expected Delay(0) 0.0ms"}},
		{name: "no doubling: FAILED", cfg: &BackoffSchedule{}, sc: sc, h: story(paho, 1, 1000, 1000, 1000), verdict: Failed,
			detail: []string{"attempt 2", "expected Delay(2) 2000.0ms"}},
		{name: "the scenario's 100ms strategy instead of the library's: FAILED", cfg: &BackoffSchedule{}, sc: sc, h: story(paho, 1, 100, 200, 400), verdict: Failed,
			detail: []string{"expected Delay(1) 1000.0ms"}},
	})
	// Symmetric jitter d·U[0.8, 1.2] maps onto 1.2d·U[2/3, 1]: 0.8d and 1.2d
	// are both inside, 0.7d is not.
	sym := reply("after_delay", "symmetric", map[string]any{"initial_ms": 1000, "multiplier": 1, "jitter": 0.2})
	tight := &BackoffSchedule{Tolerance: Ptr(time.Duration(0)), TolerancePct: Ptr(0.0)}
	runCases(t, []tcase{
		{name: "symmetric: 0.8d and 1.2d: OK", cfg: tight, sc: sc, h: story(sym, 800, 1200, 1000), verdict: OK},
		{name: "symmetric: 0.7d: FAILED", cfg: tight, sc: sc, h: story(sym, 800, 700, 1000), verdict: Failed,
			detail: []string{"expected Delay(1) 1200.0ms within [800.0ms, 1200.0ms]"}},
	})
}
