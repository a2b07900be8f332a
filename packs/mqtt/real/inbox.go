package real

import (
	"sync"
	"time"
)

// inbox holds the seqs of the messages the harness's monitor connections
// read, by connection (its local host:port, as mosquitto names the peer)
// and by order of arrival (1, 2, …), until the tracker takes them.
type inbox struct {
	mu      sync.Mutex
	gens    map[string]*inboxGen
	changed chan struct{} // closed and replaced on every arrival or end
}

type inboxGen struct {
	seqs  map[int]int64
	n     int  // messages read so far
	taken int  // the tracker has taken (or passed) every k up to this
	ended bool // the connection is gone: no more will come
}

func newInbox() *inbox { return &inbox{gens: map[string]*inboxGen{}, changed: make(chan struct{})} }

func (b *inbox) gen(g string) *inboxGen {
	x := b.gens[g]
	if x == nil {
		x = &inboxGen{seqs: map[int]int64{}}
		b.gens[g] = x
	}
	return x
}

func (b *inbox) wake() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// put stores the next message read on g.
func (b *inbox) put(g string, seq int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	x := b.gen(g)
	x.n++
	if x.n > x.taken {
		x.seqs[x.n] = seq
	}
	b.wake()
}

// end: g's connection is closed.
func (b *inbox) end(g string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gen(g).ended = true
	b.wake()
}

// take returns the seq of the k-th message read on g, waiting up to wait
// for it to arrive; false if it did not (the connection ended first, or
// the wait ran out). Every message up to k is forgotten.
func (b *inbox) take(g string, k int, wait time.Duration) (int64, bool) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		x := b.gen(g)
		seq, ok := x.seqs[k]
		if ok || x.ended || x.n >= k {
			for i := x.taken + 1; i <= k; i++ {
				delete(x.seqs, i)
			}
			x.taken = max(x.taken, k)
			b.mu.Unlock()
			return seq, ok
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			b.mu.Lock()
			x.taken = max(x.taken, k)
			b.mu.Unlock()
			return 0, false
		}
	}
}

// drop forgets g (its incarnation is over).
func (b *inbox) drop(g string) {
	b.mu.Lock()
	delete(b.gens, g)
	b.mu.Unlock()
}
