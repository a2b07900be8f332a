package check

import (
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func TestNoReconnect(t *testing.T) {
	optOut := scen(func(sc *scenario.Scenario) { sc.Client.Reconnect.Enabled = false })
	lost := func(then ...history.Event) history.History {
		s := &story{}
		s.connect(5, "A")
		s.add(ev(400, "fault.on", "link=s1", "verb=cut"), ev(400.5, "conn.close", "server=s1", "conn=s1#1"))
		return s.add(then...).hist()
	}
	serverClose := ev(401, "session.close", "server=s1", "session=A", "reason=no_reconnect")
	clientClose := state(402, cA, cF, "A", "reason=connection_lost")
	runCases(t, []tcase{
		{name: "closes at once, zero attempts", cfg: &NoReconnect{}, sc: optOut, h: lost(serverClose, clientClose), verdict: OK},
		{name: "opt-out client entered RECOVERING", cfg: &NoReconnect{}, sc: optOut,
			h: lost(serverClose, state(402, cA, rR, "A"), state(900, rR, cF, "A", "reason=reconnect_timeout")), verdict: Failed,
			detail: []string{"opt-out client 0 entered RECOVERING_RECONNECT at 402.0ms after cut on s1 at 400.0ms", "went RECOVERING_RECONNECT at 402.0ms"}},
		{name: "opt-out client made attempts", cfg: &NoReconnect{}, sc: optOut,
			h: lost(serverClose, clientClose, ev(500, "accept", "server=s1", "conn=s1#2"), ev(501, "conn.close", "server=s1", "conn=s1#2")), verdict: Failed,
			detail: []string{"opt-out client 0 made 1 attempt(s) after cut on s1 at 400.0ms: server accept s1#2 at 500.0ms"}},
		{name: "server closed with another reason", cfg: &NoReconnect{}, sc: optOut,
			h: lost(ev(401, "session.close", "server=s1", "session=A", "reason=closed_by_server"), clientClose), verdict: Failed,
			detail: []string{`closed session "A" at 401.0ms with reason "closed_by_server", expected no_reconnect`}},
		{name: "server never closed", cfg: &NoReconnect{}, sc: optOut, h: lost(clientClose), verdict: Failed,
			detail: []string{`the server never closed session "A" with reason no_reconnect`}},
		{name: "reconnection enabled", cfg: &NoReconnect{}, h: lost(serverClose, clientClose), verdict: Failed,
			detail: []string{"reconnect.enabled true"}},
		{name: "no loss", cfg: &NoReconnect{}, sc: optOut, h: (&story{}).connect(5, "A").hist(), verdict: Unknown,
			detail: []string{"nothing to judge"}},
	})
}

// R7 and F1 agree: with reconnection off and autofailover on, the client
// leaves the lost session at once for a NEW session on the next server. A
// failover is not a reconnection attempt: before, no_reconnect counted the
// failover's accept as one (and wanted CLOSED_FAILED), while
// failover_sequence called the same history OK.
func TestNoReconnectWithFailover(t *testing.T) {
	sc := fscen(2, auto) // reconnection off
	// client 0 on s1; s1 cut at 500; the server closes the session
	// (no_reconnect); the client fails over to s2.
	lost := func() *fstory {
		s := newF()
		a := s.connect(0, 5, "s1")
		s.fault(500, "s1", "cut")
		s.add(ev(500.5, "session.close", "server=s1", "session="+a, "reason=no_reconnect"))
		return s.leave(0, 502, "s1", a)
	}
	failedOver := func() history.History {
		s := lost()
		s.land(0, 503, "s2", cg)
		return s.hist()
	}()
	runCases(t, []tcase{
		{name: "R7: a failover is not a reconnection", cfg: &NoReconnect{}, sc: sc, h: failedOver, verdict: OK,
			detail: []string{"zero reconnection attempts (failovers open new sessions)"}},
		{name: "F1: the same history", cfg: &FailoverSequence{}, sc: sc, h: failedOver, verdict: OK},
		{name: "R7: the failover resumes the lost session on s2", cfg: &NoReconnect{}, sc: sc, h: func() history.History {
			s := lost()
			return s.add(ev(503, "accept", "server=s2", "conn=s2#1"),
				ev(503.3, "handshake", "server=s2", "conn=s2#1", "session=S1", "ok=true", "resume=true"),
				ev(503.5, "session.resume", "server=s2", "conn=s2#1", "session=S1"),
				cst(504, 0, cg, cA, "s2", "S1")).hist()
		}(), verdict: Failed, detail: []string{`opt-out client 0 tried to resume its lost session "S1" after cut on s1 at 500.0ms: server s2 accepted a resume handshake on s2#1 at 503.3ms`}},
		{name: "R7: a refused resume of the lost session on the lost server", cfg: &NoReconnect{}, sc: sc, h: func() history.History {
			s := lost()
			s.add(ev(503, "accept", "server=s1", "conn=s1#2"),
				ev(503.3, "handshake", "server=s1", "conn=s1#2", "session=S1", "reason=unknown_session", "resume=true"),
				ev(503.4, "session.unknown", "server=s1", "conn=s1#2", "session=S1"))
			s.land(0, 510, "s2", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"server s1 refused a resume handshake on s1#2 (unknown_session) at 503.3ms"}},
		{name: "R7: an attempt after the failover landed", cfg: &NoReconnect{}, sc: sc, h: func() history.History {
			s := lost()
			s.land(0, 503, "s2", cg)
			return s.add(ev(900, "accept", "server=s1", "conn=s1#5")).hist()
		}(), verdict: Failed, detail: []string{"made 1 attempt(s) outside any failover after cut on s1 at 500.0ms: server accept s1#5 at 900.0ms"}},
		{name: "R7: recovers instead of failing over", cfg: &NoReconnect{}, sc: sc, h: func() history.History {
			s := newF()
			a := s.connect(0, 5, "s1")
			s.fault(500, "s1", "cut")
			s.add(ev(500.5, "session.close", "server=s1", "session="+a, "reason=no_reconnect"))
			return s.add(cst(502, 0, cA, rR, "s1", a)).hist()
		}(), verdict: Failed, detail: []string{"opt-out client 0 entered RECOVERING_RECONNECT at 502.0ms",
			"expected CONNECTED_ACTIVE → CLOSED_FAILED, or CONNECTING (a failover), at once"}},
		{name: "R7 without autofailover: the same failover is a reconnection attempt", cfg: &NoReconnect{}, sc: fscen(2), h: failedOver, verdict: Failed,
			detail: []string{"went CONNECTING at 502.0ms after cut on s1 at 500.0ms, expected CONNECTED_ACTIVE → CLOSED_FAILED at once",
				"made 1 attempt(s) after cut on s1 at 500.0ms: server accept s2#1 at 503.0ms"}},
	})
	// The failover's attempts and landing are counted as evidence.
	r := (&NoReconnect{}).Check(Input{History: failedOver, Scenario: sc})
	got := map[string]float64{}
	for _, m := range r.Measurements {
		got[m.Name] = m.Value
	}
	if got["client 0: reconnection attempts"] != 0 || got["client 0: failover attempts"] != 1 || got["client 0: failover landings"] != 1 {
		t.Errorf("measurements %+v", r.Measurements)
	}
}
