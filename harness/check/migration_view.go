package check

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Migration states as the servers record them (Open Server's names).
const (
	migRequested = "REQUESTED"
	migReady     = "READY"
	migMigrating = "MIGRATING"
	migCancelled = "CANCELLED"
	migFailed    = "FAILED"
	migResumed   = "RESUMED" // the client's report of a completed migration
)

// migView is the migrations as the servers recorded them and the clients
// reported them: the M checkers' shared facts, found once per view.
type migView struct {
	*view              // the index
	sv    *sessionView // a migration's client is its session's owner
}

func newMigView(v *view, sv *sessionView) *migView { return &migView{view: v, sv: sv} }

// migRun is one migration as the servers recorded it: the source's state
// events, and the target's resume.
type migRun struct {
	Mig     string
	Session string
	Source  string
	Client  int // the session's owner (-1: no client named it)

	Requested history.Event   // the first REQUESTED
	Target    string          // the target named last (re-targets replace it)
	Retargets int             // REQUESTED events after the first
	Ready     *history.Event  // the first READY
	Migrating *history.Event  // MIGRATING
	End       *history.Event  // CANCELLED or FAILED on the source
	Refusals  []history.Event // cancel_refused / retarget_refused
	Seal      *history.Event
	Forwards  []history.Event
	Resume    *history.Event // the target's migration.resume
	Handoff   *history.Event // the source's migration.handoff
}

// Completed reports whether the session resumed on a target.
func (m *migRun) Completed() bool { return m.Resume != nil }

// Over is when the migration ended (resume or CANCELLED/FAILED; the end of
// the history if neither happened).
func (m *migRun) Over(v *view) (time.Duration, bool) {
	switch {
	case m.Resume != nil:
		return m.Resume.T, true
	case m.End != nil:
		return m.End.T, true
	}
	return v.end, false
}

// HoldFrom is when the client had certainly learned of the migration: the
// source's READY (the client's answer), else REQUESTED.
func (m *migRun) HoldFrom() time.Duration {
	if m.Ready != nil {
		return m.Ready.T
	}
	return m.Requested.T
}

func (m *migRun) String() string {
	return fmt.Sprintf("migration %s of session %q (%s → %s, requested at %s)", m.Mig, m.Session, m.Source, m.Target, dur(m.Requested.T))
}

// Outcome describes how it ended.
func (m *migRun) Outcome(v *view) string {
	switch {
	case m.Resume != nil:
		return fmt.Sprintf("resumed on %s at %s", m.Resume.Server, dur(m.Resume.T))
	case m.End != nil:
		return fmt.Sprintf("%s%s on %s at %s", m.End.Attr("state"), reasonText(*m.End), m.End.Server, dur(m.End.T))
	}
	state := migRequested
	switch {
	case m.Migrating != nil:
		state = migMigrating
	case m.Ready != nil:
		state = migReady
	}
	return fmt.Sprintf("still %s at the end (%s)", state, dur(v.end))
}

// all lists the history's migrations in request order, and the
// requests refused because the connection cannot migrate (once per view).
func (v *migView) all() (runs []*migRun, refused []history.Event) {
	m := derive(v.memo, migrationsKey{}, func() migrationsFound {
		runs, refused := v.find()
		return migrationsFound{runs, refused}
	})
	return m.runs, m.refused
}

type (
	migrationsKey   struct{}
	migrationsFound struct {
		runs    []*migRun
		refused []history.Event
	}
)

// find reads the migrations from the servers' records.
func (v *migView) find() (runs []*migRun, refused []history.Event) {
	byID := map[string]*migRun{}
	for _, e := range v.h {
		if e.Source != history.SrcServer {
			continue
		}
		mig := e.Attr("mig")
		switch e.Kind {
		case history.KindMigration:
			if mig == "" {
				refused = append(refused, e)
				continue
			}
			m := byID[mig]
			if m == nil {
				m = &migRun{Mig: mig, Session: e.Session, Source: e.Server, Client: v.sv.owner(e.Session), Requested: e}
				byID[mig] = m
				runs = append(runs, m)
			}
			e := e
			switch st := e.Attr("state"); {
			case e.Reason == "cancel_refused" || e.Reason == "retarget_refused":
				m.Refusals = append(m.Refusals, e)
			case st == migRequested:
				if e.Attr("retarget") == "true" {
					m.Retargets++
				}
				m.Target = e.Attr("target")
			case st == migReady && m.Ready == nil:
				m.Ready = &e
			case st == migMigrating && m.Migrating == nil:
				m.Migrating = &e
			case (st == migCancelled || st == migFailed) && m.End == nil:
				m.End = &e
			}
		case history.KindMigrationSeal:
			if m := byID[mig]; m != nil && m.Seal == nil {
				e := e
				m.Seal = &e
			}
		case history.KindMigrationForward:
			if m := byID[mig]; m != nil {
				m.Forwards = append(m.Forwards, e)
			}
		case history.KindMigrationResume:
			if m := byID[mig]; m != nil && m.Resume == nil {
				e := e
				m.Resume = &e
			}
		case history.KindMigrationHandoff:
			if m := byID[mig]; m != nil && m.Handoff == nil {
				e := e
				m.Handoff = &e
			}
		}
	}
	return runs, refused
}

// clientMigs are a client's own migration reports in order.
func (v *migView) clientMigs(c int) []history.Event {
	var out []history.Event
	for _, e := range v.h {
		if e.Source == history.SrcClient && e.Client == c && e.Kind == history.KindMigration {
			out = append(out, e)
		}
	}
	return out
}

// ---- percentiles ------------------------------------------------------------

// percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of xs.
func percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}

// migrationAt is the migration of the command's session under way when the
// command was issued (from READY to its end), if any.
func migrationAt(runs []*migRun, v *view, cmd command) *migRun {
	for _, m := range runs {
		if m.Client != cmd.Client || m.Ready == nil {
			continue
		}
		over, _ := m.Over(v)
		if cmd.Op.T > m.HoldFrom() && cmd.Op.T < over {
			return m
		}
	}
	return nil
}
