package check

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// A server the client gives up on because a degrading fault (slow,
// throttle, slice, limit) made its handshake miss the connect timeout is a
// failed server for cascades and failovers, as much as one cut or down: the
// evidence is the attempt its link and server saw, and the client moving on
// no sooner than the connect timeout (300ms here) after it, or, under limit,
// after the server saw the connection closed. Before, only loss verbs
// counted, and the detail read "(past )".

// timedOut: an attempt on srv at ms, taken by its link and its server, that
// nothing answers before the client moves on (a slow link's handshake).
func (s *fstory) timedOut(ms float64, srv string) *fstory {
	return s.linked(ms-0.3, srv).held(ms, srv)
}

// cascadePast: s1 has fault verb from 0; the connect at 50ms tries s1 (its
// link at 50.7ms, its server at 51ms) and lands on s2 after gap ms.
func cascadePast(verb string, gap float64) history.History {
	s := newF()
	s.fault(0, "s1", verb)
	s.op(0, 50)
	if verb == VerbLimit {
		s.linked(50.7, "s1").fail(51, "s1") // the link closes it at once
	} else {
		s.timedOut(51, "s1")
	}
	s.linked(50.7+gap, "s2")
	s.land(0, 51+gap, "s2", cg)
	return s.hist()
}

// failoverPast: client 0 on s1; s2 has fault verb from 300ms; s1 is cut at
// 600ms; the failover tries s2 at 603ms and lands on s3 after gap ms.
func failoverPast(verb string, gap float64) history.History {
	s := newF()
	a := s.connect(0, 5, "s1")
	s.fault(300, "s2", verb)
	s.fault(600, "s1", "cut")
	s.leave(0, 602, "s1", a)
	s.timedOut(603, "s2")
	s.linked(602.7+gap, "s3")
	s.land(0, 603+gap, "s3", cg)
	return s.hist()
}

// failoverExhaustedSlow: s2 and s3 slow, s1 cut: the failover waits out s2
// and s3, tries s1 (reset by the cut link) and closes.
func failoverExhaustedSlow() *fstory {
	s := newF()
	a := s.connect(0, 5, "s1")
	s.fault(300, "s2", "slow").fault(300, "s3", "slow")
	s.fault(600, "s1", "cut")
	s.leave(0, 602, "s1", a)
	s.timedOut(603, "s2").timedOut(904, "s3")
	s.fail(1205, "s1")
	return s.closed(0, 1207, cg, "s1", "s2,s3,s1")
}

func TestWalksDegradedServerFailed(t *testing.T) {
	casc, three := fscen(3, cascading), fscen(3, auto)
	runCases(t, []tcase{
		// C1
		{name: "cascade past a slow first server", cfg: &CascadeOrder{}, sc: casc, h: cascadePast("slow", 301), verdict: OK,
			detail: []string{"passed s1 (slow: server accept s1#1; link accept at 50.7ms, given up 301.0ms later"}},
		{name: "cascade past a throttled first server", cfg: &CascadeOrder{}, sc: casc, h: cascadePast("throttle", 301), verdict: OK},
		{name: "cascade past a sliced first server", cfg: &CascadeOrder{}, sc: casc, h: cascadePast("slice", 301), verdict: OK},
		{name: "cascade past a limit that closed the first attempt", cfg: &CascadeOrder{}, sc: casc, h: cascadePast(VerbLimit, 2), verdict: OK,
			detail: []string{"s1 (limit: server accept s1#1; link accept at 50.7ms, closed by the server at 52.0ms"}},
		{name: "cascade: gave up on a slow server before the connect timeout", cfg: &CascadeOrder{}, sc: casc, h: cascadePast("slow", 120), verdict: Failed,
			detail: []string{"landed on s2; in list order s1 → s2 → s3 the first server that did not fail was s1"}},
		// Seen in a soak (cascade-past-reset): s1's link took the attempt
		// first, but s1's server stamped its accept only after the landing
		// on s2: the link's order places it in the walk.
		{name: "cascade past a reset whose server accept is stamped after the landing", cfg: &CascadeOrder{}, sc: casc, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset")
			s.op(0, 50)
			s.linked(51.9, "s1")
			s.linked(53.4, "s2")
			s.land(0, 53.7, "s2", cg)
			s.add(ev(57, "accept", "server=s1", "conn=s1#1"), ev(57.1, "conn.close", "server=s1", "conn=s1#1", "reason=not_upgraded"))
			return s.hist()
		}(), verdict: OK, detail: []string{"followed list order s1 → s2"}},
		// A server accept after the landing whose link accept came after it
		// too is no attempt of the walk.
		{name: "cascade: an accept after the landing, linked after it, is not in the walk", cfg: &CascadeOrder{}, sc: casc, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "slow")
			s.op(0, 50)
			s.linked(53.4, "s2")
			s.land(0, 53.7, "s2", cg)
			s.linked(56.5, "s1")
			s.add(ev(57, "accept", "server=s1", "conn=s1#1"))
			return s.hist()
		}(), verdict: Failed, detail: []string{"skipping s1, which the servers never saw tried"}},
		{name: "cascade: passed a slow server the servers never saw tried", cfg: &CascadeOrder{}, sc: casc, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "slow")
			s.op(0, 50)
			s.land(0, 351, "s2", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"skipping s1, which the servers never saw tried"}},
		{name: "cascade: a slow fault healed before the attempt spoils nothing", cfg: &CascadeOrder{}, sc: casc, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "slow").heal(20, "s1", "slow")
			s.op(0, 50)
			s.timedOut(51, "s1")
			s.land(0, 352, "s2", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"the first server that did not fail was s1"}},
		{name: "cascade: no_repeat unaffected", cfg: &NoRepeat{}, sc: casc, h: cascadePast("slow", 301), verdict: OK},
		// F1, F2
		{name: "failover past a slow next server", cfg: &FailoverSequence{}, sc: three, h: failoverPast("slow", 301), verdict: OK,
			detail: []string{"passed s2 (slow"}},
		{name: "failover: gave up on a slow next server early", cfg: &FailoverSequence{}, sc: three, h: failoverPast("slow", 100), verdict: Failed,
			detail: []string{"landed on s3; in list order s2 → s3 → s1 the first server that did not fail was s2"}},
		{name: "failover ran out of servers past slow ones", cfg: &FailoverSequence{}, sc: three, h: failoverExhaustedSlow().hist(), verdict: OK,
			detail: []string{"ran out of servers while every server failed"}},
		{name: "failover ran out of servers, one left early", cfg: &FailoverSequence{}, sc: three, h: func() history.History {
			s := newF()
			a := s.connect(0, 5, "s1")
			s.fault(300, "s2", "slow").fault(300, "s3", "slow")
			s.fault(600, "s1", "cut")
			s.leave(0, 602, "s1", a)
			s.timedOut(603, "s2").timedOut(650, "s3") // s2 left after 47ms
			s.fail(951, "s1")
			return s.closed(0, 953, cg, "s1", "s2,s3,s1").hist()
		}(), verdict: Failed, detail: []string{"gave up: went CLOSED_FAILED (connection_error) at 953.0ms, although s2 did not fail during the failover"}},
		{name: "close_names_tried: exhausted past slow servers", cfg: &CloseNamesTried{}, sc: three, h: failoverExhaustedSlow().hist(), verdict: OK},
		// C3: the slow first server counts as failed.
		{name: "cascade_scope: a slow first server, cascading on, failover off", cfg: &CascadeScope{}, sc: casc, h: func() history.History {
			s := newF()
			s.fault(0, "s1", "slow")
			s.op(0, 50)
			s.timedOut(51, "s1")
			s.land(0, 352, "s2", cg)
			s.fault(700, "s2", "cut")
			return s.add(cst(702, 0, cA, cF, "s2", "S1", "reason=connection_lost")).hist()
		}(), verdict: OK, detail: []string{"cascaded past s1 (slow) to s2"}},
	})
	// The detail never reads "(past )": with nothing passed there is no "past".
	r := (&CascadeOrder{}).Check(Input{History: cascadePast("slow", 120), Scenario: casc})
	if strings.Contains(r.Detail, "past )") || strings.Contains(r.Detail, "(past") {
		t.Errorf("detail names an empty list of servers passed: %s", r.Detail)
	}
}

// With several clients walking at once a walk's attempts are not
// attributable: whether a slow server failed cannot be told, and the
// landing past it is UNKNOWN, not OK, nor FAILED.
func TestWalksDegradedUnattributable(t *testing.T) {
	sc := fscen(3, auto, clients(2))
	s := newF()
	a := s.connect(0, 5, "s1")
	b := s.connect(1, 6, "s1")
	s.fault(300, "s2", "slow")
	s.fault(600, "s1", "cut")
	s.leave(0, 602, "s1", a).leave(1, 602.5, "s1", b)
	s.timedOut(603, "s2").timedOut(603.5, "s2")
	s.land(0, 904, "s3", cg)
	s.land(1, 905, "s3", cg)
	runCases(t, []tcase{
		{name: "two clients past a slow server", cfg: &FailoverSequence{}, sc: sc, h: s.hist(), verdict: Unknown,
			detail: []string{"whether s2 failed in client 0 failover 0 (from s1 at 602.0ms) cannot be told: slow on s2 at 300.0ms"}},
	})
}

// The order rule is one for cascades and failovers, landed or run out of
// servers (orderRule): before, failover_sequence skipped the walks that ran
// out of servers, so a walk in the wrong order passed.
func TestWalksExhaustedOrder(t *testing.T) {
	three := fscen(3, auto)
	// s2 and s3 reset, s1 cut at 600: the walk tries order, then closes.
	// Attempts are 20ms apart: server stamps order them only beyond the
	// stamp slack.
	exhausted := func(order ...string) history.History {
		s := newF()
		a := s.connect(0, 5, "s1")
		s.fault(300, "s2", "reset").fault(300, "s3", "reset")
		s.fault(600, "s1", "cut")
		s.leave(0, 602, "s1", a)
		for i, srv := range order {
			s.fail(603+20*float64(i), srv)
		}
		return s.closed(0, 603+20*float64(len(order)), cg, "s1", strings.Join(order, ",")).hist()
	}
	cascade := func(order ...string) history.History {
		s := newF()
		s.fault(0, "s1", "reset").fault(0, "s2", "reset").fault(0, "s3", "reset")
		s.op(0, 50)
		for i, srv := range order {
			s.fail(51+20*float64(i), srv)
		}
		return s.closed(0, 51+20*float64(len(order)), cg, "s3", strings.Join(order, ",")).hist()
	}
	runCases(t, []tcase{
		{name: "failover ran out of servers in list order", cfg: &FailoverSequence{}, sc: three, h: exhausted("s2", "s3", "s1"), verdict: OK},
		{name: "failover ran out of servers in the wrong order", cfg: &FailoverSequence{}, sc: three, h: exhausted("s3", "s2", "s1"), verdict: Failed,
			detail: []string{"attempt 0 went to s3 at 603.0ms (server accept s3#1), skipping s2",
				"attempt 1 went to s2 at 623.0ms (server accept s2#1); list order expected s1 (order s2 → s3 → s1)"}},
		{name: "failover ran out of servers with one never tried", cfg: &FailoverSequence{}, sc: three, h: exhausted("s2", "s1"), verdict: Failed,
			detail: []string{"with s3 never tried (no server accept, link not down); list order s2 → s3 → s1"}},
		{name: "load balanced: order not judged", cfg: &FailoverSequence{}, sc: fscen(3, auto, lb), h: exhausted("s3", "s2", "s1"), verdict: OK},
		// The same rule, the same findings, for a cascade.
		{name: "cascade ran out of servers in list order", cfg: &CascadeOrder{}, sc: fscen(3, cascading), h: cascade("s1", "s2", "s3"), verdict: OK},
		{name: "cascade ran out of servers in the wrong order", cfg: &CascadeOrder{}, sc: fscen(3, cascading), h: cascade("s2", "s1", "s3"), verdict: Failed,
			detail: []string{"attempt 0 went to s2 at 51.0ms (server accept s2#1), skipping s1"}},
	})
}
