package check

import (
	"sort"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// Server evidence streamed from another process (containers, external) is
// stamped when it arrives, after what the client reported of the same
// instant. Seen in containers mode: "message 4 answered 200 at 206.4ms,
// before s2 received part 1 at 206.4ms" (routing, every scenario), and
// "client reports row 25 at 1577.0ms before a server wrote it at 1601.6ms"
// (migration-many-clients, lag max 32.6ms). With the run's lag recorded,
// these checkers read server evidence within it; without, as before.
func TestMigrationAndRoutingReadStreamedEvidenceWithinTheLag(t *testing.T) {
	withLag := func(h history.History, lag string) history.History {
		if lag != "" {
			h = append(h, ev(5000, history.KindLag, "src=harness", "max="+lag))
		}
		return h
	}
	receipt := func(lag string) history.History {
		r := newRT("s1", "s2")
		r.sends(5, "s1", "s2")
		id := r.sendOp(10, "", 1, 1, 100, true)
		r.route(10.1, id, 1, 1, "s1")
		r.resp(11, id, 200, "s1")
		r.recv(11.3, id, 1, 1, "s1", 150) // the receipt, stamped on arrival
		return withLag(r.hist(), lag)
	}
	row := func(lag string) history.History {
		s, _, _ := inBatch()
		h := s.h()
		for i := range h { // s2's row 6, stamped 12.5ms after the client's report of it
			if h[i].Source == history.SrcServer && h[i].Kind == history.KindRow && h[i].Seq == 6 {
				h[i].T = msd(146)
			}
		}
		sort.SliceStable(h, func(i, j int) bool { return h[i].T < h[j].T })
		return withLag(h, lag)
	}
	runRouteCases(t, 2, []tcase{
		{name: "routing: in-process, a receipt after the 200", cfg: &Unavailable500{}, h: receipt(""), verdict: Failed,
			detail: []string{"message 5 answered 200 at 11.0ms, before s1 received part 1 at 11.3ms"}},
		{name: "routing: streamed, within the lag", cfg: &Unavailable500{}, h: receipt("1ms"), verdict: OK},
		{name: "routing: a lag smaller than the delay does not excuse it", cfg: &Unavailable500{}, h: receipt("100us"), verdict: Failed},
	})
	runCases(t, []tcase{
		{name: "rows: in-process, a row written after the client had it", cfg: &RowsExactlyOnce{}, sc: mscen(), h: row(""), verdict: Failed,
			detail: []string{"client reports row 6 at 133.5ms before a server wrote it at 146.0ms"}},
		{name: "rows: streamed, within the lag", cfg: &RowsExactlyOnce{}, sc: mscen(), h: row("20ms"), verdict: OK},
	})
}
