package check

import (
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestDeliberateClose(t *testing.T) {
	h := func(evs ...history.Event) history.History {
		s := &story{}
		s.connect(5, "A")
		return s.add(evs...).hist()
	}
	op := ev(500, "op", "op=close", "id=9")
	srvClose := ev(500, "session.close", "server=s1", "session=A", "reason=closed_by_server")
	runCases(t, []tcase{
		{name: "by client", cfg: &DeliberateClose{By: "client"},
			h: h(op, ev(501, "session.close", "server=s1", "session=A", "reason=closed_by_client"), state(502, cA, cBC, "A", "reason=closed_by_client")), verdict: OK},
		{name: "by server", cfg: &DeliberateClose{By: "server"},
			h: h(srvClose, ev(500.5, "conn.close", "server=s1", "conn=s1#1"), state(502, cA, cBS, "A", "reason=closed_by_server")), verdict: OK},
		{name: "reconnect after server close", cfg: &DeliberateClose{By: "server"},
			h: h(srvClose, state(502, cA, rR, "A"), ev(602, "accept", "server=s1", "conn=s1#2"),
				ev(602.5, "session.unknown", "server=s1", "conn=s1#2", "session=A"), state(603, rR, cF, "A", "reason=unknown_session")), verdict: Failed,
			detail: []string{"reconnect after deliberate close: client 0 entered RECOVERING_RECONNECT at 502.0ms after the server s1 session.close (closed_by_server) at 500.0ms",
				"reconnect after deliberate close: 1 server accept(s)", "went CLOSED_FAILED (unknown_session) at 603.0ms"}},
		{name: "attempts after client close", cfg: &DeliberateClose{By: "client"},
			h: h(op, ev(501, "session.close", "server=s1", "session=A", "reason=closed_by_client"), state(502, cA, cBC, "A"), ev(700, "accept", "server=s1", "conn=s1#2")), verdict: Failed,
			detail: []string{"reconnect after deliberate close: 1 server accept(s) after the harness op close at 500.0ms: s1#2 at 700.0ms"}},
		{name: "client close, server reason wrong", cfg: &DeliberateClose{By: "client"},
			h: h(op, ev(501, "session.disconnect", "server=s1", "session=A"), ev(501, "session.close", "server=s1", "session=A", "reason=no_reconnect"), state(502, cA, cBC, "A")), verdict: Failed,
			detail: []string{`with reason "no_reconnect", expected closed_by_client`}},
		{name: "client close ends failed", cfg: &DeliberateClose{By: "client"},
			h: h(op, ev(501, "session.close", "server=s1", "session=A", "reason=closed_by_client"), state(502, cA, cF, "A", "reason=connection_lost")), verdict: Failed,
			detail: []string{"went CLOSED_FAILED (connection_lost) at 502.0ms after the harness op close at 500.0ms, expected CLOSED_BY_CLIENT"}},
		{name: "no close op", cfg: &DeliberateClose{By: "client"}, h: h(), verdict: Unknown, detail: []string{"nothing to judge"}},
		{name: "no server close", cfg: &DeliberateClose{By: "server"}, h: h(), verdict: Unknown, detail: []string{"nothing to judge"}},
		{name: "by required", cfg: &DeliberateClose{}, h: h(), verdict: Failed, detail: []string{"bad parameters: by must be client or server"}},
	})
}
