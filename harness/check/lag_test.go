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
// mode: s1#6 at 1899.9ms after CLOSED_FAILED at 1899.5ms. With the run's
// lag recorded, the checker reads the evidence within it; without, as
// before.
func TestStreamedEvidenceIsReadWithinTheRunsLag(t *testing.T) {
	build := func(lag string) history.History {
		s := &story{}
		s.connect(5, "A")
		rec := s.lose(400, "cut", "A")
		s.attempts(rec, 100, 200, 400)
		h := s.add(state(1106, rR, cF, "A", "reason=reconnect_aborted")).hist()
		// The last attempt's accept and close, as the stream delivered them:
		// just after the client's close.
		var last int
		for i, e := range h {
			if e.Kind == history.KindAccept {
				last = i
			}
		}
		conn := h[last].Conn
		for i := range h {
			if h[i].Conn == conn && (h[i].Kind == history.KindAccept || h[i].Kind == history.KindConnClose) {
				h[i].T = msd(1106.4)
				if h[i].Kind == history.KindConnClose {
					h[i].T = msd(1106.5)
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
		{name: "in-process evidence: the late accept is after the abort", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit),
			h: build(""), verdict: Failed, detail: []string{"attempts continuing after abort"}},
		{name: "streamed evidence, lag recorded", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit),
			h: build("2ms"), verdict: OK},
		{name: "a lag smaller than the delay does not excuse it", cfg: &BackoffSchedule{Abort: true}, sc: scen(limit),
			h: build("100us"), verdict: Failed, detail: []string{"attempts continuing after abort"}},
	})
	if l := lagOf(history.History{ev(1, history.KindLag, "src=harness", "max=3ms"), ev(2, history.KindLag, "src=harness", "max=7ms")}); l != msd(7) {
		t.Errorf("lagOf = %v, want the largest, 7ms", l)
	}
}
