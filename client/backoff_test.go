package client

import (
	"math"
	"math/rand"
	"sync"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestBackoffDelay(t *testing.T) {
	b := &Backoff{Initial: 100 * ms, Multiplier: 2, Max: time.Second}
	want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}
	for n, w := range want {
		if got := b.Delay(n); got != w {
			t.Errorf("Delay(%d) = %v, want %v", n, got, w)
		}
	}
	if got := (&Backoff{Initial: 10 * ms}).Delay(3); got != 80*ms {
		t.Errorf("multiplier 0 means 2: Delay(3) = %v", got)
	}
	if got := (&Backoff{Initial: 10 * ms, Multiplier: 3, Fixed: true}).Delay(5); got != 10*ms {
		t.Errorf("fixed: Delay(5) = %v", got)
	}
	if got := (&Backoff{Initial: time.Second}).Delay(10000); got != math.MaxInt64 {
		t.Errorf("no max, huge n: %v", got)
	}
	if got := (&Backoff{Initial: time.Second, Max: time.Minute}).Delay(10000); got != time.Minute {
		t.Errorf("huge n capped: %v", got)
	}
}

// fakeAttempt records what a strategy decided and when.
type fakeAttempt struct {
	mu      sync.Mutex
	started bool
	aborted bool
	at      time.Time
	done    chan struct{}
}

func newFakeAttempt() *fakeAttempt { return &fakeAttempt{done: make(chan struct{})} }

func (a *fakeAttempt) Start() { a.decide(func() { a.started = true }) }
func (a *fakeAttempt) Abort() { a.decide(func() { a.aborted = true }) }
func (a *fakeAttempt) decide(f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f()
	a.at = time.Now()
	close(a.done)
}

func TestBackoffSchedulesAndAborts(t *testing.T) {
	b := &Backoff{Initial: 20 * ms, Multiplier: 2, MaxAttempts: 3}
	for n := range 3 {
		a := newFakeAttempt()
		t0 := time.Now()
		b.PerformReconnection(a)
		select {
		case <-a.done:
		case <-time.After(time.Second):
			t.Fatalf("attempt %d never decided", n)
		}
		if !a.started {
			t.Fatalf("attempt %d aborted, want start", n)
		}
		if el, d := a.at.Sub(t0), b.Delay(n); el < d || el > d+100*ms {
			t.Errorf("attempt %d started after %v, want %v", n, el, d)
		}
	}
	a := newFakeAttempt()
	b.PerformReconnection(a)
	<-a.done
	if !a.aborted {
		t.Fatal("after MaxAttempts the strategy must abort")
	}
	// Reset (R9): back to the first delay, and attempts count again.
	b.Reset()
	a = newFakeAttempt()
	t0 := time.Now()
	b.PerformReconnection(a)
	<-a.done
	if !a.started || a.at.Sub(t0) > 20*ms+100*ms {
		t.Fatalf("after Reset: started=%v after %v", a.started, a.at.Sub(t0))
	}
}

func TestBackoffJitterBounds(t *testing.T) {
	b := &Backoff{Initial: 100 * ms, Multiplier: 2, Max: 400 * ms, Jitter: 0.3, Rand: rand.New(rand.NewSource(1))}
	lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
	for range 2000 {
		d := b.jittered(b.Delay(1))
		lo, hi = min(lo, d), max(hi, d)
		if d < 140*ms || d > 200*ms {
			t.Fatalf("jittered delay %v outside [140ms, 200ms]", d)
		}
	}
	if hi-lo < 50*ms { // the factor really spreads over [0.7, 1]
		t.Fatalf("jitter spread only %v..%v", lo, hi)
	}
	// Seeded: the same seed gives the same delays.
	c1 := &Backoff{Initial: 100 * ms, Jitter: 1, Rand: rand.New(rand.NewSource(7))}
	c2 := &Backoff{Initial: 100 * ms, Jitter: 1, Rand: rand.New(rand.NewSource(7))}
	for range 10 {
		if c1.jittered(c1.Delay(0)) != c2.jittered(c2.Delay(0)) {
			t.Fatal("seeded jitter is not reproducible")
		}
	}
}

func TestBackoffValidateAndClone(t *testing.T) {
	for _, b := range []*Backoff{{Initial: -1}, {Multiplier: 0.5}, {Jitter: 1.5}, {MaxAttempts: -1}} {
		if b.validate() == nil {
			t.Errorf("%+v should be invalid", b)
		}
	}
	orig := &Backoff{Initial: ms, Rand: rand.New(rand.NewSource(1))}
	orig.n = 5
	c := orig.clone().(*Backoff)
	if c == orig || c.n != 0 || c.Rand == orig.Rand || c.Initial != ms {
		t.Fatalf("clone must be independent and fresh: %+v", c)
	}
}

func TestBackoffTimerStoppedWhenVoid(t *testing.T) {
	b := &Backoff{Initial: 50 * ms}
	a := newAttempt(newQueue[event]())
	b.PerformReconnection(a)
	a.kill()
	time.Sleep(100 * ms)
	if a.decided.Load() {
		t.Fatal("a voided attempt's timer still fired")
	}
}
