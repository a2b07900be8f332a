package check

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "rows_exactly_once", Judges: []string{"M3", "M4", "M5"}, New: func() Checker { return &RowsExactlyOnce{} }})
}

// RowsExactlyOnce judges M3: every streaming request the driver accepted is
// answered with rows 1..rows, each exactly once and in order, ending in
// exactly one final done, also when a migration interrupted the stream (its
// rows then come from the source and, after the resume, from the target).
// Every row and done the client reports must have been written by a server
// first; nothing of a request is reported after its done. A request the
// client cancelled may end early (cancelled done): its rows are then a
// prefix 1..k, still each once and in order (cancel_acknowledged judges the
// cancel itself).
type RowsExactlyOnce struct {
	// MinInterrupted is how many requests a migration must have interrupted
	// (rows written both before and after its MIGRATING) for the scenario to
	// judge M3 at all (default 1; 0 for none).
	MinInterrupted *int `yaml:"min_interrupted"`
}

// Validate checks the parameters.
func (c *RowsExactlyOnce) Validate() error {
	if c.MinInterrupted != nil && *c.MinInterrupted < 0 {
		return errors.New("min_interrupted must not be negative")
	}
	return nil
}

// ValidateFor implements scenario.ScenarioValidator: check has nothing to
// judge without a request, nor, unless it fails, with fewer requests
// interrupted by a migration than min_interrupted (default 1), which takes
// a migrate step naming a target.
func (c *RowsExactlyOnce) ValidateFor(sc *scenario.Scenario) error {
	if err := needClientOp(sc, "request", "{request: {rows: N}}"); err != nil {
		return err
	}
	if n := or(c.MinInterrupted, 1); n > 0 && !hasMigration(sc) {
		return fmt.Errorf("min_interrupted is %d (the default 1 unless given), and the timeline has no migration (a server step migrate: {to: ...}) to interrupt a request: add one, or set min_interrupted: 0", n)
	}
	return nil
}

// Check implements Checker.
func (c *RowsExactlyOnce) Check(in Input) Result { return onView(in, c, c.check) }

func (c *RowsExactlyOnce) check(v *view) Result {
	minInt := 1
	if c.MinInterrupted != nil {
		minInt = *c.MinInterrupted
	}
	runs, _ := v.migrations().all()
	var j judge
	requests, rows, dups, gaps, interrupted, resent := 0, 0, 0, int64(0), 0, 0
	last := time.Duration(0)
	for _, cl := range v.clients {
		for _, rq := range v.commands().requests(cl) {
			if rq.Op == nil {
				continue // not a request this client's driver accepted
			}
			requests++
			rows += len(rq.Got)
			who := fmt.Sprintf("client %d request %d (%d rows)", cl, rq.Req, rq.Total)
			if len(rq.Requests) == 0 {
				j.fail(rq.Op.Op.T, "%s: no server ever received it", who)
			}
			// Rows as the client reported them.
			w := walkSeqs(1, rq.Got)
			dups += len(w.Dups)
			for _, m := range w.Dups {
				j.fail(m.T, "%s: duplicated row %d at %s", who, m.Seq, dur(m.T))
			}
			for _, m := range w.OutOfOrder {
				j.fail(m.T, "%s: row %d out of order at %s", who, m.Seq, dur(m.T))
			}
			for _, h := range w.Holes {
				gaps += h.To - h.From + 1
				j.fail(h.Next.T, "%s: lost %s (the client got row %d at %s without it)", who, rowsText(h), h.Next.Seq, dur(h.Next.T))
			}
			written := map[int64]time.Duration{}
			seen := map[int64]int{}
			for _, e := range rq.ServerRows {
				if _, ok := written[e.Seq]; !ok {
					written[e.Seq] = e.T
				}
				seen[e.Seq]++
				if seen[e.Seq] > 1 {
					resent++
				}
			}
			for _, m := range rq.Got {
				at, ok := written[m.Seq]
				switch {
				case !ok:
					j.fail(m.T, "%s: client reports row %d that no server wrote (at %s)", who, m.Seq, dur(m.T))
				case at > m.T+v.slack: // + the run's lag: a streamed row is stamped late
					j.fail(m.T, "%s: client reports row %d at %s before a server wrote it at %s", who, m.Seq, dur(m.T), dur(at))
				}
				last = max(last, m.T)
			}
			if interruptedBy(runs, rq) {
				interrupted++
			}
			// The final done.
			switch len(rq.Dones) {
			case 0:
				j.fail(v.end, "%s: never ended: no final done by the end (%s); the client got %d row(s), up to %d", who, dur(v.end), w.Received, w.MaxSeen)
				continue
			case 1:
			default:
				j.fail(rq.Dones[1].T, "%s: %d final dones (the second at %s)", who, len(rq.Dones), dur(rq.Dones[1].T))
			}
			done := rq.Dones[0]
			last = max(last, done.T)
			for _, m := range rq.Got {
				if m.T > done.T {
					j.fail(m.T, "%s: row %d reported at %s after the final done at %s", who, m.Seq, dur(m.T), dur(done.T))
					break
				}
			}
			cancelled := done.Attr("cancelled") == "true"
			if !serverDone(rq, cancelled, done.T, v.slack) {
				j.fail(done.T, "%s: client reports a done (cancelled=%v) at %s that no server wrote before", who, cancelled, dur(done.T))
			}
			if !cancelled && w.MaxSeen < rq.Total {
				missing := rq.Total - w.MaxSeen
				gaps += missing
				j.fail(done.T, "%s: done at %s after row %d: rows %d..%d never arrived", who, dur(done.T), w.MaxSeen, w.MaxSeen+1, rq.Total)
			}
		}
	}
	j.count("requests", requests, "harness op request with an OK reply")
	j.count("rows received", rows, "client row events (client-reported)")
	j.count("duplicates", dups, "client row with an n it already had")
	j.measure("lost rows", float64(gaps), "count", "rows 1..rows the client never reported", "0")
	j.count("interrupted by a migration", interrupted, "server row events of the request both before and after its session's server migration MIGRATING")
	j.count("rows written again", resent, "server row events repeating an n (a resume sending what the client had not received)")
	if requests == 0 {
		return j.inconclusive(v.end, "nothing to judge: no client request was accepted")
	}
	if interrupted < minInt && !j.failed() {
		return j.inconclusive(v.end, "nothing to judge: %d request(s) interrupted by a migration, want at least %d (no request's rows were written both before and after a MIGRATING)", interrupted, minInt)
	}
	return j.result(last, "%d request(s), %d interrupted by a migration: every row exactly once and in order, each written by a server, ending in one final done", requests, interrupted)
}

func rowsText(h hole) string {
	if h.From == h.To {
		return fmt.Sprintf("row %d", h.From)
	}
	return fmt.Sprintf("rows %d..%d", h.From, h.To)
}

// serverDone reports whether a server wrote a done of the request (with
// the given cancelled flag) before at, within slack (the view's: streamed
// evidence is stamped late).
func serverDone(rq *reqTrace, cancelled bool, at, slack time.Duration) bool {
	for _, e := range rq.ServerDone {
		if (e.Attr("cancelled") == "true") == cancelled && e.T <= at+slack {
			return true
		}
	}
	return false
}

// interruptedBy reports whether a migration of the request's session
// started (MIGRATING) while the servers were writing its rows.
func interruptedBy(runs []*migRun, rq *reqTrace) bool {
	for _, m := range runs {
		if m.Session != rq.Session || m.Migrating == nil {
			continue
		}
		before, after := false, false
		for _, e := range rq.ServerRows {
			before = before || e.T < m.Migrating.T
			after = after || e.T > m.Migrating.T
		}
		if before && after {
			return true
		}
	}
	return false
}
