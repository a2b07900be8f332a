package check

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

func init() { Register("handoff_window", func() Checker { return &HandoffWindow{} }) }

// HandoffWindow judges M1 (and measures M2's window): every migration a
// server requested moves its session to the target it named last (re-targets
// replace it): the target resumes the same session id from the shared
// context (migration.resume), the source lets it go (migration.handoff) and
// serves it no more, and the client, which claims RESUMED on that target,
// never names another session. The handoff window is the target's resume
// minus the source's REQUESTED, per migration; its p50, p99 and max are
// measured over all of them.
type HandoffWindow struct {
	// Within bounds each window (0: measured only).
	Within time.Duration `yaml:"within"`
	// MinMigrations is how many migrations there must be (default 1).
	MinMigrations int `yaml:"min_migrations"`
}

// Validate checks the parameters.
func (c *HandoffWindow) Validate() error {
	if c.MinMigrations < 0 {
		return errors.New("min_migrations must not be negative")
	}
	return nonNegative("within", c.Within)
}

// Check implements Checker.
func (c *HandoffWindow) Check(in Input) Result {
	v, r, ok := prepare(in, c)
	if !ok {
		return r
	}
	var j judge
	runs, refused := v.migrations()
	for _, e := range refused {
		j.fail(e.T, "session %q on %s could not migrate at %s (%s): the client did not declare migration", e.Session, e.Server, dur(e.T), e.Reason)
	}
	var windows []time.Duration
	last := time.Duration(0)
	sealedLate := 0
	for _, m := range runs {
		who := m.String()
		if !m.Completed() {
			j.fail(m.Requested.T, "%s did not complete: %s", who, m.Outcome(v))
			continue
		}
		res := *m.Resume
		if res.Server != m.Target {
			j.fail(res.T, "%s resumed on %s, not on its target %s", who, res.Server, m.Target)
		}
		if res.Session != m.Session {
			j.fail(res.T, "%s resumed session %q, not %q", who, res.Session, m.Session)
		}
		if res.Attr("sealed") != "true" {
			sealedLate++
		}
		if m.Handoff == nil {
			j.fail(res.T, "%s: the source %s never let the session go (no migration.handoff after the target's resume at %s)", who, m.Source, dur(res.T))
		} else {
			for _, e := range v.bySess[m.Session] {
				if e.Server == m.Source && e.T > m.Handoff.T && servesSession(e) {
					j.fail(e.T, "%s: the source %s still served the session after its handoff at %s (%s at %s)", who, m.Source, dur(m.Handoff.T), e.Kind, dur(e.T))
					break
				}
			}
		}
		w := res.T - m.Requested.T
		windows = append(windows, w)
		if stall := v.stalled(m.Requested.T, res.T); c.Within > 0 && w > c.Within+stall {
			j.fail(res.T, "%s: handoff window %s exceeds %s%s", who, dur(w), dur(c.Within), stallNote(stall))
		}
		if res.T > last {
			last = res.T
		}
		c.judgeClient(v, &j, m)
	}
	if len(runs)+len(refused) < max(c.MinMigrations, 1) {
		return Fail(v.end, j.ms, "nothing to judge: %d migration(s) in the history (source server migration REQUESTED, or refused), want at least %d", len(runs)+len(refused), max(c.MinMigrations, 1))
	}
	expected := ""
	if c.Within > 0 {
		expected = "≤ " + dur(c.Within)
	}
	ev := "target server migration.resume − source server migration REQUESTED"
	j.count("migrations", len(runs), "source server migration REQUESTED (one per migration id)")
	j.count("completed", len(windows), "target server migration.resume")
	if len(windows) > 0 {
		if len(windows) <= maxListed {
			for i, w := range windows {
				j.measureMs(fmt.Sprintf("handoff window %d", i+1), w, ev, expected)
			}
		}
		j.measureMs("handoff window p50", percentile(windows, 50), ev, "")
		j.measureMs("handoff window p99", percentile(windows, 99), ev, expected)
		j.measureMs("handoff window max", percentile(windows, 100), ev, expected)
	}
	if sealedLate > 0 {
		j.note("%d resume(s) went ahead after the grace, before the source sealed its context", sealedLate)
	}
	return j.result(last, "%d migration(s) moved their sessions to their targets with the same session id, context resumed from the shared store; handoff window p50 %s, p99 %s",
		len(windows), dur(percentile(windows, 50)), dur(percentile(windows, 99)))
}

// judgeClient holds the client's word against the servers': it reports
// RESUMED on the target, and names no other session afterwards.
func (c *HandoffWindow) judgeClient(v *view, j *judge, m *migRun) {
	if m.Client < 0 {
		j.warn(m.Requested.T, "%s: no client reported session %q", m, m.Session)
		return
	}
	var resumed *history.Event
	for _, e := range v.clientMigs(m.Client) {
		if e.T < m.Requested.T-v.slack { // Requested may be streamed: stamped up to lag late
			continue
		}
		if e.Attr("state") == migResumed {
			e := e
			resumed = &e
			break
		}
	}
	switch {
	case resumed == nil:
		j.warn(m.Resume.T, "%s: client %d never reported RESUMED (the servers saw the move)", m, m.Client)
	case resumed.Attr("target") != m.Resume.Server:
		j.fail(resumed.T, "%s: client %d reports RESUMED on %s, but the session resumed on %s", m, m.Client, resumed.Attr("target"), m.Resume.Server)
	}
	for _, e := range v.states[m.Client] {
		if e.T > m.Requested.T && e.Session != "" && e.Session != m.Session && e.To == driver.ConnectedActive {
			j.fail(e.T, "%s: client %d is CONNECTED_ACTIVE in another session %q at %s: the session id must travel", m, m.Client, e.Session, dur(e.T))
			break
		}
	}
}

// servesSession reports server events that mean the server is serving the
// session (not merely refusing or closing it).
func servesSession(e history.Event) bool {
	switch e.Kind {
	case history.KindRow, history.KindDone, history.KindRequest, history.KindReceive, history.KindDeliver,
		history.KindSessionResume, history.KindMigrationResume:
		return true
	}
	return false
}
