package check

import (
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestReconnectTimeout(t *testing.T) {
	// timedOut: session A, cut at 400ms for good (RECOVERING at 402ms),
	// failing attempts after 100, 200, 400, 800, 1000ms (last at 2906ms),
	// then the client closes at closeAt with reason.
	timedOut := func(closeAt float64, reason string, extra ...history.Event) history.History {
		s := &story{}
		s.connect(5, "A")
		rec := s.lose(400, "cut", "A")
		s.attempts(rec, 100, 200, 400, 800, 1000)
		s.add(state(closeAt, rR, cF, "A", "reason="+reason))
		return s.add(extra...).hist()
	}
	runCases(t, []tcase{
		{name: "one overall timer", cfg: &ReconnectTimeout{}, h: timedOut(3402, "reconnect_timeout"), verdict: OK},
		{name: "attempt in flight within tolerance", cfg: &ReconnectTimeout{}, h: timedOut(3402, "reconnect_timeout", ev(3450, "accept", "server=s1", "conn=s1#9")), verdict: OK},
		{name: "timeout per attempt (closes late)", cfg: &ReconnectTimeout{}, h: timedOut(4800, "reconnect_timeout"), verdict: Failed,
			detail: []string{"closed (reconnect_timeout) 4398.0ms after the loss at 402.0ms, later than the reconnect timeout 3000.0ms + tolerance 100.0ms", "per-attempt timer"}},
		{name: "closes early", cfg: &ReconnectTimeout{}, h: timedOut(3000, "reconnect_timeout"), verdict: Failed,
			detail: []string{"earlier than the reconnect timeout 3000.0ms − tolerance 100.0ms"}},
		{name: "attempts after timeout", cfg: &ReconnectTimeout{},
			h: timedOut(3402, "reconnect_timeout", ev(3600, "accept", "server=s1", "conn=s1#9"), ev(3601, "conn.close", "server=s1", "conn=s1#9")), verdict: Failed,
			detail: []string{"1 attempt(s) after the timeout close at 3402.0ms (+ tolerance 100.0ms): server accept s1#9 at 3600.0ms"}},
		{name: "closed with another reason", cfg: &ReconnectTimeout{}, h: timedOut(3402, "reconnect_aborted"), verdict: Failed,
			detail: []string{"the session never timed out", "went CLOSED_FAILED (reconnect_aborted) at 3402.0ms"}},
		{name: "recovered", cfg: &ReconnectTimeout{}, h: recoveryH(), verdict: Failed,
			detail: []string{"the session never timed out", "recovered (CONNECTED_ACTIVE) at 1907.0ms"}},
		{name: "no outage", cfg: &ReconnectTimeout{}, h: (&story{}).connect(5, "A").hist(), verdict: Unknown,
			detail: []string{"nothing to judge: the client never entered RECOVERING_RECONNECT"}},
	})
}
