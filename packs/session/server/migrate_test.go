package server

import (
	"testing"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

// peers starts servers named names sharing one store, each resolving the
// others' names to their URLs, recording into one log.
func peers(t *testing.T, opts Options, names ...string) (map[string]*Server, *history.Log, *fakeserver.MemoryStore) {
	t.Helper()
	log := history.NewLog(history.NewClock())
	store := fakeserver.NewMemoryStore()
	out := map[string]*Server{}
	for _, n := range names {
		s, err := Start(n, log, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		out[n] = s
	}
	resolve := func(name string) (string, bool) {
		s, ok := out[name]
		if !ok {
			return "", false
		}
		return s.URL(), true
	}
	for _, s := range out {
		s.SetPeers(fakeserver.Peers{Store: store, Resolve: resolve})
	}
	return out, log, store
}

// rowsUntil reads frames, collecting the rows of every request, until a
// frame of type typ (not a row) arrives; it fails on any other frame.
func (c *tclient) rowsUntil(typ string, rows map[int64][]int64) wire.Frame {
	c.t.Helper()
	for {
		f := c.next(3 * time.Second)
		switch f.T {
		case wire.TRow:
			rows[f.Req] = append(rows[f.Req], f.N)
		case typ:
			return f
		default:
			c.t.Fatalf("got %s frame %+v while waiting for %s", f.T, f, typ)
		}
	}
}

func migHello(w wire.Frame) wire.Frame {
	return wire.Frame{T: wire.THello, Principal: DefaultPrincipal, Credentials: DefaultCredentials, Migration: true}
}

// consecutive checks that got is exactly from..to.
func consecutive(t *testing.T, what string, got []int64, from, to int64) {
	t.Helper()
	if int64(len(got)) != to-from+1 {
		t.Fatalf("%s: got %d rows %v, want %d..%d", what, len(got), got, from, to)
	}
	for i, n := range got {
		if n != from+int64(i) {
			t.Fatalf("%s: rows %v, want %d..%d", what, got, from, to)
		}
	}
}

func TestMigrationHandsOffWithRowsAndLateCommand(t *testing.T) {
	srv, log, store := peers(t, Options{Ping: 500 * time.Millisecond}, "s1", "s2")
	srv["s1"].PaceRows(5 * time.Millisecond)
	c := dial(t, srv["s1"])
	c.send(migHello(wire.Frame{}))
	w := c.expect(wire.TWelcome)
	c.send(wire.Frame{T: wire.TSend, N: 1, Data: data(1)})
	c.expect(wire.TAck)
	c.send(wire.Frame{T: wire.TReq, Req: 1, Rows: 60})
	rows := map[int64][]int64{}
	for len(rows[1]) < 5 {
		f := c.next(2 * time.Second)
		if f.T != wire.TRow {
			t.Fatalf("want rows, got %+v", f)
		}
		rows[1] = append(rows[1], f.N)
	}
	if n, err := srv["s1"].Migrate("s2", 0); err != nil || n != 1 {
		t.Fatalf("migrate: %d, %v", n, err)
	}
	req := c.rowsUntil(wire.TMigrate, rows)
	if req.State != wire.MigRequested || req.Target != srv["s2"].URL() || req.Mig == "" {
		t.Fatalf("migrate request %+v", req)
	}
	c.send(wire.Frame{T: wire.TMigReady, Mig: req.Mig})
	start := c.rowsUntil(wire.TMigrate, rows)
	if start.State != wire.MigMigrating || start.Mig != req.Mig || start.Target != srv["s2"].URL() {
		t.Fatalf("migrate start %+v", start)
	}
	c.quiet(30 * time.Millisecond) // rows are postponed
	// Sent just before the client saw MIGRATING: forwarded, not lost.
	c.send(wire.Frame{T: wire.TReq, Req: 2, Rows: 3})
	c.send(wire.Frame{T: wire.TSend, N: 2, Data: data(2)})
	c.send(wire.Frame{T: wire.TMigLeaving, Mig: req.Mig})
	waitEvent(t, log, kindOf(history.KindMigrationSeal))

	last := rows[1][len(rows[1])-1]
	consecutive(t, "source rows", rows[1], 1, last)
	c2 := dial(t, srv["s2"])
	c2.send(wire.Frame{T: wire.THello, Session: w.Session, Token: w.Token, Mig: req.Mig, Migration: true,
		Pending: map[string]int64{"1": last, "2": 0}})
	res := c2.next(3 * time.Second)
	if res.T != wire.TResumed {
		t.Fatalf("want resumed, got %+v\n%s", res, log.Events())
	}
	if res.Session != w.Session || res.Received != 2 || len(res.Reqs) != 2 || res.Reqs[0] != 1 || res.Reqs[1] != 2 {
		t.Fatalf("resumed %+v, want session %s, received 2, reqs [1 2]", res, w.Session)
	}
	after := map[int64][]int64{}
	done := map[int64]bool{}
	for len(done) < 2 {
		f := c2.next(3 * time.Second)
		switch f.T {
		case wire.TRow:
			if done[f.Req] {
				t.Fatalf("row %+v after its done", f)
			}
			after[f.Req] = append(after[f.Req], f.N)
		case wire.TDone:
			if f.Cancelled {
				t.Fatalf("done %+v cancelled", f)
			}
			done[f.Req] = true
		case wire.TAck:
		default:
			t.Fatalf("unexpected %+v", f)
		}
	}
	consecutive(t, "target rows of 1", after[1], last+1, 60)
	consecutive(t, "target rows of 2", after[2], 1, 3)
	if err := c.ended(2 * time.Second); err == nil {
		t.Fatal("the source must close its connection after the handoff")
	}
	h := log.Events()
	for _, k := range []func(history.Event) bool{
		func(e history.Event) bool {
			return e.Kind == history.KindMigration && e.Server == "s1" && e.Attr("state") == wire.MigRequested && e.Attr("target") == "s2"
		},
		func(e history.Event) bool { return e.Kind == history.KindMigration && e.Attr("state") == wire.MigReady },
		func(e history.Event) bool {
			return e.Kind == history.KindMigration && e.Attr("state") == wire.MigMigrating
		},
		func(e history.Event) bool {
			return e.Kind == history.KindMigrationForward && e.Attr("what") == wire.TReq
		},
		func(e history.Event) bool {
			return e.Kind == history.KindMigrationSeal && e.Attr("how") == "leaving" && e.Attr("forwarded") == "2"
		},
		func(e history.Event) bool {
			return e.Kind == history.KindMigrationResume && e.Server == "s2" && e.Session == w.Session && e.Attr("sealed") == "true"
		},
		func(e history.Event) bool { return e.Kind == history.KindMigrationHandoff && e.Server == "s1" },
		func(e history.Event) bool {
			return e.Kind == history.KindConnClose && e.Server == "s1" && e.Reason == wire.ReasonMigrated
		},
	} {
		if index(h, k) < 0 {
			t.Fatalf("missing event in\n%s", h)
		}
	}
	if n := count(h, func(e history.Event) bool {
		return e.Kind == history.KindReceive && e.Server == "s2" && e.Seq == 2 && e.Attr("forwarded") == "true"
	}); n != 1 {
		t.Fatalf("the forwarded send must be received once on s2, got %d\n%s", n, h)
	}
	if store.Len() != 0 {
		t.Fatal("the store must be empty after the handoff")
	}
}

func TestMigrationRefusedWithoutSupport(t *testing.T) {
	srv, log, _ := peers(t, Options{Ping: 500 * time.Millisecond}, "s1", "s2")
	c := dial(t, srv["s1"])
	c.create(0)
	if n, err := srv["s1"].Migrate("s2", 0); err != nil || n != 0 {
		t.Fatalf("migrate: %d %v, want 0 sessions asked", n, err)
	}
	c.quiet(50 * time.Millisecond)
	e := waitEvent(t, log, kindOf(history.KindMigration))
	if e.Attr("state") != wire.MigFailed || e.Reason != wire.ReasonCannotMigrate {
		t.Fatalf("want FAILED (%s), got %s", wire.ReasonCannotMigrate, e)
	}
}

func TestMigrationFailedGoesOnOnSource(t *testing.T) {
	srv, log, store := peers(t, Options{Ping: 500 * time.Millisecond}, "s1", "s2")
	srv["s1"].PaceRows(5 * time.Millisecond)
	c := dial(t, srv["s1"])
	c.send(migHello(wire.Frame{}))
	c.expect(wire.TWelcome)
	c.send(wire.Frame{T: wire.TReq, Req: 1, Rows: 400})
	rows := map[int64][]int64{}
	c.next(2 * time.Second)
	rows[1] = []int64{1}
	if _, err := srv["s1"].Migrate("s2", 0); err != nil {
		t.Fatal(err)
	}
	req := c.rowsUntil(wire.TMigrate, rows)
	c.send(wire.Frame{T: wire.TMigReady, Mig: req.Mig})
	c.rowsUntil(wire.TMigrate, rows)
	c.send(wire.Frame{T: wire.TAttn, Req: 1}) // crosses MIGRATING: forwarded
	c.send(wire.Frame{T: wire.TMigLeaving, Mig: req.Mig})
	c.send(wire.Frame{T: wire.TMigFailed, Mig: req.Mig, Reason: "target unreachable"})
	d := c.rowsUntil(wire.TDone, rows)
	if d.Req != 1 || !d.Cancelled {
		t.Fatalf("want done{1, cancelled}, got %+v", d)
	}
	c.quiet(50 * time.Millisecond)
	e := waitEvent(t, log, func(e history.Event) bool {
		return e.Kind == history.KindMigration && e.Attr("state") == wire.MigFailed
	})
	if e.Reason != "target unreachable" || e.Attr("forwarded") != "1" {
		t.Fatalf("FAILED event %s", e)
	}
	if store.Len() != 0 {
		t.Fatal("the source must have reclaimed the context")
	}
}

func TestMigrationCancelRetargetAndRefusals(t *testing.T) {
	srv, log, _ := peers(t, Options{Ping: 500 * time.Millisecond}, "s1", "s2", "s3")
	c := dial(t, srv["s1"])
	c.send(migHello(wire.Frame{}))
	c.expect(wire.TWelcome)
	if _, err := srv["s1"].Migrate("s2", 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	req := c.expect(wire.TMigrate)
	c.send(wire.Frame{T: wire.TMigReady, Mig: req.Mig})
	waitEvent(t, log, func(e history.Event) bool { return e.Kind == history.KindMigration && e.Attr("state") == wire.MigReady })
	if n := srv["s1"].CancelMigration(); n != 1 {
		t.Fatalf("cancel: %d", n)
	}
	if f := c.expect(wire.TMigrate); f.State != wire.MigCancelled || f.Mig != req.Mig {
		t.Fatalf("want CANCELLED, got %+v", f)
	}
	c.quiet(250 * time.Millisecond) // the hold timer must not start a cancelled migration

	if _, err := srv["s1"].Migrate("s2", 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	req = c.expect(wire.TMigrate)
	c.send(wire.Frame{T: wire.TMigReady, Mig: req.Mig})
	waitEvent(t, log, func(e history.Event) bool {
		return e.Kind == history.KindMigration && e.Attr("state") == wire.MigReady && e.Attr("mig") == req.Mig
	})
	if _, err := srv["s1"].Migrate("s3", 0); err != nil { // re-target after READY
		t.Fatal(err)
	}
	re := c.expect(wire.TMigrate)
	if re.State != wire.MigRequested || re.Mig != req.Mig || re.Target != srv["s3"].URL() {
		t.Fatalf("re-target %+v", re)
	}
	c.send(wire.Frame{T: wire.TMigReady, Mig: req.Mig})
	if f := c.expect(wire.TMigrate); f.State != wire.MigMigrating || f.Target != srv["s3"].URL() {
		t.Fatalf("want MIGRATING to s3, got %+v", f)
	}
	if n := srv["s1"].CancelMigration(); n != 0 {
		t.Fatalf("a started migration cannot be cancelled, got %d", n)
	}
	waitEvent(t, log, func(e history.Event) bool { return e.Kind == history.KindMigration && e.Reason == "cancel_refused" })
	// Without mig_leaving the grace seals it; the client's own hello to the
	// old target is refused.
	waitEvent(t, log, func(e history.Event) bool { return e.Kind == history.KindMigrationSeal && e.Attr("how") == "grace" })
}

func TestMigrationTargetRefusesWrongToken(t *testing.T) {
	srv, log, _ := peers(t, Options{Ping: 500 * time.Millisecond, MigrationGrace: 100 * time.Millisecond}, "s1", "s2")
	c := dial(t, srv["s1"])
	c.send(migHello(wire.Frame{}))
	w := c.expect(wire.TWelcome)
	if _, err := srv["s1"].Migrate("s2", 0); err != nil {
		t.Fatal(err)
	}
	req := c.expect(wire.TMigrate)
	c.send(wire.Frame{T: wire.TMigReady, Mig: req.Mig})
	c.expect(wire.TMigrate)
	bad := dial(t, srv["s2"])
	bad.send(wire.Frame{T: wire.THello, Session: w.Session, Token: "nope", Mig: req.Mig, Migration: true})
	if f := bad.expect(wire.TRefused); f.Reason != wire.ReasonUnknownSession {
		t.Fatalf("refused %+v", f)
	}
	// The client falls back: a resume on the source reclaims the session.
	c.drop()
	back := dial(t, srv["s1"])
	back.send(wire.Frame{T: wire.THello, Session: w.Session, Token: w.Token, Migration: true})
	back.expect(wire.TResumed)
	waitEvent(t, log, func(e history.Event) bool {
		return e.Kind == history.KindMigration && e.Attr("state") == wire.MigFailed && e.Reason == "resumed on the source"
	})
}
