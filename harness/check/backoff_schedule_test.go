package check

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func TestBackoffSchedule(t *testing.T) {
	// outage: session A, cut at 400ms (RECOVERING at 402ms), failing
	// attempts after the given delays, then (when resume > 0) a success
	// that much after the last close.
	outage := func(resume float64, delays ...float64) *story {
		s := &story{}
		s.connect(5, "A")
		rec := s.lose(400, "cut", "A")
		end := s.attempts(rec, delays...)
		if resume > 0 {
			s.resume(end+resume, "A")
		}
		return s
	}
	aborted := func(extra ...history.Event) history.History {
		s := outage(0, 100, 200, 400)
		s.add(state(1106, rR, cF, "A", "reason=reconnect_aborted"))
		return s.add(extra...).hist()
	}
	limit := func(n int) func(*scenario.Scenario) {
		return func(sc *scenario.Scenario) { sc.Client.Reconnect.Strategy.Attempts = n }
	}
	jitter := func(sc *scenario.Scenario) { sc.Client.Reconnect.Strategy.Jitter = 0.5 }
	fixed := func(sc *scenario.Scenario) {
		sc.Client.Reconnect.Strategy = scenario.Strategy{Backoff: "fixed", Initial: 250 * time.Millisecond}
	}
	two := func(sc *scenario.Scenario) { sc.Clients = 2 }

	runCases(t, []tcase{
		{name: "exponential followed", cfg: &BackoffSchedule{}, h: recoveryH(), verdict: OK},
		{name: "jitter within [1-j, 1]", cfg: &BackoffSchedule{}, sc: scen(jitter), h: outage(480, 60, 120, 240).hist(), verdict: OK},
		{name: "fixed strategy", cfg: &BackoffSchedule{}, sc: scen(fixed), h: outage(250, 250, 250, 250).hist(), verdict: OK},
		{name: "blackhole-held attempts", cfg: &BackoffSchedule{}, sc: scen(withConnectTimeout(200 * time.Millisecond)), h: blackholeRecovery().hist(), verdict: OK},
		{name: "abort after strategy.attempts", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit(3)), h: aborted(), verdict: OK},
		{name: "intervals that don't double", cfg: &BackoffSchedule{}, h: outage(100, 100, 100, 100).hist(), verdict: Failed,
			detail: []string{"attempt 1 (server accept s1#3 on s1 at 603.0ms) came 100.0ms after server conn.close s1#2 at 503.0ms; expected Delay(1) 200.0ms within [150.0ms, 250.0ms]"}},
		{name: "schedule too fast", cfg: &BackoffSchedule{}, h: outage(40, 10, 20).hist(), verdict: Failed,
			detail: []string{"attempt 0 (server accept s1#2 on s1 at 412.0ms) came 10.0ms after client RECOVERING_RECONNECT (client-reported) at 402.0ms; expected Delay(0) 100.0ms within [60.0ms, 140.0ms]"}},
		{name: "tight tolerance", cfg: &BackoffSchedule{Tolerance: Ptr(time.Millisecond), TolerancePct: Ptr(1.0)}, h: outage(800, 120, 200, 400).hist(), verdict: Failed,
			detail: []string{"came 120.0ms", "within [98.0ms, 102.0ms]"}},
		{name: "abort after the wrong count", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit(4)), h: aborted(), verdict: Failed,
			detail: []string{"aborted after 3 attempt(s) seen by the servers, expected exactly strategy.attempts 4"}},
		{name: "more attempts than the limit", cfg: &BackoffSchedule{}, sc: scen(limit(2)), h: aborted(), verdict: Failed,
			detail: []string{"made 3 attempts (server accepts), more than strategy.attempts 2"}},
		{name: "attempts continuing after abort", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit(3)),
			h: aborted(ev(1300, "accept", "server=s1", "conn=s1#9"), ev(1301, "conn.close", "server=s1", "conn=s1#9")), verdict: Failed,
			detail: []string{"attempts continuing after abort: 1 server accept(s) after the close at 1106.0ms (s1#9 at 1300.0ms)"}},
		{name: "abort expected, recovered", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit(5)), h: recoveryH(), verdict: Failed,
			detail: []string{"expected the strategy to abort after 5 attempts", "recovered (CONNECTED_ACTIVE) at 1907.0ms"}},
		{name: "abort without a limit", cfg: &BackoffSchedule{Abort: true}, h: aborted(), verdict: Failed,
			detail: []string{"strategy.attempts is 0"}},
		{name: "wrong close reason", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit(3)),
			h: func() history.History {
				s := outage(0, 100, 200, 400)
				return s.add(state(1106, rR, cF, "A", "reason=reconnect_timeout")).hist()
			}(), verdict: Failed, detail: []string{"expected CLOSED_FAILED (reconnect_aborted)", "reconnect_timeout"}},
		{name: "fewer than min_attempts", cfg: &BackoffSchedule{}, h: outage(100).hist(), verdict: Failed,
			detail: []string{"only 1 attempt(s) seen by the servers in any one outage, fewer than min_attempts 2"}},
		{name: "no outage", cfg: &BackoffSchedule{}, h: (&story{}).connect(5, "A").hist(), verdict: Unknown, detail: []string{"nothing to judge"}},
		{name: "two clients", cfg: &BackoffSchedule{}, sc: scen(two), h: recoveryH(), verdict: Failed, detail: []string{"needs clients: 1"}},
		// Zero is zero: an explicit tolerance of 0 is no tolerance, never
		// the default (5ms late passes with the default 30ms + 10%).
		{name: "5ms late, default tolerance", cfg: &BackoffSchedule{}, h: outage(800, 105, 200, 400).hist(), verdict: OK},
		{name: "5ms late, explicit zero tolerance", cfg: &BackoffSchedule{Tolerance: Ptr(time.Duration(0)), TolerancePct: Ptr(0.0)},
			h: outage(800, 105, 200, 400).hist(), verdict: Failed, detail: []string{"came 105.0ms", "within [100.0ms, 100.0ms]"}},
		{name: "bad params", cfg: &BackoffSchedule{MinAttempts: Ptr(-1)}, h: recoveryH(), verdict: Failed, detail: []string{"bad parameters: min_attempts"}},
	})
}
