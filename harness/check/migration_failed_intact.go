package check

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "migration_failed_intact", Judges: []string{"M5"}, New: func() Checker { return &MigrationFailedIntact{} }})
}

// MigrationFailedIntact judges M5: a migration that cannot complete (the
// target unreachable: the client reports FAILED; cancelled by the server
// before it started; refused because the client cannot migrate) leaves the
// session on its source, intact: no target resumes it, the source neither
// hands it off nor closes, expires or loses it, and the client stays
// CONNECTED_ACTIVE in the same session on the source (its own migration
// reports, if any, agree with the servers').
type MigrationFailedIntact struct {
	// Outcome is what every migration must end in: failed, cancelled,
	// refused (cannot migrate), or any (default).
	Outcome string `yaml:"outcome"`
	// Reason is a fragment the end's reason must contain (e.g.
	// "connection cannot migrate").
	Reason string `yaml:"reason"`
	// Within bounds REQUESTED → the end (unset: measured only; 0 is a zero bound).
	Within *time.Duration `yaml:"within"`
}

var outcomes = []string{"", "any", "failed", "cancelled", "refused"}

// Validate checks the parameters.
func (c *MigrationFailedIntact) Validate() error {
	if !slices.Contains(outcomes, c.Outcome) {
		return errors.New("outcome must be failed, cancelled, refused or any")
	}
	return nonNegative("within", or(c.Within, 0))
}

// ValidateFor implements scenario.ScenarioValidator: check has nothing to
// judge when no server requested a migration, which only a migrate step
// naming a target asks for.
func (c *MigrationFailedIntact) ValidateFor(sc *scenario.Scenario) error {
	if !hasMigration(sc) {
		return errNoMigration
	}
	return nil
}

// Check implements Checker.
func (c *MigrationFailedIntact) Check(in Input) Result { return onView(in, c, c.check) }

func (c *MigrationFailedIntact) check(v *view) Result {
	runs, refused := v.migrations().all()
	var j judge
	judged := 0
	var ends []time.Duration
	last := time.Duration(0)
	for _, e := range refused {
		judged++
		who := fmt.Sprintf("the refused migration of session %q on %s at %s", e.Session, e.Server, dur(e.T))
		c.outcome(&j, e, "refused", who)
		c.intact(v, &j, e.Session, e.Server, e.T, v.sessions().owner(e.Session), who, true)
		last = max(last, e.T)
	}
	for _, m := range runs {
		judged++
		who := m.String()
		switch {
		case m.Completed():
			j.fail(m.Resume.T, "%s completed (%s): it was to fail and leave the session on %s", who, m.Outcome(v), m.Source)
			continue
		case m.End == nil:
			j.fail(v.end, "%s never ended: %s", who, m.Outcome(v))
			continue
		}
		kind := "failed"
		if m.End.Attr("state") == migCancelled {
			kind = "cancelled"
		}
		c.outcome(&j, *m.End, kind, who)
		d := m.End.T - m.Requested.T
		ends = append(ends, d)
		if c.Within != nil && d > *c.Within {
			j.fail(m.End.T, "%s ended %s after it was requested, more than %s", who, dur(d), dur(*c.Within))
		}
		c.intact(v, &j, m.Session, m.Source, m.Requested.T, m.Client, who, false)
		c.clientWord(v, &j, m, m.End.Attr("state"))
		last = max(last, m.End.T)
	}
	j.count("migrations judged", judged, "source server migration events (REQUESTED, or FAILED as refused)")
	if len(ends) > 0 {
		exp := ""
		if c.Within != nil {
			exp = "≤ " + dur(*c.Within)
		}
		j.measureMs("request to end max", percentile(ends, 100), "source server migration CANCELLED/FAILED − REQUESTED", exp)
	}
	if judged == 0 {
		return j.inconclusive(v.end, "nothing to judge: no server requested a migration")
	}
	return j.result(last, "%d migration(s) ended without moving: each session stayed on its source, intact", judged)
}

func (c *MigrationFailedIntact) outcome(j *judge, end history.Event, kind, who string) {
	if c.Outcome != "" && c.Outcome != "any" && c.Outcome != kind {
		j.fail(end.T, "%s ended %s (%s), expected %s", who, kind, end.Reason, c.Outcome)
	}
	if c.Reason != "" && !strings.Contains(end.Reason, c.Reason) {
		j.fail(end.T, "%s ended with reason %q, expected it to contain %q", who, end.Reason, c.Reason)
	}
}

// intact: from `from` on, no other server serves the session, the source
// does not lose it, and the client stays CONNECTED_ACTIVE in it on the source.
func (c *MigrationFailedIntact) intact(v *view, j *judge, sess, source string, from time.Duration, client int, who string, refused bool) {
	for _, e := range v.bySess[sess] {
		if e.T < from {
			continue
		}
		switch {
		case e.Server != source && servesSession(e):
			j.fail(e.T, "%s: %s served the session at %s (%s)", who, e.Server, dur(e.T), e.Kind)
		case e.Server == source && (e.Kind == history.KindMigrationHandoff || e.Kind == history.KindSessionExpire ||
			e.Kind == history.KindSessionDisconn && !v.lossOnLink(source, e.T) ||
			e.Kind == history.KindSessionClose && e.Reason != "closed_by_client"):
			j.fail(e.T, "%s: the source %s let the session go at %s (%s%s)", who, source, dur(e.T), e.Kind, reasonText(e))
		default:
			continue
		}
		return
	}
	if client < 0 {
		j.fail(from, "%s: no client reported session %q", who, sess)
		return
	}
	for _, e := range v.states[client] {
		if e.T > from && (e.From == driver.ConnectedActive || e.To != driver.ConnectedActive) && e.To != driver.ClosedByClient {
			j.fail(e.T, "%s: client %d went %s → %s at %s", who, client, e.From, e.To, dur(e.T))
			return
		}
	}
	lastSt, ok := v.client().lastState(client)
	switch {
	case !ok:
	case lastSt.Session != sess || lastSt.Server != source && lastSt.Server != "":
		j.fail(lastSt.T, "%s: client %d ends in session %q on %s, not %q on %s", who, client, lastSt.Session, lastSt.Server, sess, source)
	}
	if refused {
		for _, e := range v.migrations().clientMigs(client) {
			if e.T >= from && e.Attr("state") == migResumed {
				j.fail(e.T, "%s: client %d reports RESUMED on %s, but no server moved it", who, client, e.Attr("target"))
			}
		}
	}
}

// clientWord: the client's reports must not claim a move, and should say
// how the migration ended.
func (c *MigrationFailedIntact) clientWord(v *view, j *judge, m *migRun, state string) {
	if m.Client < 0 {
		return
	}
	said := ""
	for _, e := range v.migrations().clientMigs(m.Client) {
		if e.T < m.Requested.T-v.slack { // Requested may be streamed: stamped up to lag late
			continue
		}
		switch e.Attr("state") {
		case migResumed:
			j.fail(e.T, "%s: client %d reports RESUMED on %s, but no server resumed the session", m, m.Client, e.Attr("target"))
			return
		case migFailed, migCancelled:
			if said == "" {
				said = e.Attr("state")
			}
		}
	}
	if said == "" {
		j.warn(m.End.T, "%s: client %d never reported how it ended (the source recorded %s)", m, m.Client, state)
	}
}
