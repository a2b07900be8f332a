package check

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "no_command_lost", Judges: []string{"M2"}, New: func() Checker { return &NoCommandLost{} }})
}

// NoCommandLost judges M2: no command is lost across a migration. Every
// send, request, cancel and subscribe the driver accepted reaches a server
// of the client's session exactly once: a send as a receive of its number, a
// request as a request of its id, a cancel as an attention (unless the
// request had ended before), a subscribe as a subscribe. That includes the
// Open Server's caveat: a command sent just before the source stopped serving, which
// the source forwards into the shared context and the target runs
// (forwarded=true); one the client drops is caught here.
//
// With held, commands issued while a migration was under way (from the
// source's READY, when the client had answered, to the resume or its
// cancellation or failure) must have been held: delivered after the
// migration ended, on the server that then had the session (the target
// after a resume, else the source), not to the source while it was handing
// the session over. An attention issued before MIGRATING may still go to the
// source, which serves until then.
type NoCommandLost struct {
	Held bool `yaml:"held"`
	// MinHeld is how many commands must have been issued during migrations
	// (with held; default 0).
	MinHeld int `yaml:"min_held"`
	// MinForwarded is how many commands must have been forwarded by a
	// source (the caveat's path; default 0).
	MinForwarded int `yaml:"min_forwarded"`
}

// Validate checks the parameters.
func (c *NoCommandLost) Validate() error {
	if c.MinHeld < 0 || c.MinForwarded < 0 {
		return errors.New("min_held and min_forwarded must not be negative")
	}
	if c.MinHeld > 0 && !c.Held {
		return errors.New("min_held needs held: true")
	}
	return nil
}

// ValidateFor implements scenario.ScenarioValidator: check has nothing to
// judge without a command (send, request, cancel, subscribe op), nor, with
// min_forwarded or min_held and unless it fails, without a migration, which
// takes a migrate step naming a target.
func (c *NoCommandLost) ValidateFor(sc *scenario.Scenario) error {
	n := 0
	for _, op := range []string{"send", "request", "cancel", "subscribe"} {
		n += len(clientSteps(sc, op))
	}
	if n == 0 {
		return errors.New("it needs a client command step (send, request, cancel or subscribe), and the timeline has none")
	}
	if (c.MinForwarded > 0 || c.Held && c.MinHeld > 0) && !hasMigration(sc) {
		return errors.New("min_forwarded or min_held is set, and the timeline has no migration (a server step migrate: {to: ...})")
	}
	return nil
}

// Check implements Checker.
func (c *NoCommandLost) Check(in Input) Result { return onView(in, c, c.check) }

func (c *NoCommandLost) check(v *view) Result {
	runs, _ := v.migrations().all()
	var j judge
	total, lost, dups, held, forwarded := 0, 0, 0, 0, 0
	var maxHold time.Duration
	last := time.Duration(0)
	for _, cl := range v.clients {
		sessions := map[string]bool{}
		for _, s := range v.sessions().of(cl) {
			sessions[s] = true
		}
		reqs := map[int64]*reqTrace{}
		for _, rq := range v.commands().requests(cl) {
			reqs[rq.Req] = rq
		}
		for _, cmd := range v.commands().of(cl) {
			total++
			evs, needed := v.commands().commandEvidence(cmd, sessions, reqs)
			if !needed {
				continue
			}
			var first *history.Event
			n := 0
			for _, e := range evs {
				if e.Attr("dup") == "true" {
					continue
				}
				n++
				if first == nil {
					e := e
					first = &e
				}
			}
			switch {
			case n == 0:
				lost++
				j.fail(cmd.Op.T, "lost: %s never reached a server%s", cmd, v.commands().forwardNote(cmd, sessions))
				continue
			case n > 1 && cmd.Op.Op != driver.OpCancel: // an attention may be repeated: it is idempotent
				dups++
				j.fail(evs[1].T, "%s reached the servers %d times (%s on %s at %s, then on %s at %s)", cmd, n, first.Kind, first.Server, dur(first.T), evs[1].Server, dur(evs[1].T))
			}
			if first.Attr("forwarded") == "true" {
				forwarded++
			}
			last = max(last, first.T)
			if !c.Held {
				continue
			}
			m := migrationAt(runs, v, cmd)
			if m == nil || (cmd.Op.Op == driver.OpCancel && (m.Migrating == nil || cmd.Op.T < m.Migrating.T)) {
				continue
			}
			held++
			over, _ := m.Over(v)
			where, what := m.Source, "its cancellation or failure"
			if m.Completed() {
				where, what = m.Resume.Server, "the resume on the target"
			}
			switch {
			case first.Attr("forwarded") == "true":
				j.fail(first.T, "not held: %s was issued during %s but sent to the source, which had to forward it", cmd, m)
			case first.Server != where || first.T < over-stampSlack:
				j.fail(first.T, "not held: %s was issued during %s but reached %s at %s, before %s at %s", cmd, m, first.Server, dur(first.T), what, dur(over))
			default:
				maxHold = max(maxHold, first.T-cmd.Op.T)
			}
		}
	}
	j.count("commands", total, "harness ops send/request/cancel/subscribe with an OK reply")
	j.measure("lost", float64(lost), "count", "commands with no server receive/request/attention/subscribe in the client's session", "0")
	j.count("delivered more than once", dups, "server evidence repeated without dup=true")
	j.count("forwarded by a source", forwarded, "server evidence with forwarded=true (run from the shared context)")
	if c.Held {
		j.count("issued during a migration", held, "harness op between the source's migration READY and its end")
		if held > 0 {
			j.measureMs("longest hold", maxHold, "server evidence on the session's server after the migration − harness op", "")
		}
	}
	if total == 0 {
		return j.inconclusive(v.end, "nothing to judge: no command (send, request, cancel, subscribe) was accepted by the driver")
	}
	if forwarded < c.MinForwarded && !j.failed() {
		return j.inconclusive(v.end, "nothing to judge: %d command(s) forwarded by a source, want at least %d (no command crossed the start of a migration)", forwarded, c.MinForwarded)
	}
	if c.Held && held < c.MinHeld && !j.failed() {
		return j.inconclusive(v.end, "nothing to judge: %d command(s) issued during a migration, want at least %d", held, c.MinHeld)
	}
	return j.result(last, "%d command(s), each reaching a server of its session exactly once%s", total, heldText(c.Held, held))
}

func heldText(on bool, n int) string {
	if !on {
		return ""
	}
	return fmt.Sprintf("; %d issued during a migration were held and delivered after it", n)
}
