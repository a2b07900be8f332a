package runner

import (
	"context"
	"strconv"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/scenario"
)

// Migration (the Open Server family, M1–M6): the run's session servers share one context store,
// and resolve each other's names to their links' URLs, the addresses
// clients reach them at. In-process servers get an in-memory store here;
// servers in other processes get theirs from their topology
// (Deployment.Peers). Servers that cannot migrate (other kinds) are left
// alone; a migrate step on one is a problem of the run.

// migrator is what a migrate step needs of a server: an in-process session
// server, or the handle of one in another process.
type migrator interface {
	Migrate(to string, hold time.Duration) (int, error)
	CancelMigration() int
}

// setPeers gives every migration-capable server the run's store and the
// link URLs by server name. It runs once the links are up.
func (t *run) setPeers() {
	urls := map[string]string{}
	for name := range t.links {
		urls[name], _ = t.urlOf(name)
	}
	if t.dep != nil && t.dep.Peers != nil {
		ctx, cancel := context.WithTimeout(context.Background(), t.cfg.OpTimeout)
		defer cancel()
		if err := t.dep.Peers(ctx, urls); err != nil {
			t.problem("migration peers: %v", err)
		}
	}
	resolve := func(name string) (string, bool) {
		u, ok := urls[name]
		return u, ok
	}
	store := fakeserver.NewMemoryStore()
	for _, srv := range t.servers {
		if m, ok := srv.(fakeserver.Migrator); ok {
			m.SetPeers(fakeserver.Peers{Store: store, Resolve: resolve})
		}
	}
}

// migrateAction asks a server's sessions to migrate, re-targets, or cancels.
func (t *run) migrateAction(st scenario.Step) {
	m, ok := t.servers[st.Server].(migrator)
	if !ok {
		t.problem("server %s cannot migrate sessions in this topology", st.Server)
		return
	}
	if st.Migrate.Cancel {
		m.CancelMigration()
		return
	}
	if _, err := m.Migrate(st.Migrate.To, st.Migrate.Hold); err != nil {
		t.problem("migrate %s to %s: %v", st.Server, st.Migrate.To, err)
	}
}

// requestOp sends a request (after setting the servers' row pacing) or a
// cancel of the client's latest request. A request's id is its op's id.
func (c *clientRunner) requestOp(ctx context.Context, cs *scenario.ClientStep) {
	switch cs.Op {
	case "request":
		every := cs.Every
		if every <= 0 {
			every = scenario.DefaultRowEvery
		}
		for _, srv := range c.run.servers {
			if p, ok := srv.(fakeserver.RowPacer); ok {
				p.PaceRows(every)
			}
		}
		c.lastReq.Store(c.ids.Load() + 1) // the id do assigns next: a client's ops are sequential
		c.do(ctx, driver.Op{Op: driver.OpRequest, Rows: cs.Rows})
	case "cancel":
		c.do(ctx, driver.Op{Op: driver.OpCancel, Request: c.lastReq.Load()})
	}
}

// opAttrs are an op event's attributes: its id, and a request's rows or a
// cancel's request.
func opAttrs(op driver.Op, id string) map[string]string {
	a := map[string]string{"id": id}
	switch op.Op {
	case driver.OpRequest:
		a["rows"] = strconv.Itoa(op.Rows)
	case driver.OpCancel:
		a["request"] = strconv.FormatInt(op.Request, 10)
	}
	return a
}

// nameOf maps a URL a driver reported to its server's name (itself when it
// is not one of the run's links).
func (t *run) nameOf(url string) string {
	if n := t.byURL[url]; n != "" {
		return n
	}
	return url
}

func describeMigrate(st scenario.Step) string {
	m := st.Migrate
	if m.Cancel {
		return "server " + st.Server + " migrate cancel"
	}
	s := "server " + st.Server + " migrate to " + m.To
	if m.Hold > 0 {
		s += " hold " + m.Hold.String()
	}
	return s
}
