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
		{name: "explicit bound with two clients", cfg: &ReconnectWindow{Within: Ptr(time.Second)}, sc: scen(two), h: recoveryH(), verdict: OK},
		{name: "window over bound", cfg: &ReconnectWindow{}, h: late.hist(), verdict: Failed,
			detail: []string{"client 0: reconnect window 901.0ms > bound 555.0ms (next scheduled attempt 505.0ms + tolerance 50.0ms; attempt 3 due at 1905.0ms: server conn.close s1#4 at 1105.0ms + Delay(3) 800.0ms); heal at 1400.0ms, resume at 2301.0ms"}},
		{name: "impossible bound", cfg: &ReconnectWindow{Within: Ptr(time.Millisecond)}, h: recoveryH(), verdict: Failed,
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
		{name: "no heal while recovering", cfg: &ReconnectWindow{}, h: notRecovering.hist(), verdict: Unknown, detail: []string{"nothing to judge"}},
		{name: "derived bound needs one client", cfg: &ReconnectWindow{}, sc: scen(two), h: recoveryH(), verdict: Failed,
			detail: []string{"needs clients: 1", "or give within"}},
	})
}

// claimAt is recovery() with the client's CONNECTED_ACTIVE (1907ms there)
// moved to claim, and extra events.
func claimAt(claim float64, extra ...history.Event) history.History {
	h := recovery().add(extra...).hist()
	for i := range h {
		if h[i].Kind == history.KindState && h[i].To == cA && h[i].From == rR {
			h[i].T = msd(claim)
		}
	}
	return (&story{evs: h}).hist()
}

// The client's CONNECTED_ACTIVE is held against the server's session.resume
// of the same instant: within the stamps' slack (10ms + the run's lag) plus
// the machine's stall between them it agrees; beyond it, late or early, the
// window (judged on the server's stamp) stays, but the result is NON-STRICT.
func TestReconnectWindowClientClaim(t *testing.T) {
	stall := func(at float64, d string) history.Event { return ev(at, history.KindStall, "src=harness", "for="+d) }
	lag := func(d string) history.Event { return ev(100, history.KindLag, "src=harness", "max="+d) }
	// The first resume's connection fails before the client could use it;
	// the second resume is the one the client reports.
	again := recovery()
	again.evs = again.evs[:len(again.evs)-1] // drop the client's CONNECTED_ACTIVE at 1907
	again.add(ev(1950, "conn.close", "server=s1", "conn=s1#5", "reason=reset"),
		ev(2100, "accept", "server=s1", "conn=s1#6"), ev(2101, "session.resume", "server=s1", "conn=s1#6", "session=A"),
		state(2102, rR, cA, "A"))
	runCases(t, []tcase{
		{name: "claim within the slack", cfg: &ReconnectWindow{}, h: claimAt(1915), verdict: OK},
		{name: "claim within slack + stall", cfg: &ReconnectWindow{}, h: claimAt(1946, stall(1940, "35ms")), verdict: OK},
		{name: "claim within slack + the run's lag", cfg: &ReconnectWindow{}, h: claimAt(1936, lag("25ms")), verdict: OK},
		{name: "claim for a later resume", cfg: &ReconnectWindow{}, h: again.hist(), verdict: OK},
		{name: "claim 200ms late", cfg: &ReconnectWindow{}, h: claimAt(2106), verdict: NonStrict,
			detail: []string{"client 0 CONNECTED_ACTIVE at 2106.0ms, server s1 session.resume at 1906.0ms: gap 200.0ms > slack 10.0ms (the client's claim is late)"}},
		{name: "claim late beyond slack + stall", cfg: &ReconnectWindow{}, h: claimAt(2106, stall(2000, "60ms")), verdict: NonStrict,
			detail: []string{"gap 200.0ms > slack 10.0ms + stall 60.0ms"}},
		{name: "claim early", cfg: &ReconnectWindow{}, h: claimAt(1880), verdict: NonStrict,
			detail: []string{"client 0 CONNECTED_ACTIVE at 1880.0ms, server s1 session.resume at 1906.0ms: gap 26.0ms > slack 10.0ms (the client's claim is early)"}},
		{name: "a late claim does not hide a late window", cfg: &ReconnectWindow{Within: Ptr(100 * time.Millisecond)}, h: claimAt(2106), verdict: Failed,
			detail: []string{"reconnect window 506.0ms > bound 100.0ms"}},
	})
}

// An explicit tolerance or within of 0 is zero, never the default.
func TestReconnectWindowExplicitZero(t *testing.T) {
	runCases(t, []tcase{
		{name: "default tolerance", cfg: &ReconnectWindow{}, h: recoveryH(), verdict: OK},
		{name: "tolerance 0", cfg: &ReconnectWindow{Tolerance: Ptr(time.Duration(0))}, h: recoveryH(), verdict: Failed,
			detail: []string{"reconnect window 506.0ms > bound 505.0ms (next scheduled attempt 505.0ms + tolerance 0.0ms"}},
		{name: "within 0", cfg: &ReconnectWindow{Within: Ptr(time.Duration(0))}, h: recoveryH(), verdict: Failed,
			detail: []string{"reconnect window 506.0ms > bound 0.0ms (within 0.0ms)"}},
		{name: "bad within", cfg: &ReconnectWindow{Within: Ptr(-time.Millisecond)}, h: recoveryH(), verdict: Failed,
			detail: []string{"bad parameters: within"}},
	})
	if (&ReconnectWindow{}).NeedsOneClient() == "" {
		t.Error("without within the bound is derived from one client's attempts: NeedsOneClient must say so")
	}
	if why := (&ReconnectWindow{Within: Ptr(time.Duration(0))}).NeedsOneClient(); why != "" {
		t.Errorf("an explicit within (even 0) needs no attribution: %q", why)
	}
}

// The server's answer reaches the client one link delay after the server
// recorded it: a slow fault towards the client excuses that much lateness
// (never earliness), and with several clients on the machine's cores a late
// claim is measured, not judged.
func TestReconnectWindowClientClaimAcrossTheLink(t *testing.T) {
	slow := func(dir string) history.Event {
		return ev(1500, history.KindFaultOn, "link=s1", "verb=slow", "latency=150ms", "jitter=0s", "direction="+dir)
	}
	two := func(sc *scenario.Scenario) { sc.Clients = 2 }
	runCases(t, []tcase{
		{name: "slow link: the answer's delay", cfg: &ReconnectWindow{}, h: claimAt(2060, slow("both")), verdict: OK},
		{name: "slow link: beyond its delay", cfg: &ReconnectWindow{}, h: claimAt(2106, slow("downstream")), verdict: NonStrict,
			detail: []string{"gap 200.0ms > slack 10.0ms + link 160.0ms (slow 150.0ms ± 0.0ms on link s1, + 10.0ms its timer may fire late unrecorded)"}},
		{name: "slow towards the server excuses nothing", cfg: &ReconnectWindow{}, h: claimAt(2060, slow("upstream")), verdict: NonStrict,
			detail: []string{"gap 154.0ms > slack 10.0ms (the client's claim is late)"}},
		{name: "two clients: a late claim is measured", cfg: &ReconnectWindow{Within: Ptr(time.Second)}, sc: scen(two), h: claimAt(2106), verdict: OK},
		{name: "two clients: an early claim is judged", cfg: &ReconnectWindow{Within: Ptr(time.Second)}, sc: scen(two), h: claimAt(1880), verdict: NonStrict,
			detail: []string{"gap 26.0ms > slack 10.0ms (the client's claim is early)"}},
	})
}
