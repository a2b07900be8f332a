package client

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/session/server"
	"github.com/faultline/faultline/wire"
)

// migWorld is two (or more) real fake session servers sharing a context
// store, and a recorder of rows, dones and migration events.
type migWorld struct {
	t   *testing.T
	srv map[string]*server.Server
	log *history.Log

	mu    sync.Mutex
	rows  map[int64][]int64
	dones map[int64][]bool // every done per request (cancelled flag)
	migs  []MigrationEvent
	ch    chan struct{}
}

func newMigWorld(t *testing.T, resolve map[string]string, names ...string) *migWorld {
	t.Helper()
	w := &migWorld{t: t, srv: map[string]*server.Server{}, log: history.NewLog(history.NewClock()),
		rows: map[int64][]int64{}, dones: map[int64][]bool{}, ch: make(chan struct{}, 1)}
	store := fakeserver.NewMemoryStore()
	for _, n := range names {
		s, err := server.Start(n, w.log, server.Options{Ping: 500 * time.Millisecond, MigrationGrace: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		s.PaceRows(2 * time.Millisecond)
		w.srv[n] = s
	}
	res := func(name string) (string, bool) {
		if u, ok := resolve[name]; ok {
			return u, true
		}
		s, ok := w.srv[name]
		if !ok {
			return "", false
		}
		return s.URL(), true
	}
	for _, s := range w.srv {
		s.SetPeers(fakeserver.Peers{Store: store, Resolve: res})
	}
	return w
}

func (w *migWorld) poke() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

func (w *migWorld) options(r *recorder, server string) Options {
	o := DefaultOptions()
	o.Servers = []string{w.srv[server].URL()}
	o.ConnectTimeout = time.Second
	o.MigrationTimeout = 500 * time.Millisecond
	o = r.into(o)
	o.OnRow = func(req, n int64) {
		w.mu.Lock()
		w.rows[req] = append(w.rows[req], n)
		w.mu.Unlock()
		w.poke()
	}
	o.OnDone = func(req int64, cancelled bool) {
		w.mu.Lock()
		w.dones[req] = append(w.dones[req], cancelled)
		w.mu.Unlock()
		w.poke()
	}
	o.OnMigration = func(e MigrationEvent) {
		w.mu.Lock()
		w.migs = append(w.migs, e)
		w.mu.Unlock()
		w.poke()
	}
	return o
}

// until waits (bounded) for cond on the recorded callbacks.
func (w *migWorld) until(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		w.mu.Lock()
		ok := cond()
		w.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-w.ch:
		case <-tick.C:
		case <-deadline.C:
			w.t.Fatalf("timed out waiting for %s; migrations %+v; history:\n%s", what, w.migs, w.log.Events())
		}
	}
}

func (w *migWorld) states() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, m := range w.migs {
		out = append(out, m.State)
	}
	return out
}

func (w *migWorld) wantRows(req, total int64) {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	got := w.rows[req]
	if int64(len(got)) != total {
		w.t.Fatalf("request %d: %d rows, want %d: %v", req, len(got), total, got)
	}
	for i, n := range got {
		if n != int64(i)+1 {
			w.t.Fatalf("request %d: rows out of order or duplicated at %d: %v", req, i, got)
		}
	}
	if d := w.dones[req]; len(d) != 1 || d[0] {
		w.t.Fatalf("request %d: dones %v, want one, not cancelled", req, d)
	}
}

func (w *migWorld) count(kind, server string) int {
	return len(w.log.Events().Filter(func(e history.Event) bool { return e.Kind == kind && e.Server == server }))
}

func TestMigrationMovesSessionMidStream(t *testing.T) {
	w := newMigWorld(t, nil, "s1", "s2")
	r := newRecorder(t)
	s := connect(t, w.options(r, "s1"))
	id := s.ID()
	ctx := context.Background()
	if err := s.Request(ctx, 1, 300); err != nil {
		t.Fatal(err)
	}
	w.until("some rows", func() bool { return len(w.rows[1]) >= 20 })
	if _, err := w.srv["s1"].Migrate("s2", 150*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	w.until("READY", func() bool { return len(w.migs) >= 2 })
	// Issued during the migration: held, delivered after the resume.
	if err := s.Send(ctx, []byte(`"held"`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Request(ctx, 2, 5); err != nil {
		t.Fatal(err)
	}
	w.until("both done", func() bool { return len(w.dones[1]) > 0 && len(w.dones[2]) > 0 })
	w.wantRows(1, 300)
	w.wantRows(2, 5)
	if got := w.states(); !slices.Equal(got, []string{MigrationRequested, MigrationReady, MigrationMigrating, MigrationResumed}) {
		t.Fatalf("migration states %v", got)
	}
	if s.ID() != id || s.State() != ConnectedActive {
		t.Fatalf("session %s %s after the move, want %s CONNECTED_ACTIVE", s.ID(), s.State(), id)
	}
	time.Sleep(100 * time.Millisecond) // the source's close must change nothing
	wantStates(t, r, Connecting, ConnectedActive)
	h := w.log.Events()
	recv := h.Filter(func(e history.Event) bool { return e.Kind == history.KindReceive })
	if len(recv) != 1 || recv[0].Server != "s2" || recv[0].Seq != 1 {
		t.Fatalf("the held send must reach s2 once: %v", recv)
	}
	if w.count(history.KindRequest, "s2") != 1 || w.count(history.KindRequest, "s1") != 1 {
		t.Fatalf("request 1 on s1, the held request 2 on s2:\n%s", h)
	}
	if w.count(history.KindMigrationResume, "s2") != 1 || w.count(history.KindAccept, "s1") != 1 {
		t.Fatalf("one resume on s2 and no second connection to s1:\n%s", h)
	}
}

func TestMigrationTargetUnreachableStaysOnSource(t *testing.T) {
	w := newMigWorld(t, map[string]string{"gone": "ws://127.0.0.1:1/"}, "s1")
	r := newRecorder(t)
	s := connect(t, w.options(r, "s1"))
	ctx := context.Background()
	if err := s.Request(ctx, 1, 200); err != nil {
		t.Fatal(err)
	}
	w.until("some rows", func() bool { return len(w.rows[1]) >= 10 })
	if _, err := w.srv["s1"].Migrate("gone", 0); err != nil {
		t.Fatal(err)
	}
	w.until("FAILED", func() bool { return len(w.migs) > 0 && w.migs[len(w.migs)-1].State == MigrationFailed })
	if err := s.Request(ctx, 2, 3); err != nil {
		t.Fatal(err)
	}
	w.until("both done", func() bool { return len(w.dones[1]) > 0 && len(w.dones[2]) > 0 })
	w.wantRows(1, 200)
	w.wantRows(2, 3)
	wantStates(t, r, Connecting, ConnectedActive)
	if got := w.states(); !slices.Equal(got, []string{MigrationRequested, MigrationReady, MigrationMigrating, MigrationFailed}) {
		t.Fatalf("migration states %v", got)
	}
	if w.count(history.KindAccept, "s1") != 1 {
		t.Fatalf("the session must stay on its connection to s1:\n%s", w.log.Events())
	}
}

func TestMigrationCancelDuringMove(t *testing.T) {
	// The target is slow to be reached only in the sense that the cancel is
	// issued while MIGRATING: it is held and sent to the target.
	w := newMigWorld(t, nil, "s1", "s2")
	r := newRecorder(t)
	s := connect(t, w.options(r, "s1"))
	ctx := context.Background()
	if err := s.Request(ctx, 1, 1000); err != nil {
		t.Fatal(err)
	}
	w.until("some rows", func() bool { return len(w.rows[1]) >= 10 })
	if _, err := w.srv["s1"].Migrate("s2", 0); err != nil {
		t.Fatal(err)
	}
	w.until("MIGRATING", func() bool { return len(w.migs) >= 3 })
	if err := s.Cancel(ctx, 1); err != nil {
		t.Fatal(err)
	}
	w.until("done", func() bool { return len(w.dones[1]) > 0 })
	time.Sleep(50 * time.Millisecond)
	w.mu.Lock()
	defer w.mu.Unlock()
	if d := w.dones[1]; len(d) != 1 || !d[0] {
		t.Fatalf("dones %v, want one cancelled", d)
	}
	got := w.rows[1]
	for i, n := range got {
		if n != int64(i)+1 {
			t.Fatalf("rows %v", got)
		}
	}
	if len(got) >= 1000 {
		t.Fatal("the cancel must stop the request")
	}
}

func TestMigrationOffIsRefused(t *testing.T) {
	w := newMigWorld(t, nil, "s1", "s2")
	r := newRecorder(t)
	o := w.options(r, "s1")
	o.Migration = false
	s := connect(t, o)
	if _, err := w.srv["s1"].Migrate("s2", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Request(context.Background(), 1, 5); err != nil {
		t.Fatal(err)
	}
	w.until("done", func() bool { return len(w.dones[1]) > 0 })
	w.wantRows(1, 5)
	if len(w.states()) != 0 {
		t.Fatalf("no migration must reach the client: %v", w.states())
	}
	e := w.log.Events().Filter(func(e history.Event) bool { return e.Kind == history.KindMigration })
	if len(e) != 1 || e[0].Attr("state") != wire.MigFailed || e[0].Reason != wire.ReasonCannotMigrate {
		t.Fatalf("want one FAILED (%s): %v", wire.ReasonCannotMigrate, e)
	}
}
