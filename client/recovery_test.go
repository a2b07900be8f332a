package client

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/wire"
)

// manual is a strategy the test drives: it hands each attempt to the test.
type manual struct {
	ch     chan Attempt
	resets atomic.Int32
}

func newManual() *manual                        { return &manual{ch: make(chan Attempt, 64)} }
func (m *manual) PerformReconnection(a Attempt) { m.ch <- a }
func (m *manual) Reset()                        { m.resets.Add(1) }

func (m *manual) next(t *testing.T) Attempt {
	t.Helper()
	select {
	case a := <-m.ch:
		return a
	case <-time.After(2 * time.Second):
		t.Fatal("the strategy was not asked for an attempt")
		return nil
	}
}

// R1 + R3: a blackhole is detected within the liveness bound, and the
// reconnect resumes the same session.
func TestLivenessLossThenResume(t *testing.T) {
	f := newFake(t, 40) // liveness = 2 × 40ms
	r := newRecorder(t)
	o := opts(f, r)
	o.Strategy = &Backoff{Initial: 10 * ms}
	s := connect(t, o)
	time.Sleep(100 * ms) // a few pings flow: they keep it alive
	if s.State() != ConnectedActive {
		t.Fatalf("pings did not keep the session alive: %v", r.seq())
	}
	t0 := time.Now()
	f.last().hole.Store(true)
	sc := r.wait(RecoveringReconnect, 1, time.Second)
	if el := sc.at.Sub(t0); el > 80*ms+60*ms {
		t.Fatalf("idle loss seen after %v, bound 80ms", el)
	}
	if sc.Server != f.url || sc.Session != "sess-1" {
		t.Fatalf("recovering change %+v", sc)
	}
	r.wait(ConnectedActive, 2, 2*time.Second)
	wantStates(t, r, Connecting, ConnectedActive, RecoveringReconnect, ConnectedActive)
	h := f.hello(1)
	if h.Session != "sess-1" || h.Token != "tok-1" || s.ID() != "sess-1" {
		t.Fatalf("resume hello %+v, id %q", h, s.ID())
	}
	s.Close()
	wantStates(t, r, Connecting, ConnectedActive, RecoveringReconnect, ConnectedActive, ClosedByClient)
}

// R3 client → server: what the server had not received is resent from the
// recovery buffer, once, in order, including sends made while recovering.
func TestSendsResentAfterResume(t *testing.T) {
	f := newFake(t, 0)
	f.dropFrom = 3 // sends 3.. are lost in flight
	r := newRecorder(t)
	m := newManual()
	o := opts(f, r)
	o.Strategy = m
	s := connect(t, o)
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		if err := s.Send(ctx, json.RawMessage(`{"n":true}`)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, time.Second, "sends 1-2 received", func() bool { got, _, _ := f.snapshot(); return len(got) == 2 })
	f.mu.Lock()
	f.dropFrom = 0
	f.mu.Unlock()
	f.dropAll()
	a := m.next(t)
	if err := s.Send(ctx, json.RawMessage(`6`)); err != nil { // queued while recovering
		t.Fatal(err)
	}
	if err := s.Subscribe(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	a.Start()
	r.wait(ConnectedActive, 2, 2*time.Second)
	eventually(t, time.Second, "resent sends", func() bool { got, _, _ := f.snapshot(); return len(got) == 6 })
	time.Sleep(50 * ms)
	got, subs, _ := f.snapshot()
	if !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("server received %v", got)
	}
	if !slices.Equal(subs, []string{"late"}) {
		t.Fatalf("subs %v", subs)
	}
	if m.resets.Load() != 1 {
		t.Fatalf("strategy reset %d times after one success, want 1", m.resets.Load())
	}
}

// R3 server → client: replayed duplicates are dropped; the hello names the
// last seq per topic; subscriptions are not re-sent on resume.
func TestReplayDuplicatesDropped(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	o := opts(f, r)
	o.Strategy = &Backoff{Initial: 5 * ms}
	s := connect(t, o)
	if err := s.Subscribe(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	for seq := int64(1); seq <= 3; seq++ {
		f.last().write(wire.Frame{T: wire.TMsg, Topic: "a", Seq: seq})
	}
	eventually(t, time.Second, "3 messages", func() bool { return len(r.messages()) == 3 })
	eventually(t, time.Second, "the subscription", func() bool { _, subs, _ := f.snapshot(); return len(subs) == 1 })
	var replay []wire.Frame
	for seq := int64(2); seq <= 5; seq++ {
		replay = append(replay, wire.Frame{T: wire.TMsg, Topic: "a", Seq: seq})
	}
	f.setAnswer(func(int, wire.Frame) reply { return reply{kind: "resumed", received: -1, replay: replay} })
	f.dropAll()
	r.wait(ConnectedActive, 2, 2*time.Second)
	eventually(t, time.Second, "5 messages", func() bool { return len(r.messages()) >= 5 })
	time.Sleep(50 * ms)
	var seqs []int64
	for _, m := range r.messages() {
		seqs = append(seqs, m.seq)
	}
	if !slices.Equal(seqs, []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("delivered %v", seqs)
	}
	if h := f.hello(1); h.Last["a"] != 3 {
		t.Fatalf("resume hello last %v", h.Last)
	}
	if _, subs, _ := f.snapshot(); len(subs) != 1 {
		t.Fatalf("subscriptions re-sent on resume: %v", subs)
	}
}

// R2: attempts, as the server sees them, follow the back-off schedule.
func TestAttemptScheduleSeenByServer(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	b := &Backoff{Initial: 40 * ms, Multiplier: 2, Max: 250 * ms}
	o := opts(f, r)
	o.Strategy = b
	connect(t, o)
	f.setAnswer(func(int, wire.Frame) reply { return reply{kind: "hangup"} })
	t0 := time.Now()
	f.dropAll()
	const attempts = 5
	eventually(t, 5*time.Second, "5 attempts", func() bool { return f.dialCount() >= 1+attempts })
	dials := f.dialTimes()
	prev := t0
	for n := range attempts {
		got, want := dials[1+n].Sub(prev), b.Delay(n)
		// A timer never fires early; late by at most the failure's detection,
		// one dial and scheduling noise on a busy 2-core machine.
		if got < want-2*ms || got > want+40*ms+want/4 {
			t.Errorf("attempt %d came %v after the previous event, want %v", n, got, want)
		}
		prev = dials[1+n]
	}
}

// R5: one overall timer from the first loss; then closed, no more dials.
func TestOverallTimeout(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	o := opts(f, r)
	o.ReconnectTimeout = 300 * ms
	o.Strategy = &Backoff{Initial: 50 * ms, Fixed: true}
	s := connect(t, o)
	f.setAnswer(func(int, wire.Frame) reply { return reply{kind: "hangup"} })
	f.dropAll()
	rec := r.wait(RecoveringReconnect, 1, time.Second)
	sc := r.wait(ClosedFailed, 1, 2*time.Second)
	if sc.Reason != ReasonReconnectTimeout {
		t.Fatalf("reason %q", sc.Reason)
	}
	if el := sc.at.Sub(rec.at); el < 300*ms-5*ms || el > 300*ms+100*ms {
		t.Fatalf("closed %v after the loss, timeout 300ms", el)
	}
	<-s.Done()
	n := f.dialCount()
	if n < 3 {
		t.Fatalf("only %d dials: the strategy was not retried", n)
	}
	time.Sleep(200 * ms)
	if f.dialCount() != n {
		t.Fatal("dials after the reconnection timeout")
	}
}

// R5: an attempt in flight is cut by the overall deadline, not its own.
func TestTimeoutCancelsAttemptInFlight(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	o := opts(f, r)
	o.ConnectTimeout = 3 * time.Second
	o.ReconnectTimeout = 200 * ms
	o.Strategy = &Backoff{Initial: 0}
	connect(t, o)
	f.setAnswer(func(int, wire.Frame) reply { return reply{kind: "silent"} })
	f.dropAll()
	rec := r.wait(RecoveringReconnect, 1, time.Second)
	sc := r.wait(ClosedFailed, 1, 2*time.Second)
	if el := sc.at.Sub(rec.at); sc.Reason != ReasonReconnectTimeout || el > 200*ms+100*ms {
		t.Fatalf("%q after %v", sc.Reason, el)
	}
	if f.dialCount() != 2 {
		t.Fatalf("%d dials, want the initial and one silent attempt", f.dialCount())
	}
}

// A Start called after the timeout is ignored.
func TestLateStartIgnored(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	m := newManual()
	o := opts(f, r)
	o.Strategy = m
	o.ReconnectTimeout = 100 * ms
	s := connect(t, o)
	f.dropAll()
	a := m.next(t)
	if sc := r.wait(ClosedFailed, 1, time.Second); sc.Reason != ReasonReconnectTimeout {
		t.Fatalf("reason %q", sc.Reason)
	}
	a.Start()
	a.Abort()
	<-s.Done()
	time.Sleep(50 * ms)
	if f.dialCount() != 1 {
		t.Fatal("a late Start dialled")
	}
}

// Only the first of Start and Abort counts.
func TestStartThenAbortStarts(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	m := newManual()
	o := opts(f, r)
	o.Strategy = m
	connect(t, o)
	f.dropAll()
	a := m.next(t)
	a.Start()
	a.Abort()
	a.Start()
	r.wait(ConnectedActive, 2, 2*time.Second)
	time.Sleep(50 * ms)
	if f.dialCount() != 2 {
		t.Fatalf("%d dials, want 2", f.dialCount())
	}
	wantStates(t, r, Connecting, ConnectedActive, RecoveringReconnect, ConnectedActive)
}

// R2: a strategy that aborts closes the session (MaxAttempts).
func TestAbortAfterMaxAttempts(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	o := opts(f, r)
	o.Strategy = &Backoff{Initial: 10 * ms, MaxAttempts: 3}
	s := connect(t, o)
	f.setAnswer(func(int, wire.Frame) reply { return reply{kind: "hangup"} })
	f.dropAll()
	if sc := r.wait(ClosedFailed, 1, 2*time.Second); sc.Reason != ReasonReconnectAborted {
		t.Fatalf("reason %q", sc.Reason)
	}
	<-s.Done()
	if n := f.dialCount(); n != 1+3 {
		t.Fatalf("%d dials, want 1 + 3 attempts", n)
	}
}

// R6: a resume refused as unknown closes the session, no more attempts.
func TestUnknownSessionCloses(t *testing.T) {
	for _, reason := range []string{ReasonUnknownSession, ReasonLostMessages} {
		t.Run(reason, func(t *testing.T) {
			f := newFake(t, 0)
			r := newRecorder(t)
			o := opts(f, r)
			o.Strategy = &Backoff{Initial: 5 * ms}
			s := connect(t, o)
			f.setAnswer(func(int, wire.Frame) reply { return reply{kind: "refused", reason: reason} })
			f.dropAll()
			if sc := r.wait(ClosedFailed, 1, 2*time.Second); sc.Reason != reason {
				t.Fatalf("reason %q", sc.Reason)
			}
			<-s.Done()
			time.Sleep(50 * ms)
			if f.dialCount() != 2 {
				t.Fatalf("%d dials, want 2", f.dialCount())
			}
		})
	}
}

// R3: when the recovery buffer cannot cover what the server lacks, close
// with lost_messages rather than resume with a hole.
func TestResumeBeyondBufferIsLostMessages(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	m := newManual()
	o := opts(f, r)
	o.Strategy = m
	s := connect(t, o)
	for range 3 {
		if err := s.Send(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, time.Second, "3 received", func() bool { got, _, _ := f.snapshot(); return len(got) == 3 })
	time.Sleep(30 * ms) // acks arrive: the buffer is empty
	f.setAnswer(func(int, wire.Frame) reply { return reply{kind: "resumed", received: 1} })
	f.dropAll()
	m.next(t).Start()
	if sc := r.wait(ClosedFailed, 1, 2*time.Second); sc.Reason != ReasonLostMessages {
		t.Fatalf("reason %q", sc.Reason)
	}
	<-s.Done()
}

// R9: after a success the Backoff starts again from its first delay.
func TestBackoffResetAfterSuccess(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	o := opts(f, r)
	o.Strategy = &Backoff{Initial: 30 * ms, Multiplier: 4}
	connect(t, o)
	// First outage: two hung-up attempts (30ms, 120ms), then resumed (480ms).
	f.setAnswer(func(i int, h wire.Frame) reply {
		if i == 1 || i == 2 {
			return reply{kind: "hangup"}
		}
		return reply{kind: "resumed", received: -1}
	})
	f.dropAll()
	r.wait(ConnectedActive, 2, 3*time.Second)
	// Second outage: the first attempt comes after 30ms again, not 1920ms.
	t0 := time.Now()
	f.dropAll()
	r.wait(ConnectedActive, 3, 2*time.Second)
	dials := f.dialTimes()
	if el := dials[len(dials)-1].Sub(t0); el > 30*ms+80*ms {
		t.Fatalf("first attempt after the second loss came %v later, want ≈30ms", el)
	}
}

func TestCloseWhileRecovering(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	m := newManual()
	o := opts(f, r)
	o.Strategy = m
	s := connect(t, o)
	f.dropAll()
	a := m.next(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	a.Start()
	wantStates(t, r, Connecting, ConnectedActive, RecoveringReconnect, ClosedByClient)
	time.Sleep(50 * ms)
	if f.dialCount() != 1 {
		t.Fatal("dialled after Close")
	}
}
