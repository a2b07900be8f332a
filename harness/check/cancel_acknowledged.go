package check

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "cancel_acknowledged", Judges: []string{"M4"}, New: func() Checker { return &CancelAcknowledged{} }})
}

// CancelAcknowledged judges M4: a cancel (attention) ends its request with
// one final done: cancelled=true, the attention's acknowledgment, unless the
// request completed first; nothing of the request follows that done, neither
// as the client reports it nor as any server writes it (after a server's
// cancelled done, no server writes another row of it, also across a
// migration). The rows before it are a prefix 1..k, each once, in order.
type CancelAcknowledged struct {
	// Within bounds cancel op → the client's done (unset: measured only; 0 is a zero bound).
	Within *time.Duration `yaml:"within"`
	// DuringMigration requires at least one cancel issued while a migration
	// of its session was under way (REQUESTED to its end).
	DuringMigration bool `yaml:"during_migration"`
}

// Validate checks the parameters.
func (c *CancelAcknowledged) Validate() error { return nonNegative("within", or(c.Within, 0)) }

// ValidateFor implements scenario.ScenarioValidator: check has nothing to
// judge without a cancel op, nor, with during_migration and unless it
// fails, without a migration, which takes a migrate step naming a target.
func (c *CancelAcknowledged) ValidateFor(sc *scenario.Scenario) error {
	if err := needClientOp(sc, "cancel", "{cancel: true}"); err != nil {
		return err
	}
	if c.DuringMigration && !hasMigration(sc) {
		return errors.New("during_migration is set, and the timeline has no migration (a server step migrate: {to: ...})")
	}
	return nil
}

// Check implements Checker.
func (c *CancelAcknowledged) Check(in Input) Result { return onView(in, c, c.check) }

func (c *CancelAcknowledged) check(v *view) Result {
	runs, _ := v.migrations().all()
	var j judge
	cancels, acked, completed, during, late := 0, 0, 0, 0, 0
	var lat []time.Duration
	last := time.Duration(0)
	for _, cl := range v.clients {
		reqs := map[int64]*reqTrace{}
		for _, rq := range v.commands().requests(cl) {
			reqs[rq.Req] = rq
		}
		for _, cmd := range v.commands().of(cl) {
			if cmd.Op.Op != driver.OpCancel {
				continue
			}
			rq := reqs[cmd.Req]
			who := fmt.Sprintf("client %d cancel of request %d at %s", cl, cmd.Req, dur(cmd.Op.T))
			if rq == nil || rq.Op == nil {
				j.fail(cmd.Op.T, "%s: no such request was accepted", who)
				continue
			}
			if len(rq.Dones) > 0 && rq.Dones[0].T < cmd.Op.T {
				late++ // it had ended: nothing to cancel
				continue
			}
			cancels++
			for _, m := range runs {
				over, _ := m.Over(v)
				if m.Session == rq.Session && cmd.Op.T >= m.Requested.T && cmd.Op.T <= over {
					during++
					break
				}
			}
			if len(rq.Dones) == 0 {
				j.fail(v.end, "%s: never acknowledged: no final done by the end (%s)", who, dur(v.end))
				continue
			}
			if len(rq.Dones) > 1 {
				j.fail(rq.Dones[1].T, "%s: %d final dones", who, len(rq.Dones))
			}
			done := rq.Dones[0]
			last = max(last, done.T)
			d := done.T - cmd.Op.T
			lat = append(lat, d)
			if c.Within != nil && d > *c.Within {
				j.fail(done.T, "%s: acknowledged after %s, more than %s", who, dur(d), dur(*c.Within))
			}
			for _, m := range rq.Got {
				if m.T > done.T {
					j.fail(m.T, "%s: row %d at %s after the acknowledgment (done at %s)", who, m.Seq, dur(m.T), dur(done.T))
					break
				}
			}
			w := walkSeqs(1, rq.Got)
			for _, m := range w.Dups {
				j.fail(m.T, "%s: duplicated row %d at %s", who, m.Seq, dur(m.T))
			}
			for _, h := range w.Holes {
				j.fail(h.Next.T, "%s: lost %s before the acknowledgment", who, rowsText(h))
			}
			if done.Attr("cancelled") != "true" {
				completed++
				if w.MaxSeen < rq.Total {
					j.fail(done.T, "%s: ended by a done that is not cancelled after row %d of %d", who, w.MaxSeen, rq.Total)
				}
				continue
			}
			acked++
			sd, ok := rq.cancelledDone()
			if !ok || sd.T > done.T+v.slack { // + the run's lag: a streamed done is stamped late
				j.fail(done.T, "%s: client reports a cancelled done at %s that no server wrote", who, dur(done.T))
				continue
			}
			for _, e := range rq.ServerRows {
				if e.T > sd.T {
					j.fail(e.T, "%s: server %s wrote row %d at %s after acknowledging the attention at %s (%s)", who, e.Server, e.Seq, dur(e.T), dur(sd.T), sd.Server)
					break
				}
			}
		}
	}
	j.count("cancels", cancels, "harness op cancel with an OK reply, of a request not yet ended")
	j.count("acknowledged (cancelled done)", acked, "client done with cancelled=true, written by a server")
	j.count("completed first", completed, "client done without cancelled: the request ended before the attention took effect")
	j.count("issued during a migration", during, "harness op cancel between the source's migration REQUESTED and the migration's end")
	if late > 0 {
		j.note("%d cancel(s) of requests that had already ended", late)
	}
	if len(lat) > 0 {
		j.measureMs("acknowledgment latency p50", percentile(lat, 50), "client done − harness op cancel (client-reported)", "")
		exp := ""
		if c.Within != nil {
			exp = "≤ " + dur(*c.Within)
		}
		j.measureMs("acknowledgment latency max", percentile(lat, 100), "client done − harness op cancel (client-reported)", exp)
	}
	if cancels == 0 {
		return j.inconclusive(v.end, "nothing to judge: no cancel of a running request was accepted")
	}
	if c.DuringMigration && during == 0 && !j.failed() {
		return j.inconclusive(v.end, "nothing to judge: no cancel was issued during a migration")
	}
	return j.result(last, "%d cancel(s) (%d during a migration): each request ended with one final done (%d cancelled), nothing after it", cancels, during, acked)
}
