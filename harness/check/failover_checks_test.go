package check

import (
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// ---- histories --------------------------------------------------------------

// listOrder: client 0 on s1; s1 cut at 500 → s2; s2 cut at 1000 (s1 still
// cut) → s3.
func listOrder() *fstory {
	s := newF()
	a := s.connect(0, 5, "s1")
	s.fault(500, "s1", "cut")
	s.leave(0, 502, "s1", a)
	b := s.land(0, 503, "s2", cg)
	s.fault(1000, "s2", "cut")
	s.leave(0, 1002, "s2", b)
	s.land(0, 1003, "s3", cg)
	return s
}

// nextFailing: s2 resets from 300; s1 cut at 600 → s2 tried and failed → s3.
func nextFailing() *fstory {
	s := newF()
	a := s.connect(0, 5, "s1")
	s.fault(300, "s2", "reset")
	s.fault(600, "s1", "cut")
	s.leave(0, 602, "s1", a)
	s.fail(603, "s2")
	s.land(0, 605, "s3", cg)
	return s
}

// allFailing: s2 resets, s3 blackholed, s1 cut at 600: the walk tries s2,
// s3 (held one connect timeout), s1, and closes naming them.
func allFailing(tried string) *fstory {
	s := newF()
	a := s.connect(0, 5, "s1")
	s.fault(300, "s2", "reset").fault(300, "s3", "blackhole")
	s.fault(600, "s1", "cut")
	s.leave(0, 602, "s1", a)
	s.fail(603, "s2").held(605, "s3").fail(906, "s1")
	s.closed(0, 908, cg, "s1", tried)
	return s
}

// cascadeReset: s1 resets; the first connection tries s1 then lands on s2.
func cascadeReset() *fstory {
	s := newF()
	s.fault(0, "s1", "reset")
	s.op(0, 50)
	s.fail(51, "s1")
	s.land(0, 53, "s2", cg)
	return s
}

// cascadeMixed: s1 down, s2 resets, s3 holds the handshake 300ms, s4 answers.
func cascadeMixed() *fstory {
	s := newF()
	s.fault(0, "s1", "down").fault(0, "s2", "reset").fault(0, "s3", "blackhole")
	s.op(0, 50)
	s.fail(51, "s2")
	s.held(53, "s3")
	s.land(0, 354, "s4", cg)
	return s
}

// ---- failover_sequence (F1, F2, F4) -------------------------------------------

func TestFailoverSequence(t *testing.T) {
	three := fscen(3, auto)
	runCases(t, []tcase{
		{name: "list order, twice", cfg: &FailoverSequence{MinFailovers: Ptr(2)}, sc: three, h: listOrder().hist(), verdict: OK},
		{name: "next also failing", cfg: &FailoverSequence{}, sc: three, h: nextFailing().hist(), verdict: OK},
		{name: "every server failing: exhausted is not a failure here", cfg: &FailoverSequence{}, sc: three, h: allFailing("s2,s3,s1").hist(), verdict: OK},
		{name: "300 clients, load balanced, landings verified", cfg: &FailoverSequence{MinFailovers: Ptr(300)}, sc: fscen(4, auto, lb, clients(300)),
			h: lbStory(300, fisherYates, 1).hist(), verdict: OK},
		{name: "skips the next server", cfg: &FailoverSequence{}, sc: three, h: func() history.History {
			s := newF()
			a := s.connect(0, 5, "s1")
			s.fault(500, "s1", "cut")
			s.leave(0, 502, "s1", a)
			s.land(0, 503, "s3", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"landed on s3; in list order s2 → s3 → s1 the first server that did not fail was s2",
			"attempt 0 went to s3 at 503.0ms (server accept s3#1), skipping s2"}},
		{name: "closes instead of failing over", cfg: &FailoverSequence{}, sc: three, h: func() history.History {
			s := newF()
			s.connect(0, 5, "s1")
			s.fault(500, "s1", "cut")
			return s.add(cst(502, 0, cA, cF, "s1", "S1", "reason=connection_lost")).hist()
		}(), verdict: Failed, detail: []string{"went CLOSED_FAILED (connection_lost) at 502.0ms after cut on s1 at 500.0ms instead of failing over"}},
		{name: "claims a session no server created", cfg: &FailoverSequence{}, sc: three, h: func() history.History {
			s := newF()
			a := s.connect(0, 5, "s1")
			s.fault(500, "s1", "cut")
			s.leave(0, 502, "s1", a)
			return s.add(cst(504, 0, cg, cA, "s2", "GHOST")).hist()
		}(), verdict: Failed, detail: []string{"client claims a session the servers never created", `session "GHOST"`}},
		{name: "state carried over: a resume on the next server", cfg: &FailoverSequence{}, sc: three, h: func() history.History {
			s := newF()
			a := s.connect(0, 5, "s1")
			s.fault(500, "s1", "cut")
			s.leave(0, 502, "s1", a)
			return s.add(ev(503, "accept", "server=s2", "conn=s2#1"),
				ev(503.5, "session.resume", "server=s2", "conn=s2#1", "session="+a),
				cst(504, 0, cg, cA, "s2", a)).hist()
		}(), verdict: Failed, detail: []string{"was a resume (server s2 session.resume at 503.5ms), not a new session: state was carried over"}},
		{name: "gives up with a healthy server left", cfg: &FailoverSequence{}, sc: three, h: func() history.History {
			s := newF()
			a := s.connect(0, 5, "s1")
			s.fault(300, "s2", "reset")
			s.fault(600, "s1", "cut")
			s.leave(0, 602, "s1", a)
			s.fail(603, "s2")
			return s.closed(0, 605, cg, "s2", "s2").hist()
		}(), verdict: Failed, detail: []string{"gave up: went CLOSED_FAILED (connection_error) at 605.0ms, although s3 did not fail during the failover"}},
		{name: "order list with load balancing", cfg: &FailoverSequence{Order: OrderList}, sc: fscen(3, auto, lb), h: listOrder().hist(), verdict: Failed,
			detail: []string{"use order: any"}},
		{name: "failover off", cfg: &FailoverSequence{}, sc: fscen(3), h: listOrder().hist(), verdict: Failed, detail: []string{"failover.auto off"}},
		{name: "too few failovers", cfg: &FailoverSequence{MinFailovers: Ptr(3)}, sc: three, h: listOrder().hist(), verdict: Unknown,
			detail: []string{"2 failover(s) seen", "min_failovers 3"}},
		{name: "bad order", cfg: &FailoverSequence{Order: "random"}, sc: three, h: listOrder().hist(), verdict: Failed, detail: []string{"bad parameters: order"}},
	})
}

// ---- cascade_order (C1) -------------------------------------------------------

func TestCascadeOrder(t *testing.T) {
	three := fscen(3, cascading)
	runCases(t, []tcase{
		{name: "past a reset", cfg: &CascadeOrder{}, sc: three, h: cascadeReset().hist(), verdict: OK},
		{name: "past down, reset and blackhole", cfg: &CascadeOrder{}, sc: fscen(4, cascading), h: cascadeMixed().hist(), verdict: OK},
		{name: "every server failed, list exhausted", cfg: &CascadeOrder{}, sc: three, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset").fault(0, "s2", "blackhole").fault(0, "s3", "cut")
			s.op(0, 50)
			s.fail(51, "s1").held(52, "s2").fail(353, "s3")
			return s.closed(0, 355, cg, "s3", "s1,s2,s3").hist()
		}(), verdict: OK},
		{name: "cascades out of order", cfg: &CascadeOrder{}, sc: three, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset")
			s.op(0, 50)
			s.fail(51, "s1")
			s.land(0, 53, "s3", cg) // s2 was fine
			return s.hist()
		}(), verdict: Failed, detail: []string{"attempt 1 went to s3 at 53.0ms (server accept s3#1), skipping s2",
			"landed on s3; in list order s1 → s2 → s3 the first server that did not fail was s2, past s1 (reset)"}},
		{name: "goes backwards", cfg: &CascadeOrder{}, sc: three, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset").fault(0, "s2", "reset")
			s.op(0, 50)
			s.fail(51, "s2").fail(72, "s1")
			s.land(0, 74, "s3", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"attempt 1 went to s1 at 72.0ms (server accept s1#1); list order expected s3"}},
		{name: "accepts reordered by the links within the stamp slack", cfg: &CascadeOrder{}, sc: three, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset").fault(0, "s2", "reset")
			s.op(0, 50)
			s.fail(51, "s2").fail(53, "s1") // the client tried s1 first; its link dialled s1 later
			s.land(0, 55, "s3", cg)
			return s.hist()
		}(), verdict: OK},
		{name: "the links' order beats the stamp slack", cfg: &CascadeOrder{}, sc: three, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset").fault(0, "s2", "reset")
			s.op(0, 50)
			s.linked(50.5, "s2").linked(52.5, "s1") // the client really went to s2 first
			s.fail(51, "s2").fail(53, "s1")
			s.land(0, 55, "s3", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"attempt 0 went to s2 at 51.0ms (server accept s2#1; link accept at 50.5ms), skipping s1"}},
		{name: "an attempt held past the connect timeout", cfg: &CascadeOrder{}, sc: three, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "blackhole")
			s.op(0, 50)
			s.held(51, "s1")
			s.land(0, 851, "s2", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"attempt 1 on s2 (server accept s2#1 at 851.0ms) came 800.0ms after server accept s1#1", "more than 380.0ms"}},
		{name: "gives up with servers untried", cfg: &CascadeOrder{}, sc: three, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset")
			s.op(0, 50)
			s.fail(51, "s1")
			return s.closed(0, 53, cg, "s1", "s1").hist()
		}(), verdict: Failed, detail: []string{"with s2, s3 never tried"}},
		// Seen under load (cascade-all-fail): the cut link reset the client
		// before s3's server ran its accept, so s3's accept is stamped 58µs
		// after the client's CLOSED_FAILED. One attempt, two unordered records.
		{name: "last accept stamped just after the close", cfg: &CascadeOrder{}, sc: three, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset").fault(0, "s2", "reset").fault(0, "s3", "cut")
			s.op(0, 50)
			s.fail(51, "s1").fail(53, "s2")
			s.closed(0, 55, cg, "s3", "s1,s2,s3")
			return s.fail(55.058, "s3").hist()
		}(), verdict: OK},
		{name: "an accept after the close by more than the slack is not the walk's", cfg: &CascadeOrder{}, sc: three, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset").fault(0, "s2", "reset").fault(0, "s3", "cut")
			s.op(0, 50)
			s.fail(51, "s1").fail(53, "s2")
			s.closed(0, 55, cg, "s3", "s1,s2,s3")
			return s.fail(75, "s3").hist()
		}(), verdict: Failed, detail: []string{"with s3 never tried"}},
		{name: "cascading off", cfg: &CascadeOrder{}, sc: fscen(3), h: cascadeReset().hist(), verdict: Failed, detail: []string{"cascading off"}},
		{name: "first server answered: nothing cascaded", cfg: &CascadeOrder{}, sc: three, h: func() history.History {
			s := newF()
			s.connect(0, 5, "s1")
			return s.hist()
		}(), verdict: Unknown, detail: []string{"nothing to judge"}},
		{name: "two clients at once", cfg: &CascadeOrder{}, sc: fscen(3, cascading, clients(2)), h: func() history.History {
			s := cascadeReset()
			s.op(1, 50)
			s.fail(51.5, "s1")
			s.land(1, 54, "s2", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"cannot be attributed"}},
	})
}

// ---- no_repeat ------------------------------------------------------------------

func TestNoRepeat(t *testing.T) {
	runCases(t, []tcase{
		{name: "each server once", cfg: &NoRepeat{MinAttempts: Ptr(3)}, sc: fscen(3, auto), h: allFailing("s2,s3,s1").hist(), verdict: OK},
		{name: "cascade", cfg: &NoRepeat{}, sc: fscen(4, cascading), h: cascadeMixed().hist(), verdict: OK},
		{name: "retries the same server before the others", cfg: &NoRepeat{}, sc: fscen(3, auto), h: func() history.History {
			s := newF()
			a := s.connect(0, 5, "s1")
			s.fault(300, "s2", "reset")
			s.fault(600, "s1", "cut")
			s.leave(0, 602, "s1", a)
			s.fail(603, "s2").fail(605, "s2")
			s.land(0, 607, "s3", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"attempt 1 on s2 at 605.0ms (server accept s2#2): tried again before s3 was tried (attempts so far: s2)"}},
		{name: "the lost server first", cfg: &NoRepeat{}, sc: fscen(3, auto), h: func() history.History {
			s := newF()
			a := s.connect(0, 5, "s1")
			s.fault(600, "s1", "cut")
			s.leave(0, 602, "s1", a)
			s.fail(603, "s1")
			s.land(0, 605, "s2", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"the lost server tried again before s2, s3 was tried"}},
		{name: "a down server counts as tried (refused: client-reported)", cfg: &NoRepeat{}, sc: fscen(3, cascading), h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset").fault(0, "s3", "down")
			s.op(0, 50)
			s.fail(51, "s1").fail(52, "s2").fail(53, "s1")
			return s.closed(0, 55, cg, "s1", "s1,s2,s3,s1").hist()
		}(), verdict: OK},
		{name: "nothing to judge", cfg: &NoRepeat{}, sc: fscen(3, auto), h: listOrder().hist(), verdict: Unknown, detail: []string{"nothing to judge"}},
		// Seen in a soak: the client walked s4, s3, s2, s1, but s4's server
		// stamped its accept last. The links saw the client's order.
		{name: "a late server stamp: the links' order holds", cfg: &NoRepeat{}, sc: fscen(4, auto, lb), h: lateStamp("s4,s3,s2,s1").hist(), verdict: OK},
		{name: "a late server stamp, the links saw the lost server before s4", cfg: &NoRepeat{}, sc: fscen(4, auto, lb), h: lateStamp("s3,s2,s1,s4").hist(), verdict: Failed,
			detail: []string{"attempt 2 on s1 at 605.1ms (server accept s1#2; link accept at 604.0ms): the lost server tried again before s4 was tried (attempts so far: s3 → s2)"}},
		// Remote links record no accepts: the server stamps are all there is.
		{name: "a late server stamp without link accepts", cfg: &NoRepeat{}, sc: fscen(4, auto, lb), h: lateStamp("").hist(), verdict: Failed,
			detail: []string{"attempt 2 on s1 at 605.1ms (server accept s1#2): the lost server tried again before s4 was tried"}},
	})
}

// lateStamp: client 0 loses s1 at 602.1ms and tries all four servers, each
// failing (reset); the servers stamp s3, s2, s1, then s4 last (605.53ms).
// links lists the order the links took the connections ("": none recorded).
func lateStamp(links string) *fstory {
	s := newF()
	a := s.connect(0, 5, "s1")
	s.fault(300, "s2", "reset").fault(300, "s3", "reset").fault(300, "s4", "reset").fault(600, "s1", "reset")
	s.leave(0, 602.1, "s1", a)
	if links != "" {
		for i, srv := range strings.Split(links, ",") {
			s.linked(602.8+0.6*float64(i), srv)
		}
	}
	s.fail(603.9, "s3").fail(604.8, "s2").fail(605.1, "s1").fail(605.53, "s4")
	return s.closed(0, 606, cg, "", "s4,s3,s2,s1")
}

// ---- close_names_tried (C2) -------------------------------------------------

func TestCloseNamesTried(t *testing.T) {
	three := fscen(3, auto)
	allDown := func(tried string, extra ...history.Event) history.History {
		s := newF()
		s.fault(0, "s1", "down").fault(0, "s2", "down").fault(0, "s3", "down")
		s.op(0, 50)
		return s.closed(0, 52, cg, "s3", tried).add(extra...).hist()
	}
	runCases(t, []tcase{
		{name: "failover exhausted, every server named", cfg: &CloseNamesTried{}, sc: three, h: allFailing("s2,s3,s1").hist(), verdict: OK},
		{name: "cascade, all down (client-reported)", cfg: &CloseNamesTried{}, sc: fscen(3, cascading), h: allDown("s1,s2,s3"), verdict: OK},
		{name: "a tried server left out", cfg: &CloseNamesTried{}, sc: three, h: allFailing("s2,s1").hist(), verdict: Failed,
			detail: []string{"naming [s2,s1], not s3", "s3 saw an attempt (server accept) but the close does not name it"}},
		{name: "names a server nobody saw", cfg: &CloseNamesTried{}, sc: fscen(3, cascading), h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset").fault(0, "s2", "reset")
			s.op(0, 50)
			s.fail(51, "s1").fail(52, "s2")
			return s.closed(0, 54, cg, "s2", "s1,s2,s3").hist()
		}(), verdict: Failed, detail: []string{"the close names s3, which no server saw tried and whose link was not down"}},
		{name: "names nothing", cfg: &CloseNamesTried{}, sc: three, h: allFailing("").hist(), verdict: Failed, detail: []string{"naming no server tried"}},
		{name: "does not stop", cfg: &CloseNamesTried{}, sc: fscen(3, cascading), h: allDown("s1,s2,s3",
			ev(400, "accept", "server=s1", "conn=s1#1")), verdict: Failed, detail: []string{"went on after its close at 52.0ms: 1 server accept(s) (s1#1 at 400.0ms)"}},
		{name: "nothing closed", cfg: &CloseNamesTried{}, sc: three, h: listOrder().hist(), verdict: Unknown, detail: []string{"nothing to judge"}},
	})
}

// ---- cascade_scope (C3) -----------------------------------------------------

func TestCascadeScope(t *testing.T) {
	// cascading on, failover off: past s1 to s2; s2 lost → closed, nothing elsewhere.
	cascadeNoFailover := func(extra ...history.Event) history.History {
		s := cascadeReset()
		s.fault(700, "s2", "cut")
		return s.add(cst(702, 0, cA, cF, "s2", "S1", "reason=connection_lost")).add(extra...).hist()
	}
	// failover on, cascading off: client 0 fails on s1 and closes; client 1
	// later connects to s1 and fails over to s2.
	failoverNoCascade := func(extraFirst ...history.Event) history.History {
		s := newF()
		s.fault(0, "s1", "reset")
		s.op(0, 50)
		s.fail(51, "s1")
		s.add(extraFirst...)
		s.closed(0, 53, cg, "s1", "s1")
		s.heal(400, "s1", "reset")
		a := s.connect(1, 600, "s1")
		s.fault(1000, "s1", "cut")
		s.leave(1, 1002, "s1", a)
		s.land(1, 1003, "s2", cg)
		return s.hist()
	}
	runCases(t, []tcase{
		{name: "cascading on, failover off", cfg: &CascadeScope{}, sc: fscen(3, cascading), h: cascadeNoFailover(), verdict: OK},
		{name: "failover on, cascading off", cfg: &CascadeScope{}, sc: fscen(2, auto, clients(2)), h: failoverNoCascade(), verdict: OK},
		{name: "cascading off, but it cascades", cfg: &CascadeScope{}, sc: fscen(2, auto, clients(2)),
			h: failoverNoCascade(ev(52, "accept", "server=s2", "conn=s2#9")), verdict: Failed,
			detail: []string{"cascading off, but after s1 failed (reset on s1 at 0.0ms) client 0 cascade (connect at 50.0ms) tried s2 (server accept s2#9 at 52.0ms)"}},
		{name: "failover off, but it fails over", cfg: &CascadeScope{}, sc: fscen(3, cascading), h: func() history.History {
			s := cascadeReset()
			s.fault(700, "s2", "cut")
			s.leave(0, 702, "s2", "S1")
			s.land(0, 703, "s3", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"autofailover off, but client 0 failed over after losing s2", "reported CONNECTED_ACTIVE on s3"}},
		{name: "failover off, but another server sees attempts", cfg: &CascadeScope{}, sc: fscen(3, cascading),
			h: cascadeNoFailover(ev(701, "accept", "server=s3", "conn=s3#1")), verdict: Failed,
			detail: []string{"autofailover off, but after losing s2 (cut on s2 at 700.0ms) other servers saw attempts: s3 (server accept s3#1 at 701.0ms)"}},
		{name: "failover on, but it closes", cfg: &CascadeScope{}, sc: fscen(3, cascading, auto), h: cascadeNoFailover(), verdict: Failed,
			detail: []string{"autofailover on, but after losing s2", "never failed over"}},
		{name: "cascading on, but it does not cascade", cfg: &CascadeScope{}, sc: fscen(3, cascading), h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset")
			s.op(0, 50)
			s.fail(51, "s1")
			return s.closed(0, 53, cg, "s1", "s1").hist()
		}(), verdict: Failed, detail: []string{"cascading on, but after s1 failed", "without any other server seeing an attempt"}},
		{name: "one phase only", cfg: &CascadeScope{}, sc: fscen(3, cascading), h: cascadeReset().hist(), verdict: Unknown,
			detail: []string{"nothing to judge: C3 needs", "(1 seen)", "(0 seen)"}},
	})
}

// ---- shuffle_uniform and hot_spot (F3) ------------------------------------

func TestShuffleUniform(t *testing.T) {
	sc := fscen(4, auto, lb, clients(300))
	cfg := func() Checker { return &ShuffleUniform{Alpha: 1e-4, MinSamples: 300} }
	runCases(t, []tcase{
		{name: "fair Fisher–Yates", cfg: cfg(), sc: sc, h: lbStory(300, fisherYates, 1).hist(), verdict: OK, detail: []string{"300 failovers from s1: s2 ", "p "}},
		{name: "never shuffles", cfg: cfg(), sc: sc, h: lbStory(300, noShuffle, 1).hist(), verdict: Failed,
			detail: []string{"not a uniform choice: 300 failovers from s1: s2 300, s3 0, s4 0; χ² 600.00 (df 2), p 5.15e-131 < alpha 0.0001"}},
		{name: "off-by-one Fisher–Yates (Sattolo)", cfg: cfg(), sc: sc, h: lbStory(300, sattolo, 1).hist(), verdict: Failed,
			detail: []string{"not a uniform choice", "s2 0,"}},
		{name: "off-by-one loop bound", cfg: cfg(), sc: sc, h: lbStory(300, shortLoop, 1).hist(), verdict: Failed,
			detail: []string{"not a uniform choice", "s3 0,"}},
		{name: "too few samples", cfg: cfg(), sc: fscen(4, auto, lb, clients(100)), h: lbStory(100, fisherYates, 1).hist(), verdict: Unknown,
			detail: []string{"too few samples", "100 failover(s) from s1 over [s2,s3,s4], need 300"}},
		{name: "claims the servers never saw", cfg: cfg(), sc: sc, h: func() history.History {
			s := lbStory(300, fisherYates, 1)
			return s.add(cst(2000, 0, cA, cg, "s2", "S301", "reason=connection_lost"), cst(2001, 0, cg, cA, "s3", "GHOST")).hist()
		}(), verdict: Failed, detail: []string{"client claims a session the servers never created"}},
		{name: "load balancing off", cfg: cfg(), sc: fscen(4, auto, clients(300)), h: lbStory(300, fisherYates, 1).hist(), verdict: Failed, detail: []string{"load_balancing on"}},
		{name: "alpha missing", cfg: &ShuffleUniform{}, sc: sc, h: lbStory(300, fisherYates, 1).hist(), verdict: Failed, detail: []string{"bad parameters: alpha is required"}},
	})
	// The p-value and the per-server counts are measurements.
	r := cfg().Check(Input{History: lbStory(300, fisherYates, 1).hist(), Scenario: sc})
	have := map[string]bool{}
	for _, m := range r.Measurements {
		have[m.Name] = true
	}
	for _, n := range []string{"p-value", "chi-square", "alpha", "samples", "landed on s2", "landed on s3", "landed on s4"} {
		if !have[n] {
			t.Errorf("no measurement %q in %+v", n, r.Measurements)
		}
	}
}

// Power at the scenario's sample size, through the whole checker: every one
// of 10 seeded runs of 300 clients with an off-by-one shuffle FAILS, every
// fair one passes (TestChiSquarePower repeats this 500 times on the counts).
func TestShuffleUniformPower(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 40 histories of 300 clients")
	}
	sc := fscen(4, auto, lb, clients(300))
	for _, c := range []struct {
		name string
		sh   shuffler
		want string
	}{{"fair", fisherYates, OK}, {"sattolo", sattolo, Failed}, {"short loop", shortLoop, Failed}, {"none", noShuffle, Failed}} {
		for seed := int64(1); seed <= 10; seed++ {
			r := (&ShuffleUniform{Alpha: 1e-4}).Check(Input{History: lbStory(300, c.sh, seed).hist(), Scenario: sc})
			if r.Verdict != c.want {
				t.Fatalf("%s seed %d: %s, want %s: %s", c.name, seed, r.Verdict, c.want, r.Detail)
			}
		}
	}
}

func TestHotSpot(t *testing.T) {
	sc := fscen(4, auto, lb, clients(300))
	runCases(t, []tcase{
		{name: "fair shuffle", cfg: &HotSpot{}, sc: sc, h: lbStory(300, fisherYates, 1).hist(), verdict: OK, detail: []string{"no hot spot after losing s1"}},
		{name: "never shuffles: every client on s2", cfg: &HotSpot{}, sc: sc, h: lbStory(300, noShuffle, 1).hist(), verdict: Failed,
			detail: []string{"hot spot: s2 took 300 of 300 failovers from s1, more than its share 100.0 + 40% = 140"}},
		{name: "off-by-one shuffle", cfg: &HotSpot{}, sc: sc, h: lbStory(300, sattolo, 1).hist(), verdict: Failed, detail: []string{"hot spot: s"}},
		{name: "margin too tight to be fair", cfg: &HotSpot{Margin: Ptr(0.05)}, sc: sc, h: lbStory(300, fisherYates, 1).hist(), verdict: Failed,
			detail: []string{"margin 0.05 is too tight for 300 samples over 3 servers"}},
		{name: "nothing landed", cfg: &HotSpot{}, sc: sc, h: listOrder().hist(), verdict: Unknown, detail: []string{"nothing to judge"}},
	})
	r := (&HotSpot{}).Check(Input{History: lbStory(300, fisherYates, 1).hist(), Scenario: sc})
	for _, m := range r.Measurements {
		if m.Name == "false-FAIL probability" && (m.Value <= 0 || m.Value > 1e-5) {
			t.Errorf("false-FAIL probability %g for 300 samples at margin 0.4", m.Value)
		}
	}
}

// ---- reconnect_before_failover -------------------------------------------------

func TestReconnectBeforeFailover(t *testing.T) {
	sc := fscen(2, auto, reconnectOn(800*time.Millisecond))
	// recovers a short cut on s1, then a long cut outlasts the 800ms timeout.
	story := func(failAt float64, extra ...history.Event) history.History {
		s := newF()
		a := s.connect(0, 5, "s1")
		s.fault(400, "s1", "cut")
		s.add(cst(401, 0, cA, rR, "s1", a))
		s.fail(501, "s1")
		s.heal(650, "s1", "cut")
		s.add(ev(702, "accept", "server=s1", "conn=s1#9"), ev(702.5, "session.resume", "server=s1", "conn=s1#9", "session="+a),
			cst(703, 0, rR, cA, "s1", a))
		s.fault(1200, "s1", "cut")
		s.add(cst(1201, 0, cA, rR, "s1", a))
		s.fail(1301, "s1").fail(1402, "s1")
		s.add(cst(1201+failAt, 0, rR, cg, "s1", a, "reason=reconnect_timeout"))
		s.land(0, 1202+failAt, "s2", cg)
		return s.add(extra...).hist()
	}
	runCases(t, []tcase{
		{name: "recover, then fail over at the timeout", cfg: &ReconnectBeforeFailover{}, sc: sc, h: story(800), verdict: OK},
		{name: "fails over before the timeout", cfg: &ReconnectBeforeFailover{}, sc: sc, h: story(300), verdict: Failed,
			detail: []string{"failed over 300.0ms after the loss; the reconnection timeout is 800.0ms"}},
		{name: "a recovery attempt on another server", cfg: &ReconnectBeforeFailover{}, sc: sc,
			h: story(800, ev(1350, "accept", "server=s2", "conn=s2#7")), verdict: Failed,
			detail: []string{"recovery attempt on s2 (server accept s2#7 at 1350.0ms): a session can only be recovered on the server that holds it"}},
		{name: "fails over without recovering", cfg: &ReconnectBeforeFailover{}, sc: sc, h: func() history.History {
			s := newF()
			a := s.connect(0, 5, "s1")
			s.fault(400, "s1", "cut")
			s.leave(0, 401, "s1", a)
			s.land(0, 402, "s2", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"failed over straight from CONNECTED_ACTIVE with reconnection on"}},
		{name: "closes instead of failing over", cfg: &ReconnectBeforeFailover{}, sc: sc, h: func() history.History {
			s := newF()
			a := s.connect(0, 5, "s1")
			s.fault(400, "s1", "cut")
			s.add(cst(401, 0, cA, rR, "s1", a), cst(1201, 0, rR, cF, "s1", a, "reason=reconnect_timeout"))
			return s.hist()
		}(), verdict: Failed, detail: []string{"a recovery that fails gives way to a failover, not a close"}},
		{name: "reconnection off", cfg: &ReconnectBeforeFailover{}, sc: fscen(2, auto), h: story(800), verdict: Failed, detail: []string{"needs reconnect.enabled"}},
	})
}

// An explicit 0 is zero, never "the default" (parameters with a default are
// pointers): a cascade whose second attempt comes 40ms past the connect
// timeout is within the default tolerance (50ms + 10%) and outside
// tolerance: 0 (10% of 300ms left), and outside both at 0.
func TestWalkParamsExplicitZero(t *testing.T) {
	late := func() history.History {
		s := newF()
		s.fault(0, "s1", "blackhole")
		s.op(0, 50)
		s.held(51, "s1")
		s.land(0, 391, "s2", cg)
		return s.hist()
	}()
	casc := fscen(3, cascading)
	lbSc := fscen(4, auto, lb, clients(300))
	runCases(t, []tcase{
		{name: "cascade_order: default tolerance", cfg: &CascadeOrder{}, sc: casc, h: late, verdict: OK},
		{name: "cascade_order: tolerance 0", cfg: &CascadeOrder{Tolerance: Ptr(time.Duration(0))}, sc: casc, h: late, verdict: Failed,
			detail: []string{"came 340.0ms after server accept s1#1 at 51.0ms: more than 330.0ms"}},
		{name: "cascade_order: tolerance 0, tolerance_pct 0", cfg: &CascadeOrder{Tolerance: Ptr(time.Duration(0)), TolerancePct: Ptr(0.0)}, sc: casc, h: late, verdict: Failed,
			detail: []string{"more than 300.0ms"}},
		{name: "hot_spot: margin 0 is too tight to be fair", cfg: &HotSpot{Margin: Ptr(0.0)}, sc: lbSc, h: lbStory(300, fisherYates, 1).hist(), verdict: Failed,
			detail: []string{"margin 0 is too tight"}},
		{name: "hot_spot: max_false_fail 0 no margin meets", cfg: &HotSpot{MaxFalseFail: Ptr(0.0)}, sc: lbSc, h: lbStory(300, fisherYates, 1).hist(), verdict: Failed,
			detail: []string{"max_false_fail 0"}},
		{name: "failover_sequence: min_failovers 0", cfg: &FailoverSequence{MinFailovers: Ptr(0)}, sc: fscen(3, auto), h: listOrder().hist(), verdict: Failed,
			detail: []string{"bad parameters: min_failovers must be at least 1"}},
		{name: "no_repeat: min_attempts 0", cfg: &NoRepeat{MinAttempts: Ptr(0)}, sc: fscen(3, auto), h: listOrder().hist(), verdict: Failed,
			detail: []string{"bad parameters: min_attempts must be at least 1"}},
	})
}

// A library whose contract walks its list from the top after a loss
// (failover: top) tries the lost server first again, then the next: held
// to that order, not to the next-server rule; skipping the top is still a
// FAIL, and without the contract the same walk fails the next-server rule.
func TestFailoverSequenceFromTheTop(t *testing.T) {
	three := fscen(3, auto)
	topReply := func() history.Event {
		return ev(6, history.KindReply, "client=0", "op=connect", "id=1", "ok=true",
			`contract={"failover":{"value":"top","cite":"paho attemptConnection(): range c.options.Servers"}}`)
	}
	walk := func(contract bool, first string) history.History {
		s := newF()
		a := s.connect(0, 5, "s1")
		if contract {
			s.add(topReply())
		}
		s.fault(500, "s1", "cut")
		s.leave(0, 502, "s1", a)
		if first == "s1" {
			s.fail(503, "s1")
			s.land(0, 505, "s2", cg)
		} else {
			s.land(0, 503, first, cg)
		}
		return s.hist()
	}
	runCases(t, []tcase{
		{name: "top: s1 again, then s2", cfg: &FailoverSequence{}, sc: three, h: walk(true, "s1"), verdict: OK,
			detail: []string{"order judged by the client's contract: failover: top (paho attemptConnection()"}},
		{name: "top: skips s1 and s2 for s3", cfg: &FailoverSequence{}, sc: three, h: walk(true, "s3"), verdict: Failed,
			detail: []string{"skipping s2"}},
		{name: "no contract: s1 again breaks the next-server rule", cfg: &FailoverSequence{}, sc: three, h: walk(false, "s1"), verdict: Failed},
	})
}
