package driver

import (
	"context"
	"sync"
)

// A factory numbers its drivers 1, 2, … in the order of the run's clients,
// and each driver's random stream (shuffles, jitter) derives from its number,
// so that a seed reproduces a run. The runner starts a scenario's drivers
// concurrently: the number must then come from the client's place in the
// run, not from the order in which the starts happen to reach the factory.

// Batch is the drivers of one scenario run, started together: one per client.
type Batch struct{ n int }

// NewBatch is a batch of n drivers.
func NewBatch(n int) *Batch { return &Batch{n: n} }

type slotKey struct{}

type slot struct {
	batch *Batch
	index int
}

// WithSlot tells the factory that the driver it starts under ctx is client
// index (from 0) of batch.
func WithSlot(ctx context.Context, b *Batch, index int) context.Context {
	return context.WithValue(ctx, slotKey{}, slot{batch: b, index: index})
}

// Numbers hands out a factory's driver numbers. The zero value is ready.
type Numbers struct {
	mu    sync.Mutex
	next  int64            // numbers given or reserved so far
	bases map[*Batch]int64 // each batch's first number − 1, until all its numbers are given
	given map[*Batch]int
}

// Next is the number of the driver started under ctx: with a slot, the
// batch's numbers are reserved as one block when the first of its drivers
// asks (a batch is started after the previous one ended, as scenarios run
// one after another), and client i gets block+i+1, whatever order the starts
// come in; without one, the next number.
func (c *Numbers) Next(ctx context.Context) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := ctx.Value(slotKey{}).(slot)
	if !ok || s.batch == nil || s.index < 0 || s.index >= s.batch.n {
		c.next++
		return c.next
	}
	if c.bases == nil {
		c.bases, c.given = map[*Batch]int64{}, map[*Batch]int{}
	}
	base, seen := c.bases[s.batch]
	if !seen {
		base = c.next
		c.next += int64(s.batch.n)
		c.bases[s.batch] = base
	}
	// Forget a batch once every client of it has its number: a runner that
	// stops early leaves its entry behind, one small entry per failed start.
	if c.given[s.batch]++; c.given[s.batch] == s.batch.n {
		delete(c.bases, s.batch)
		delete(c.given, s.batch)
	}
	return base + int64(s.index) + 1
}
