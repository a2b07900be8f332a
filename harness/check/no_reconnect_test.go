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
		{name: "no loss", cfg: &NoReconnect{}, sc: optOut, h: (&story{}).connect(5, "A").hist(), verdict: Failed,
			detail: []string{"nothing to judge"}},
	})
}
