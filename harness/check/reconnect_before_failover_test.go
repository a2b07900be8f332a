package check

import (
	"fmt"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// A stdio driver's events are stamped when its line reaches the harness; a
// server's accept, when the server takes the connection. The engine reports
// CONNECTING and then dials, yet the failover's first accept can be stamped
// first. Seen with the Node driver: CONNECTING at 2004.8ms, s2's accept at
// 2006.2ms, 1.5ms apart on an idle machine; under load the order flips. The
// failover's own window (walkSlack before its CONNECTING, never before the
// recovery) claims such an accept, as failover_sequence does; anywhere else
// in the recovery an accept on another server is still a misdirected
// recovery attempt.
func TestReconnectBeforeFailoverAllowsTheDriversStampingDelay(t *testing.T) {
	sc := fscen(2, auto, reconnectOn(800*time.Millisecond))
	const lost = 1201.0 // RECOVERING_RECONNECT; CONNECTING 800ms later
	// The recovery on s1, then the failover's CONNECTING at 2001ms and its
	// landing on s2, whose accept is stamped acceptAt.
	story := func(acceptAt float64, extra ...history.Event) history.History {
		s := newF()
		a := s.connect(0, 5, "s1")
		s.fault(1200, "s1", "cut")
		s.add(cst(lost, 0, cA, rR, "s1", a))
		s.fail(1301, "s1").fail(1402, "s1").fail(1903, "s1")
		s.add(cst(lost+800, 0, rR, cg, "s1", a, "reason=reconnect_timeout"))
		cn, b := s.conn("s2"), s.newSess()
		s.add(
			ev(acceptAt, "accept", "server=s2", "conn="+cn),
			ev(acceptAt+0.5, "handshake", "server=s2", "conn="+cn, "ok=true", "session="+b),
			ev(2003, "session.create", "server=s2", "conn="+cn, "session="+b, "retention_ms=0", "ping_ms=100"),
			cst(2004, 0, cg, cA, "s2", b),
		)
		return s.add(extra...).hist()
	}
	before := func(ms float64) float64 { return lost + 800 - ms }
	slack := float64(walkSlack / time.Millisecond)
	runCases(t, []tcase{
		{name: "the failover's accept stamped after the client's CONNECTING", cfg: &ReconnectBeforeFailover{}, sc: sc,
			h: story(2002), verdict: OK},
		{name: "the failover's accept stamped 3ms before it (the driver's stdout delay)", cfg: &ReconnectBeforeFailover{}, sc: sc,
			h: story(before(3)), verdict: OK},
		{name: "the failover's accept stamped at the edge of the failover's window", cfg: &ReconnectBeforeFailover{}, sc: sc,
			h: story(before(slack)), verdict: OK},
		{name: "an accept on s2 beyond the window is a recovery attempt", cfg: &ReconnectBeforeFailover{}, sc: sc,
			h: story(before(slack + 10)), verdict: Failed,
			detail: []string{fmt.Sprintf("recovery attempt on s2 (server accept s2#1 at %.1fms)", before(slack+10))}},
		{name: "an accept on s2 mid-recovery, beside the failover's own", cfg: &ReconnectBeforeFailover{}, sc: sc,
			h: story(before(3), ev(1350, "accept", "server=s2", "conn=s2#7")), verdict: Failed,
			detail: []string{"recovery attempt on s2 (server accept s2#7 at 1350.0ms)"}},
	})
	// Without a failover there is no window to claim an accept on s2: just
	// before a recovery's success it is a recovery attempt on the wrong
	// server.
	recovered := func() history.History {
		s := newF()
		a := s.connect(0, 5, "s1")
		s.fault(400, "s1", "cut")
		s.add(cst(401, 0, cA, rR, "s1", a))
		s.fail(501, "s1")
		s.heal(650, "s1", "cut")
		s.add(ev(699, "accept", "server=s2", "conn=s2#3"),
			ev(702, "accept", "server=s1", "conn=s1#9"), ev(702.5, "session.resume", "server=s1", "conn=s1#9", "session="+a),
			cst(703, 0, rR, cA, "s1", a))
		// a later loss that does fail over, so that there is something to judge
		s.fault(1200, "s1", "cut")
		s.add(cst(lost, 0, cA, rR, "s1", a), cst(lost+800, 0, rR, cg, "s1", a, "reason=reconnect_timeout"))
		s.land(0, 2002, "s2", cg)
		return s.hist()
	}()
	runCases(t, []tcase{
		{name: "an accept on s2 just before a recovery succeeds", cfg: &ReconnectBeforeFailover{}, sc: sc, h: recovered, verdict: Failed,
			detail: []string{"recovery attempt on s2 (server accept s2#3 at 699.0ms)"}},
	})
	// The same accept is the failover's first attempt for failover_sequence:
	// the two checkers agree on whose it is.
	runCases(t, []tcase{
		{name: "failover_sequence counts the early accept as the failover's", cfg: &FailoverSequence{}, sc: sc,
			h: story(before(3)), verdict: OK},
	})
}

// tolerance: 0 is zero: a failover 100ms after the 800ms reconnection
// timeout is within the default 30ms + 10% and outside 0 + 10%.
func TestReconnectBeforeFailoverExplicitZero(t *testing.T) {
	sc := fscen(2, auto, reconnectOn(800*time.Millisecond))
	s := newF()
	a := s.connect(0, 5, "s1")
	s.fault(1200, "s1", "cut")
	s.add(cst(1201, 0, cA, rR, "s1", a))
	s.fail(1301, "s1").fail(1402, "s1")
	s.add(cst(2101, 0, rR, cg, "s1", a, "reason=reconnect_timeout"))
	s.land(0, 2102, "s2", cg)
	h := s.hist()
	runCases(t, []tcase{
		{name: "default tolerance", cfg: &ReconnectBeforeFailover{}, sc: sc, h: h, verdict: OK},
		{name: "tolerance 0", cfg: &ReconnectBeforeFailover{Tolerance: Ptr(time.Duration(0))}, sc: sc, h: h, verdict: Failed,
			detail: []string{"failed over 900.0ms after the loss; the reconnection timeout is 800.0ms (± 80.0ms)"}},
	})
}
