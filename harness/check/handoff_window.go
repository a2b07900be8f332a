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
	Register(Spec{Name: "handoff_window", Judges: []string{"M1", "M2"}, New: func() Checker { return &HandoffWindow{} }})
}

// HandoffWindow judges M1 (and measures M2's window): every migration a
// server requested moves its session to the target it named last (re-targets
// replace it): the target resumes the same session id from the shared
// context (migration.resume), the source lets it go (migration.handoff) and
// serves it no more, and the client, which claims RESUMED on that target,
// never names another session. The handoff window is the target's resume
// minus the source's REQUESTED, per migration; its p50, p99 and max are
// measured over all of them. The client's RESUMED is held against the
// target's resume: a report out of step with it beyond the stamps' slack is
// NON-STRICT.
type HandoffWindow struct {
	// Within bounds each window (unset: measured only).
	Within *time.Duration `yaml:"within"`
	// MinMigrations is how many migrations there must be (default 1; at
	// least 1: with none the check judges nothing).
	MinMigrations *int `yaml:"min_migrations"`
}

// Validate checks the parameters.
func (c *HandoffWindow) Validate() error {
	if c.MinMigrations != nil && *c.MinMigrations < 1 {
		return errors.New("min_migrations must be at least 1 (with no migration there is nothing to judge)")
	}
	return nonNegative("within", or(c.Within, 0))
}

// ValidateFor implements scenario.ScenarioValidator: check has nothing to
// judge with fewer migrations than min_migrations (at least 1), and a
// server records one only when a migrate step names a target.
func (c *HandoffWindow) ValidateFor(sc *scenario.Scenario) error {
	if !hasMigration(sc) {
		return errNoMigration
	}
	return nil
}

// Check implements Checker.
func (c *HandoffWindow) Check(in Input) Result { return onView(in, c, c.check) }

func (c *HandoffWindow) check(v *view) Result {
	var j judge
	runs, refused := v.migrations().all()
	for _, e := range refused {
		j.fail(e.T, "session %q on %s could not migrate at %s (%s): the client did not declare migration", e.Session, e.Server, dur(e.T), e.Reason)
	}
	var windows []time.Duration
	var spans []Span // each window's interval, in the order of windows
	var gap *claimGap
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
		spans = append(spans, Span{From: m.Requested.T, To: res.T})
		if stall := v.stalled(m.Requested.T, res.T); c.Within != nil && w > *c.Within+stall {
			j.fail(res.T, "%s: handoff window %s exceeds %s%s", who, dur(w), dur(*c.Within), stallNote(stall))
		}
		if res.T > last {
			last = res.T
		}
		if g, ok := c.judgeClient(v, &j, m); ok {
			gap = widest(gap, g)
		}
	}
	minMigs := or(c.MinMigrations, 1)
	if len(runs)+len(refused) < minMigs {
		return j.inconclusive(v.end, "nothing to judge: %d migration(s) in the history (source server migration REQUESTED, or refused), want at least %d", len(runs)+len(refused), minMigs)
	}
	expected := ""
	if c.Within != nil {
		expected = "≤ " + dur(*c.Within)
	}
	ev := "target server migration.resume − source server migration REQUESTED"
	j.count("migrations", len(runs), "source server migration REQUESTED (one per migration id)")
	j.count("completed", len(windows), "target server migration.resume")
	if len(windows) > 0 {
		if len(windows) <= maxListed {
			for i, s := range spans {
				j.measureSpan(fmt.Sprintf("handoff window %d", i+1), s.From, s.To, ev, expected)
			}
		}
		j.measureMs("handoff window p50", percentile(windows, 50), ev, "")
		j.measureMs("handoff window p99", percentile(windows, 99), ev, expected)
		if len(windows) <= maxListed {
			j.measureMs("handoff window max", percentile(windows, 100), ev, expected)
		} else { // the windows are not listed: the longest is drawn where it was
			s := longest(spans)
			j.measureSpan("handoff window max", s.From, s.To, ev, expected)
		}
	}
	j.measureClaimGap("client claim gap (widest)", gap, "client migration RESUMED − target server migration.resume")
	if sealedLate > 0 {
		j.note("%d resume(s) went ahead after the grace, before the source sealed its context", sealedLate)
	}
	return j.result(last, "%d migration(s) moved their sessions to their targets with the same session id, context resumed from the shared store; handoff window p50 %s, p99 %s",
		len(windows), dur(percentile(windows, 50)), dur(percentile(windows, 99)))
}

// judgeClient holds the client's word against the servers': it reports
// RESUMED on the target when the target resumed the session (within the
// stamps' slack), and names no other session afterwards. It returns the gap
// between the client's RESUMED and the target's resume, when both exist.
func (c *HandoffWindow) judgeClient(v *view, j *judge, m *migRun) (claimGap, bool) {
	if m.Client < 0 {
		j.warn(m.Requested.T, "%s: no client reported session %q", m, m.Session)
		return claimGap{}, false
	}
	var resumed *history.Event
	for _, e := range v.migrations().clientMigs(m.Client) {
		if e.T < m.Requested.T-v.slack { // Requested may be streamed: stamped up to lag late
			continue
		}
		if e.Attr("state") == migResumed {
			e := e
			resumed = &e
			break
		}
	}
	var g claimGap
	compared := false
	switch {
	case resumed == nil:
		j.warn(m.Resume.T, "%s: client %d never reported RESUMED (the servers saw the move)", m, m.Client)
	case resumed.Attr("target") != m.Resume.Server:
		j.fail(resumed.T, "%s: client %d reports RESUMED on %s, but the session resumed on %s", m, m.Client, resumed.Attr("target"), m.Resume.Server)
	default:
		g, compared = v.sessions().claimGap(m.Client, resumed.T, m.Resume.T, m.Resume.Server), true
		if g.OutOfStep() {
			j.warn(max(g.Claim, g.Evidence), "%s: %s", m, g.describe(fmt.Sprintf("client %d RESUMED", m.Client), "target "+m.Resume.Server+" migration.resume"))
		}
	}
	for _, e := range v.states[m.Client] {
		if e.T > m.Requested.T && e.Session != "" && e.Session != m.Session && e.To == driver.ConnectedActive {
			j.fail(e.T, "%s: client %d is CONNECTED_ACTIVE in another session %q at %s: the session id must travel", m, m.Client, e.Session, dur(e.T))
			break
		}
	}
	return g, compared
}

// longest is the longest of spans (the first of equals).
func longest(spans []Span) Span {
	var out Span
	for i, s := range spans {
		if i == 0 || s.To-s.From > out.To-out.From {
			out = s
		}
	}
	return out
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
