package mutant

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// recorder is a sink that stamps what it gets.
type recorder struct {
	mu  sync.Mutex
	got []driver.Event
	at  []time.Time
}

func (r *recorder) sink(e driver.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, e)
	r.at = append(r.at, time.Now())
}

func (r *recorder) seqs() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for _, e := range r.got {
		out = append(out, e.Seq)
	}
	return out
}

func TestPipeKeepsOrderAndDelays(t *testing.T) {
	var r recorder
	p := &pipe{sink: r.sink}
	start := time.Now()
	p.emit(driver.Event{Seq: 1}, 0)
	p.emit(driver.Event{Seq: 2}, 60*time.Millisecond)
	p.emit(driver.Event{Seq: 3}, 0) // behind 2: must wait for it
	p.emit(driver.Event{Seq: 4}, 10*time.Millisecond)
	if got := r.seqs(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("an undelayed event with nothing held goes straight through; got %v", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(r.seqs()) < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.close()
	if got := r.seqs(); len(got) != 4 || got[1] != 2 || got[2] != 3 || got[3] != 4 {
		t.Fatalf("order: got %v, want [1 2 3 4]", got)
	}
	for i := 1; i < 4; i++ {
		if el := r.at[i].Sub(start); el < 60*time.Millisecond {
			t.Errorf("event %d delivered after %v, before the delay of the event ahead of it", r.got[i].Seq, el)
		}
	}
}

func TestPipeCloseFlushesHeldEvents(t *testing.T) {
	var r recorder
	p := &pipe{sink: r.sink}
	p.emit(driver.Event{Seq: 1}, time.Hour)
	p.close()
	if got := r.seqs(); len(got) != 1 {
		t.Fatalf("close must deliver what is held (late, not lost); got %v", got)
	}
	p.emit(driver.Event{Seq: 2}, time.Hour) // after close: straight through
	p.close()
	if got := r.seqs(); len(got) != 2 {
		t.Fatalf("got %v", got)
	}
}

// fake is an engine that reports what a test scripts and remembers its ops.
type fake struct {
	sink driver.Sink
	ops  []driver.Op
}

func (f *fake) Hello() driver.Hello { return driver.Hello{SDK: "fake"} }
func (f *fake) Do(_ context.Context, op driver.Op) (driver.Reply, error) {
	f.ops = append(f.ops, op)
	return driver.Reply{Re: op.ID, OK: true}, nil
}
func (f *fake) Close(context.Context) error { return nil }

func wrapFake(t *testing.T, name string, r *recorder) (*fake, driver.Driver) {
	t.Helper()
	m, ok := Lookup(name)
	if !ok {
		t.Fatalf("no mutation %s", name)
	}
	var f *fake
	d, err := Wrap(func(_ context.Context, sink driver.Sink) (driver.Driver, error) {
		f = &fake{sink: sink}
		return f, nil
	}, m)(context.Background(), r.sink)
	if err != nil {
		t.Fatal(err)
	}
	return f, d
}

func state(from, to string) driver.Event {
	return driver.Event{Type: driver.EvState, From: from, To: to}
}

func TestReviveAndFromMismatchRewriteTheLifecycle(t *testing.T) {
	var r recorder
	f, d := wrapFake(t, "revive", &r)
	f.sink(state("", driver.Connecting))
	f.sink(state(driver.Connecting, driver.ConnectedActive))
	f.sink(state(driver.ConnectedActive, driver.ClosedByClient))
	_ = d.Close(context.Background()) // flushes the revive
	if n := len(r.got); n != 4 || r.got[3].From != driver.ClosedByClient || r.got[3].To != driver.ConnectedActive {
		t.Fatalf("revive: got %+v", r.got)
	}
	if h := d.Hello().SDK; h != "fake~mutant:revive" {
		t.Errorf("hello should name the mutant: %q", h)
	}

	var r2 recorder
	f, d = wrapFake(t, "from_mismatch", &r2)
	f.sink(state(driver.Connecting, driver.ConnectedActive))
	f.sink(state(driver.ConnectedActive, driver.ClosedByClient))
	_ = d.Close(context.Background())
	if got := r2.got[1]; got.From != driver.RecoveringReconnect || got.To != driver.ClosedByClient {
		t.Fatalf("from_mismatch: got %+v", got)
	}
}

func TestNoJitterRewritesOptionsAndNeverConnectsSwallows(t *testing.T) {
	var r recorder
	f, d := wrapFake(t, "no_jitter", &r)
	co := driver.ConnectOptions{Reconnect: driver.ReconnectOptions{Enabled: true,
		Strategy: driver.StrategyOptions{Backoff: "fixed", InitialMS: 100, Jitter: 0.5}}}
	if _, err := d.Do(context.Background(), driver.Op{ID: 1, Op: driver.OpConnect, Options: co.Raw()}); err != nil {
		t.Fatal(err)
	}
	var seen driver.ConnectOptions
	if err := json.Unmarshal(f.ops[0].Options, &seen); err != nil {
		t.Fatal(err)
	}
	if seen.Reconnect.Strategy.Jitter != 0 || seen.Reconnect.Strategy.InitialMS != 100 {
		t.Fatalf("no_jitter: the engine saw %+v", seen.Reconnect.Strategy)
	}

	f, d = wrapFake(t, "never_connects", &r)
	rep, err := d.Do(context.Background(), driver.Op{ID: 7, Op: driver.OpConnect})
	if err != nil || !rep.OK || rep.Re != 7 || len(f.ops) != 0 {
		t.Fatalf("never_connects: reply %+v, %v; the engine saw %v", rep, err, f.ops)
	}
}
