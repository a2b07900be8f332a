package control

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

// The store across processes keeps MemoryStore's contract whichever side is
// remote: a remote source learns of the handoff, a remote target waits for
// the seal, a reclaim releases the source's poll, and "nothing to take" is
// ErrNoContext on both sides.
func TestRemoteStoreKeepsTheContract(t *testing.T) {
	h, c := host(t, ServerConfig{Name: "s1"})
	local := h.stores.get("run-a") // what the host's own servers use
	remote := NewRemoteStore(c.URL(), "run-a", "s2", history.Nop{})
	defer remote.Close()
	ctx := tctx(t)

	// A remote source, a local target.
	var taken atomic.Int32
	sc := fakeserver.SessionContext{Session: "A", Token: "t", Mig: "m1", From: "s2", Target: "s1", Topics: []string{"x"}}
	if err := remote.Put(sc, func() { taken.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if !remote.Forward("A", "m1", wire.Frame{T: wire.TSend, N: 7}) {
		t.Fatal("forward refused")
	}
	if n, ok := remote.Seal("A", "m1"); !ok || n != 1 {
		t.Fatalf("seal: %d %v", n, ok)
	}
	got, sealed, handoff, err := local.Take(ctx, "A", "t", "m1", "s1")
	if err != nil || !sealed || len(got.Late) != 1 || got.Late[0].N != 7 || got.Topics[0] != "x" {
		t.Fatalf("take: %+v %v %v", got, sealed, err)
	}
	handoff()
	waitFor(t, func() bool { return taken.Load() == 1 }, "the remote source learns of the handoff")

	// A local source, a remote target that waits for the seal.
	var handed atomic.Int32
	if err := local.Put(fakeserver.SessionContext{Session: "B", Token: "t", Mig: "m2", Target: "s2"}, func() { handed.Add(1) }); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, func() { local.Seal("B", "m2") })
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	start := time.Now()
	_, sealed, handoff, err = remote.Take(wctx, "B", "t", "m2", "s2")
	cancel()
	if err != nil || !sealed || time.Since(start) < 90*time.Millisecond {
		t.Fatalf("remote take: sealed %v after %v: %v", sealed, time.Since(start), err)
	}
	handoff()
	waitFor(t, func() bool { return handed.Load() == 1 }, "the local source learns of the remote target's handoff")

	// Nothing (left) to take: ErrNoContext, as in process.
	if _, _, _, err := remote.Take(ctx, "B", "t", "m2", "s2"); !errors.Is(err, fakeserver.ErrNoContext) {
		t.Errorf("taken twice: %v", err)
	}

	// A reclaim ends the remote source's poll without a handoff.
	if err := remote.Put(fakeserver.SessionContext{Session: "C", Token: "t", Mig: "m3", Target: "s1"}, func() { taken.Add(100) }); err != nil {
		t.Fatal(err)
	}
	if _, ok := remote.Reclaim("C", "m3"); !ok {
		t.Fatal("reclaim refused")
	}
	done := make(chan struct{})
	go func() { remote.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the poll of a reclaimed context did not end")
	}
	if taken.Load() != 1 {
		t.Errorf("onTaken ran for a reclaimed context")
	}
}

// A store host that is gone is evidence, not silence: the server using it
// records why, and Put fails (the migration is then aborted, intact).
func TestRemoteStoreRecordsAnUnreachableHost(t *testing.T) {
	rec := &recorder{}
	r := NewRemoteStore("127.0.0.1:1", "run-x", "s2", rec)
	defer r.Close()
	if err := r.Put(fakeserver.SessionContext{Session: "A", Mig: "m", Target: "s1"}, nil); err == nil {
		t.Fatal("put to nowhere succeeded")
	}
	if len(rec.evs) != 1 || rec.evs[0].Kind != history.KindError || rec.evs[0].Server != "s2" {
		t.Errorf("recorded %+v", rec.evs)
	}
}

type recorder struct{ evs []history.Event }

func (r *recorder) Record(e history.Event) { r.evs = append(r.evs, e) }

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal(what + ": not within 3s")
}
