package check

import (
	"sort"
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// Server events streamed from another process (containers, external mode)
// are stamped on arrival, so the accept of a strategy's last attempt can
// land just after the client's report that it gave up. Seen in containers
// mode: s1#6 at 1899.9ms after CLOSED_FAILED at 1899.5ms. In-process the
// same happens within the stamp slack (seen under load: s1#6 at 1874.6ms
// after the abort at 1874.4ms): the proxy fails the client's attempt while
// it is still dialling the server. So the last attempt's accept may follow
// the close by the slack (10ms) plus the run's recorded lag; later than
// that it is an attempt after the abort.
func TestStreamedEvidenceIsReadWithinTheRunsLag(t *testing.T) {
	build := func(lateBy float64, lag string) history.History {
		s := &story{}
		s.connect(5, "A")
		rec := s.lose(400, "cut", "A")
		s.attempts(rec, 100, 200, 400)
		h := s.add(state(1106, rR, cF, "A", "reason=reconnect_aborted")).hist()
		// The last attempt's accept and close, stamped lateBy after the
		// client's close.
		var last int
		for i, e := range h {
			if e.Kind == history.KindAccept {
				last = i
			}
		}
		conn := h[last].Conn
		for i := range h {
			if h[i].Conn == conn && (h[i].Kind == history.KindAccept || h[i].Kind == history.KindConnClose) {
				h[i].T = msd(1106 + lateBy)
				if h[i].Kind == history.KindConnClose {
					h[i].T = msd(1106 + lateBy + 0.1)
				}
			}
		}
		sort.SliceStable(h, func(i, j int) bool { return h[i].T < h[j].T })
		if lag != "" {
			h = append(h, ev(1500, history.KindLag, "src=harness", "max="+lag))
		}
		return h
	}
	limit := func(sc *scenario.Scenario) { sc.Client.Reconnect.Strategy.Attempts = 3 }
	runCases(t, []tcase{
		{name: "in-process, within the stamp slack", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit),
			h: build(0.4, ""), verdict: OK},
		{name: "in-process, beyond the stamp slack", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit),
			h: build(30, ""), verdict: Failed, detail: []string{"attempts continuing after abort"}},
		{name: "streamed evidence, lag recorded", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit),
			h: build(30, "25ms"), verdict: OK},
		{name: "a lag smaller than the delay does not excuse it", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit),
			h: build(30, "5ms"), verdict: Failed, detail: []string{"attempts continuing after abort"}},
	})
	if l := lagOf(history.History{ev(1, history.KindLag, "src=harness", "max=3ms"), ev(2, history.KindLag, "src=harness", "max=7ms")}); l != msd(7) {
		t.Errorf("lagOf = %v, want the largest, 7ms", l)
	}
}

// The lag admits a late accept on the lost server into an outage, never the
// next phase's: the first attempt of a failover, on another server, stamped
// just after the client's CONNECTING, is not a recovery attempt.
func TestLagAdmitsOnlyTheLostServersLateAccepts(t *testing.T) {
	sc := scen(func(sc *scenario.Scenario) {
		sc.Servers = append(sc.Servers, scenario.Server{Name: "s2"})
		sc.Client.Servers = []string{"s1", "s2"}
	})
	h := history.History{
		ev(1, history.KindAccept, "server=s1", "conn=s1#1"),
		state(5, cg, cA, "A"),
		ev(400, history.KindFaultOn, "link=s1", "verb=cut", "id=1"),
		state(402, cA, rR, "A"),
		ev(500, history.KindAccept, "server=s1", "conn=s1#2"),
		ev(501, history.KindConnClose, "server=s1", "conn=s1#2"),
		state(1202, rR, cg, "A", "reason=reconnect_timeout"),
		ev(1202.3, history.KindAccept, "server=s1", "conn=s1#3"), // the recovery's last, stamped late
		ev(1202.5, history.KindAccept, "server=s2", "conn=s2#1"), // the failover's first
		ev(1500, history.KindLag, "src=harness", "max=2ms"),
	}
	v := newView(h, sc)
	os := v.outages().of(0)
	if len(os) != 1 {
		t.Fatalf("%d outages", len(os))
	}
	var got []string
	for _, a := range os[0].Attempts(v) {
		got = append(got, a.Accept.Conn)
	}
	if len(got) != 2 || got[0] != "s1#2" || got[1] != "s1#3" {
		t.Errorf("outage attempts %v, want [s1#2 s1#3]", got)
	}
}
