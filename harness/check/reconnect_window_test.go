package check

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func TestReconnectWindow(t *testing.T) {
	// healed: session A, cut at 400ms (RECOVERING 402ms), failing attempts
	// after 100, 200, 400ms (last close 1105ms), heal at 1400ms, then the
	// given events.
	healed := func(then ...history.Event) *story {
		s := &story{}
		s.connect(5, "A")
		rec := s.lose(400, "cut", "A")
		s.attempts(rec, 100, 200, 400)
		s.add(ev(1400, "fault.off", "link=s1", "verb=cut"))
		return s.add(then...)
	}
	late := healed()
	late.resume(2300, "A")

	early := &story{}
	early.connect(5, "A")
	early.lose(400, "cut", "A")
	early.add(ev(450, "fault.off", "link=s1", "verb=cut"))
	early.resume(502, "A")

	down := &story{}
	down.connect(5, "A")
	down.lose(400, "down", "A")
	down.add(ev(1400, "fault.off", "link=s1", "verb=down"))
	down.resume(1902, "A")

	notRecovering := &story{}
	notRecovering.connect(5, "A")
	notRecovering.add(ev(400, "fault.on", "link=s1", "verb=slow"), ev(500, "fault.off", "link=s1", "verb=slow"))

	two := func(sc *scenario.Scenario) { sc.Clients = 2 }
	runCases(t, []tcase{
		{name: "within the next scheduled attempt", cfg: &ReconnectWindow{}, h: recoveryH(), verdict: OK},
		{name: "blackhole: held attempt closed by the heal", cfg: &ReconnectWindow{}, sc: scen(withConnectTimeout(200 * time.Millisecond)), h: blackholeRecovery().hist(), verdict: OK},
		{name: "heal before the first attempt", cfg: &ReconnectWindow{}, h: early.hist(), verdict: OK},
		{name: "down: schedule derived from the client's origin", cfg: &ReconnectWindow{}, h: down.hist(), verdict: OK},
		{name: "explicit bound with two clients", cfg: &ReconnectWindow{Within: time.Second}, sc: scen(two), h: recoveryH(), verdict: OK},
		{name: "window over bound", cfg: &ReconnectWindow{}, h: late.hist(), verdict: Failed,
			detail: []string{"client 0: reconnect window 901.0ms > bound 555.0ms (next scheduled attempt 505.0ms + tolerance 50.0ms; attempt 3 due at 1905.0ms: server conn.close s1#4 at 1105.0ms + Delay(3) 800.0ms); heal at 1400.0ms, resume at 2301.0ms"}},
		{name: "impossible bound", cfg: &ReconnectWindow{Within: time.Millisecond}, h: recoveryH(), verdict: Failed,
			detail: []string{"reconnect window 506.0ms > bound 1.0ms (within 1.0ms); heal at 1400.0ms"}},
		{name: "down: window over bound", cfg: &ReconnectWindow{}, h: func() history.History {
			s := &story{}
			s.connect(5, "A")
			s.lose(400, "down", "A")
			s.add(ev(1400, "fault.off", "link=s1", "verb=down"))
			return s.resume(2100, "A").hist()
		}(), verdict: Failed, detail: []string{"reconnect window 701.0ms > bound 552.0ms", "refused attempts are invisible to the servers (client-reported origin)"}},
		{name: "client claims recovery without a resume", cfg: &ReconnectWindow{}, h: healed(state(1907, rR, cA, "A")).hist(), verdict: Failed,
			detail: []string{`no server session.resume of "A" after the heal at 1400.0ms`, "recovered (CONNECTED_ACTIVE) at 1907.0ms"}},
		{name: "resumed, client never active", cfg: &ReconnectWindow{}, h: healed(ev(1905, "accept", "server=s1", "conn=s1#9"), ev(1906, "session.resume", "server=s1", "conn=s1#9", "session=A")).hist(), verdict: Failed,
			detail: []string{"the client never reported CONNECTED_ACTIVE (it was still RECOVERING_RECONNECT at the end"}},
		{name: "never recovered", cfg: &ReconnectWindow{}, h: healed(state(3402, rR, cF, "A", "reason=reconnect_timeout")).hist(), verdict: Failed,
			detail: []string{"no server session.resume", "went CLOSED_FAILED (reconnect_timeout) at 3402.0ms"}},
		{name: "no heal while recovering", cfg: &ReconnectWindow{}, h: notRecovering.hist(), verdict: Failed, detail: []string{"nothing to judge"}},
		{name: "derived bound needs one client", cfg: &ReconnectWindow{}, sc: scen(two), h: recoveryH(), verdict: Failed,
			detail: []string{"needs clients: 1", "or give within"}},
	})
}
