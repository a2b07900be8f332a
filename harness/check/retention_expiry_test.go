package check

import (
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestRetentionExpiry(t *testing.T) {
	// expired: session A granted 2000ms (requested: the 3s timeout; server
	// max 2s); cut at 400ms (server disconnect 401ms); failing attempts;
	// heal at 2300ms; expiry at expireAt; the attempt at 2906ms gets
	// session.unknown at 2907ms; then the given events.
	expired := func(retention string, expireAt float64, then ...history.Event) history.History {
		s := &story{}
		s.connect(5, "A")
		for i := range s.evs {
			if s.evs[i].Kind == "session.create" {
				s.evs[i].Attrs["retention_ms"] = retention
			}
		}
		rec := s.lose(400, "cut", "A")
		s.attempts(rec, 100, 200, 400, 800)
		s.add(
			ev(2300, "fault.off", "link=s1", "verb=cut"),
			ev(expireAt, "session.expire", "server=s1", "session=A"),
			ev(2906, "accept", "server=s1", "conn=s1#6"),
			ev(2906.5, "handshake", "server=s1", "conn=s1#6", "session=A", "ok=false", "reason=unknown_session"),
			ev(2907, "session.unknown", "server=s1", "conn=s1#6", "session=A"),
			ev(2907.5, "conn.close", "server=s1", "conn=s1#6"),
		)
		return s.add(then...).hist()
	}
	closes := state(2909, rR, cF, "A", "reason=unknown_session")
	runCases(t, []tcase{
		{name: "kept for the granted retention, then unknown", cfg: &RetentionExpiry{}, h: expired("2000", 2401, closes), verdict: OK},
		{name: "retention granted wrong", cfg: &RetentionExpiry{}, h: expired("60000", 2401, closes), verdict: Failed,
			detail: []string{`server s1 granted retention 60000.0ms to session "A" at 6.0ms, expected min(requested 3000.0ms, server max 2000.0ms) = 2000.0ms`}},
		{name: "expiry late", cfg: &RetentionExpiry{}, h: expired("2000", 2700, closes), verdict: Failed,
			detail: []string{`expiry late: session "A" expired at 2700.0ms, 2299.0ms after its disconnect at 401.0ms; expected the granted retention 2000.0ms ± 100.0ms`}},
		{name: "expiry early", cfg: &RetentionExpiry{}, h: expired("2000", 1500, closes), verdict: Failed,
			detail: []string{"expiry early"}},
		{name: "client loops after unknown_session", cfg: &RetentionExpiry{},
			h: expired("2000", 2401, ev(3100, "accept", "server=s1", "conn=s1#7"), ev(3101, "session.unknown", "server=s1", "conn=s1#7", "session=A"),
				ev(3300, "accept", "server=s1", "conn=s1#8"), ev(3301, "session.unknown", "server=s1", "conn=s1#8", "session=A"), state(3400, rR, cF, "A", "reason=reconnect_timeout")), verdict: Failed,
			detail: []string{"client 0 loops after unknown_session: 2 server accept(s) after the session.unknown at 2907.0ms (+ tolerance 100.0ms): s1#7 at 3100.0ms, s1#8 at 3300.0ms",
				"closed CLOSED_FAILED (reconnect_timeout) at 3400.0ms after session.unknown at 2907.0ms, expected CLOSED_FAILED (unknown_session)"}},
		{name: "client never closes", cfg: &RetentionExpiry{}, h: expired("2000", 2401), verdict: Failed,
			detail: []string{"got session.unknown for \"A\" at 2907.0ms but never closed"}},
		{name: "no unknown", cfg: &RetentionExpiry{}, h: func() history.History {
			s := &story{}
			s.connect(5, "A")
			s.lose(400, "cut", "A")
			return s.add(ev(2401, "session.expire", "server=s1", "session=A"), state(3402, rR, cF, "A", "reason=reconnect_timeout")).hist()
		}(), verdict: Failed, detail: []string{"no later resume of session \"A\" got session.unknown"}},
		{name: "no expiry", cfg: &RetentionExpiry{}, h: recoveryH(), verdict: Unknown, detail: []string{"nothing to judge: no server expired a session"}},
	})
}
