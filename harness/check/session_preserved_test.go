package check

import (
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestSessionPreserved(t *testing.T) {
	// A recovery whose success is described by the given events instead of
	// a session.resume of A followed by CONNECTED_ACTIVE with A.
	recoverWith := func(evs ...history.Event) history.History {
		s := &story{}
		s.connect(5, "A")
		rec := s.lose(400, "cut", "A")
		s.attempts(rec, 100)
		s.add(evs...)
		return s.hist()
	}
	twice := recovery()
	rec := twice.lose(2500, "cut", "A")
	twice.resume(rec+100, "A")

	timedOut := &story{}
	timedOut.connect(5, "A")
	rec = timedOut.lose(400, "cut", "A")
	timedOut.attempts(rec, 100, 200)
	timedOut.add(state(3402, rR, cF, "A", "reason=reconnect_timeout"))

	runCases(t, []tcase{
		{name: "recovered", cfg: &SessionPreserved{}, h: recoveryH(), verdict: OK},
		{name: "recovered twice", cfg: &SessionPreserved{}, h: twice.hist(), verdict: OK},
		{name: "session id changed on recovery", cfg: &SessionPreserved{},
			h: recoverWith(
				ev(703, "accept", "server=s1", "conn=s1#3"),
				ev(704, "session.resume", "server=s1", "conn=s1#3", "session=A"),
				state(705, rR, cA, "B"),
			), verdict: Failed,
			detail: []string{`session id changed on recovery: client 0 outage 0 (RECOVERING_RECONNECT at 402.0ms) recovered at 705.0ms with session "B", not its session "A"`}},
		{name: "client claims recovery the server never saw", cfg: &SessionPreserved{},
			h: recoverWith(state(705, rR, cA, "A")), verdict: Failed,
			detail: []string{`client claims recovery the server never saw: client 0 reported CONNECTED_ACTIVE (session "A") at 705.0ms but no server recorded session.resume of "A" since the loss at 402.0ms`}},
		{name: "new session created in between", cfg: &SessionPreserved{},
			h: recoverWith(
				ev(703, "accept", "server=s1", "conn=s1#3"),
				ev(704, "session.create", "server=s1", "conn=s1#3", "session=B"),
				ev(704.5, "session.resume", "server=s1", "conn=s1#3", "session=A"),
				state(705, rR, cA, "A"),
			), verdict: Failed,
			detail: []string{`server s1 created a new session "B" at 704.0ms`}},
		{name: "no recovery", cfg: &SessionPreserved{}, h: timedOut.hist(), verdict: Failed,
			detail: []string{"no client recovered", "went CLOSED_FAILED (reconnect_timeout) at 3402.0ms"}},
		{name: "no outage", cfg: &SessionPreserved{}, h: (&story{}).connect(5, "A").hist(), verdict: Unknown,
			detail: []string{"nothing to judge"}},
	})
}
