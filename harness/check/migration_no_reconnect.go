package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "migration_no_reconnect", Judges: []string{"M6"}, New: func() Checker { return &MigrationNoReconnect{} }})
}

// MigrationNoReconnect judges M6: the source's disconnect that completes a
// migration is not a failure. From a migration's request until Settle after
// its end, the client does not leave CONNECTED_ACTIVE (no
// RECOVERING_RECONNECT, no CONNECTING of a failover, no CLOSED_FAILED), and
// the servers see no reconnection: no resuming hello of the session other
// than the migration's own, no new session of its client, no other
// connection (with one client, no accept after the resume). A loss fault on
// the source's link excuses leaving CONNECTED_ACTIVE only if the migration
// did not complete: once the target has the session, the source's fate is
// irrelevant.
type MigrationNoReconnect struct {
	// Settle is how long after each migration's end to keep watching
	// (default 1s).
	Settle *time.Duration `yaml:"settle"`
}

// Validate checks the parameters.
func (c *MigrationNoReconnect) Validate() error { return nonNegative("settle", or(c.Settle, 0)) }

// ValidateFor implements scenario.ScenarioValidator: check has nothing to
// judge without a migration, which only a migrate step naming a target
// starts.
func (c *MigrationNoReconnect) ValidateFor(sc *scenario.Scenario) error {
	if !hasMigration(sc) {
		return errNoMigration
	}
	return nil
}

// Check implements Checker.
func (c *MigrationNoReconnect) Check(in Input) Result { return onView(in, c, c.check) }

func (c *MigrationNoReconnect) check(v *view) Result {
	settle := or(c.Settle, time.Second)
	runs, _ := v.migrations().all()
	var j judge
	watched, leaves, reconnects, closes := 0, 0, 0, 0
	last := time.Duration(0)
	for _, m := range runs {
		if m.Client < 0 {
			j.fail(m.Requested.T, "%s: no client reported session %q", m, m.Session)
			continue
		}
		watched++
		over, _ := m.Over(v)
		until := min(over+settle, v.end)
		last = max(last, until)
		who := fmt.Sprintf("client %d during %s", m.Client, m)
		for _, e := range v.states[m.Client] {
			if e.T < m.Requested.T || e.T > until || e.From != driver.ConnectedActive || e.To == driver.ClosedByClient {
				continue
			}
			if !m.Completed() && v.lossOnLink(m.Source, e.T) {
				j.note("client %d left CONNECTED_ACTIVE at %s under a loss fault on %s, the migration not completing", m.Client, dur(e.T), m.Source)
				continue
			}
			leaves++
			cause := ""
			if m.Handoff != nil && e.T >= m.Handoff.T-stampSlack {
				cause = fmt.Sprintf(", after the source's migration disconnect at %s", dur(m.Handoff.T))
			}
			j.fail(e.T, "%s: left CONNECTED_ACTIVE for %s%s at %s%s: a migration must not fire a reconnect or failover", who, e.To, reasonText(e), dur(e.T), cause)
			break
		}
		if !m.Completed() {
			continue
		}
		if m.Handoff != nil {
			for _, e := range v.h {
				if e.Kind == history.KindConnClose && e.Server == m.Source && e.Conn == m.Handoff.Conn && e.Reason == "migrated" {
					closes++
					break
				}
			}
		}
		for _, e := range v.bySess[m.Session] {
			if e.T <= m.Resume.T || e.T > until {
				continue
			}
			if e.Kind == history.KindHandshake && e.Attr("resume") == "true" && e.Attr("mig") == "" {
				reconnects++
				j.fail(e.T, "%s: %s saw the session resume again at %s (a reconnect after the migration)", who, e.Server, dur(e.T))
				break
			}
		}
		if v.nClients == 1 {
			for _, e := range v.h {
				if e.Kind == history.KindAccept && e.T > m.Resume.T && e.T <= until {
					reconnects++
					j.fail(e.T, "%s: %s accepted a new connection at %s after the resume on %s", who, e.Server, dur(e.T), m.Resume.Server)
					break
				}
			}
		}
	}
	j.count("migrations watched", watched, "source server migration REQUESTED with a client owning the session")
	j.measure("left CONNECTED_ACTIVE", float64(leaves), "count", "client state events from CONNECTED_ACTIVE from REQUESTED to settle after the end (client-reported)", "0")
	j.measure("reconnections seen by servers", float64(reconnects), "count", "server handshake resume without mig, or accept after the target's resume (one client)", "0")
	j.count("source closes (migrated)", closes, "source server conn.close reason migrated after migration.handoff")
	if watched == 0 {
		return j.inconclusive(v.end, "nothing to judge: no migration of a client's session")
	}
	return j.result(last, "%d migration(s): no reconnect, no failover; the source's disconnect was taken as the end of the move", watched)
}
