package client

import (
	"errors"
	"math"
	"math/rand"
	"sync"
	"time"
)

// Backoff is the built-in strategy. Delay n (0-based, counted since the last
// Reset) is min(Initial·Multiplier^n, Max), or Initial when Fixed; the first
// attempt after a loss waits delay 0, as in Diffusion's JavaScript example.
// Jitter J scales each delay by a uniform factor in [1-J, 1]. After
// MaxAttempts attempts (0: unlimited) the next call aborts. Use it through a
// pointer; Connect gives each session its own copy.
type Backoff struct {
	Initial     time.Duration
	Multiplier  float64 // 0 means 2
	Max         time.Duration
	MaxAttempts int
	Jitter      float64
	Fixed       bool
	Rand        *rand.Rand // optional, seeded for reproducible jitter

	mu sync.Mutex
	n  int // attempts since the last Reset
}

// Delay is the n-th delay (0-based) without jitter.
func (b *Backoff) Delay(n int) time.Duration {
	d := float64(b.Initial)
	if !b.Fixed && n > 0 {
		m := b.Multiplier
		if m == 0 {
			m = 2
		}
		d *= math.Pow(m, float64(n))
	}
	if b.Max > 0 && d > float64(b.Max) {
		d = float64(b.Max)
	}
	if d >= math.MaxInt64 { // +Inf too, when there is no Max
		return math.MaxInt64
	}
	return time.Duration(d)
}

// jittered scales d by a factor in [1-Jitter, 1]; b.mu is held.
func (b *Backoff) jittered(d time.Duration) time.Duration {
	if b.Jitter <= 0 {
		return d
	}
	u := rand.Float64
	if b.Rand != nil {
		u = b.Rand.Float64
	}
	return time.Duration(float64(d) * (1 - b.Jitter*u()))
}

// PerformReconnection schedules a.Start after the next delay, or aborts once
// MaxAttempts attempts have been made.
func (b *Backoff) PerformReconnection(a Attempt) {
	b.mu.Lock()
	if b.MaxAttempts > 0 && b.n >= b.MaxAttempts {
		b.mu.Unlock()
		a.Abort()
		return
	}
	d := b.jittered(b.Delay(b.n))
	b.n++
	b.mu.Unlock()
	t := time.AfterFunc(d, a.Start)
	// Our own attempts say when they are void, so a pending timer does not
	// outlive the session.
	if c, ok := a.(interface{ onVoid(func()) }); ok {
		c.onVoid(func() { t.Stop() })
	}
}

// Reset starts the schedule again from delay 0.
func (b *Backoff) Reset() {
	b.mu.Lock()
	b.n = 0
	b.mu.Unlock()
}

func (b *Backoff) validate() error {
	switch {
	case b.Initial < 0 || b.Max < 0 || b.MaxAttempts < 0:
		return errors.New("backoff: negative value")
	case b.Multiplier != 0 && b.Multiplier < 1:
		return errors.New("backoff: multiplier below 1")
	case b.Jitter < 0 || b.Jitter > 1:
		return errors.New("backoff: jitter outside [0, 1]")
	}
	return nil
}

// clone gives a session its own schedule; a seeded Rand is forked from the
// original so sessions never share one (rand.Rand is not goroutine-safe).
func (b *Backoff) clone() Strategy {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := &Backoff{Initial: b.Initial, Multiplier: b.Multiplier, Max: b.Max,
		MaxAttempts: b.MaxAttempts, Jitter: b.Jitter, Fixed: b.Fixed}
	if b.Rand != nil {
		c.Rand = rand.New(rand.NewSource(b.Rand.Int63()))
	}
	return c
}
