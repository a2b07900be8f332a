package check

import (
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// lifeStory: client 0's connect op at 0ms, its first state (no from) at
// 1ms, session A created on s1 and CONNECTED_ACTIVE at 5ms.
func lifeStory() *story {
	s := &story{}
	s.add(
		ev(0, "op", "op=connect"),
		ev(1, "state", "to="+cg, "server=s1"),
	)
	s.connect(3, "A")
	return s
}

// lifeRecovered: lifeStory, lost at 400ms, resumed at 600ms.
func lifeRecovered() *story {
	s := lifeStory()
	s.lose(400, "cut", "A")
	s.add(ev(550, "fault.off", "link=s1", "verb=cut"))
	s.resume(600, "A")
	return s
}

func TestLifecycle(t *testing.T) {
	two := scen(func(sc *scenario.Scenario) { sc.Clients = 2 })
	runCases(t, []tcase{
		// Lifecycles that must pass.
		{name: "connect, recover, close", cfg: &Lifecycle{},
			h: lifeRecovered().add(state(900, cA, cBC, "A", "reason=closed_by_client")).hist(), verdict: OK,
			detail: []string{"5 transition(s) of 1 client(s), 1 session(s)"}},
		{name: "failover: back to CONNECTING, a new session elsewhere", cfg: &Lifecycle{},
			h: lifeStory().add(
				ev(400, "fault.on", "link=s1", "verb=cut"),
				state(402, cA, cg, "A", "reason=connection_lost"),
				ev(410, "accept", "server=s2", "conn=s2#1"),
				ev(411, "session.create", "server=s2", "conn=s2#1", "session=B"),
				ev(412, "state", "from="+cg, "to="+cA, "server=s2", "session=B"),
			).hist(), verdict: OK},
		{name: "the first connect fails: CONNECTING → CLOSED_FAILED", cfg: &Lifecycle{},
			h: (&story{}).add(ev(0, "op", "op=connect"), ev(1, "state", "to="+cg, "server=s1"),
				state(300, cg, cF, "", "reason=connection_error")).hist(), verdict: OK},
		{name: "a new session after a close, started by a new connect op", cfg: &Lifecycle{},
			h: lifeStory().add(
				state(300, cA, cBC, "A", "reason=closed_by_client"),
				ev(400, "op", "op=connect"),
				ev(401, "state", "to="+cg, "server=s1"),
				ev(402, "session.create", "server=s1", "conn=s1#2", "session=B"),
				state(403, cg, cA, "B"),
			).hist(), verdict: OK, detail: []string{"2 session(s)"}},
		{name: "two clients interleaved", cfg: &Lifecycle{}, sc: two,
			h: lifeStory().add(
				ev(0.5, "op", "op=connect", "client=1"),
				ev(1.5, "state", "to="+cg, "server=s1", "client=1"),
				ev(6, "session.create", "server=s1", "conn=s1#9", "session=B"),
				ev(7, "state", "from="+cg, "to="+cA, "server=s1", "session=B", "client=1"),
				ev(800, "state", "from="+cA, "to="+cBC, "server=s1", "session=B", "client=1"),
			).hist(), verdict: OK, detail: []string{"of 2 client(s)"}},
		{name: "the server's resume stamped just after the client's claim", cfg: &Lifecycle{},
			h: lifeStory().add(
				state(402, cA, rR, "A"),
				state(600, rR, cA, "A"),
				ev(603, "session.resume", "server=s1", "conn=s1#3", "session=A"),
			).hist(), verdict: OK},
		{name: "the server closed right after a resume the client reported late", cfg: &Lifecycle{},
			h: lifeStory().add(
				state(402, cA, rR, "A"),
				ev(600, "session.resume", "server=s1", "conn=s1#3", "session=A"),
				ev(601, "session.close", "server=s1", "session=A", "reason=closed_by_server"),
				state(640, rR, cA, "A"),
				state(641, cA, cBS, "A", "reason=closed_by_server"),
			).hist(), verdict: OK},

		// Lifecycles that must fail.
		{name: "a session the server closed comes back to life", cfg: &Lifecycle{},
			h: lifeStory().add(
				ev(499, "session.close", "server=s1", "session=A", "reason=closed_by_server"),
				state(500, cA, cBS, "A", "reason=closed_by_server"),
				state(700, cBS, cA, "A"),
			).hist(), verdict: Failed,
			detail: []string{
				"client 0: a closed session came back: CLOSED_BY_SERVER→CONNECTED_ACTIVE at 700.0ms session A on s1 after CONNECTED_ACTIVE→CLOSED_BY_SERVER at 500.0ms session A on s1 (closed_by_server)",
				"server s1 ended session A at 499.0ms: session.close (closed_by_server)",
				"claims session A, which server s1 ended at 499.0ms",
			}},
		{name: "a closed session reopens without from and without a connect op", cfg: &Lifecycle{},
			h: lifeStory().add(
				state(500, cA, cF, "A", "reason=connection_lost"),
				ev(600, "state", "to="+cg, "server=s1"),
			).hist(), verdict: Failed,
			detail: []string{"a closed session came back: (none)→CONNECTING at 600.0ms on s1 after CONNECTED_ACTIVE→CLOSED_FAILED at 500.0ms"}},
		{name: "a state after a close, from the closed state", cfg: &Lifecycle{},
			h: lifeStory().add(
				state(500, cA, cBC, "A", "reason=closed_by_client"),
				state(510, cBC, cF, "A", "reason=connection_lost"),
			).hist(), verdict: Failed,
			detail: []string{"CLOSED_BY_CLIENT→CLOSED_FAILED at 510.0ms session A on s1 (connection_lost) follows CONNECTED_ACTIVE→CLOSED_BY_CLIENT at 500.0ms", "nothing follows a close"}},
		{name: "from is not the previous to", cfg: &Lifecycle{},
			h: lifeStory().add(
				state(402, cA, rR, "A"),
				ev(599, "session.resume", "server=s1", "conn=s1#3", "session=A"),
				state(600, cg, cA, "A"),
			).hist(), verdict: Failed,
			detail: []string{"client 0: CONNECTING→CONNECTED_ACTIVE at 600.0ms session A on s1 does not start where the last ended: CONNECTED_ACTIVE→RECOVERING_RECONNECT at 402.0ms"}},
		{name: "an illegal transition", cfg: &Lifecycle{},
			h: (&story{}).add(ev(0, "op", "op=connect"), ev(1, "state", "to="+cg, "server=s1"),
				state(300, cg, rR, "")).hist(), verdict: Failed,
			detail: []string{"CONNECTING→RECOVERING_RECONNECT at 300.0ms on s1 is not a legal transition (from CONNECTING: CONNECTED_ACTIVE, CLOSED_BY_CLIENT, CLOSED_BY_SERVER, CLOSED_FAILED)"}},
		{name: "CONNECTED_ACTIVE to itself", cfg: &Lifecycle{},
			h: lifeStory().add(state(300, cA, cA, "A")).hist(), verdict: Failed,
			detail: []string{"CONNECTED_ACTIVE→CONNECTED_ACTIVE at 300.0ms session A on s1 is not a legal transition"}},
		{name: "a first state with a from", cfg: &Lifecycle{},
			h: (&story{}).add(ev(0, "op", "op=connect")).connect(3, "A").hist(), verdict: Failed,
			detail: []string{"CONNECTING→CONNECTED_ACTIVE at 5.0ms session A on s1 is its first state, with a from"}},
		{name: "a session with no connect op", cfg: &Lifecycle{},
			h: (&story{}).add(ev(1, "state", "to="+cg, "server=s1")).hist(), verdict: Failed,
			detail: []string{"(none)→CONNECTING at 1.0ms on s1 starts a session with no connect op for it (the harness sent 0, 0 session(s) began)"}},
		{name: "a first state that is not CONNECTING", cfg: &Lifecycle{},
			h: (&story{}).add(ev(0, "op", "op=connect"), ev(1, "session.create", "server=s1", "conn=s1#1", "session=A"),
				ev(2, "state", "to="+cA, "server=s1", "session=A")).hist(), verdict: Failed,
			detail: []string{"(none)→CONNECTED_ACTIVE at 2.0ms session A on s1: a session's first state is CONNECTING"}},
		{name: "a legal-looking resume of a session the server had expired", cfg: &Lifecycle{},
			h: lifeStory().add(
				state(402, cA, rR, "A"),
				ev(2402, "session.expire", "server=s1", "session=A"),
				state(2500, rR, cA, "A"),
			).hist(), verdict: Failed,
			detail: []string{"client 0: RECOVERING_RECONNECT→CONNECTED_ACTIVE at 2500.0ms session A on s1 claims session A, which server s1 ended at 2402.0ms (session.expire) and did not serve again: it last served it at 4.0ms (session.create), for an earlier claim"}},
		{name: "the second of two clients breaks the rule", cfg: &Lifecycle{}, sc: two,
			h: lifeStory().add(
				ev(0.5, "op", "op=connect", "client=1"),
				ev(1.5, "state", "to="+cg, "server=s1", "client=1"),
				ev(200, "state", "from="+cg, "to="+cF, "server=s1", "reason=connection_error", "client=1"),
				ev(300, "state", "from="+cF, "to="+cg, "server=s1", "client=1"),
			).hist(), verdict: Failed,
			detail: []string{"client 1: a closed session came back: CLOSED_FAILED→CONNECTING at 300.0ms"}},

		// Nothing to judge.
		{name: "empty history", cfg: &Lifecycle{}, h: history.History{}, verdict: Unknown,
			detail: []string{"nothing to judge: no client reported a state"}},
		{name: "a connect op, never a state", cfg: &Lifecycle{},
			h: (&story{}).add(ev(0, "op", "op=connect")).hist(), verdict: Unknown},
	})
}

// TestLifecycleScope: U1 speaks of sessions; a router scenario has none, so
// the runner leaves it out there (UniversalsFor), and judges it elsewhere.
func TestLifecycleScope(t *testing.T) {
	has := func(specs []Spec) bool {
		for _, s := range specs {
			if s.Name == "lifecycle" && s.Judges[0] == "U1" {
				return true
			}
		}
		return false
	}
	if !has(UniversalsFor(scen())) {
		t.Errorf("lifecycle is not judged in a session scenario: %v", UniversalsFor(scen()))
	}
	if has(UniversalsFor(rscen(2))) {
		t.Errorf("lifecycle is judged in a router scenario")
	}
}
