package server

import "sync"

// outQueue is a connection's queue to its writer: bounded like a channel of
// capacity limit, but holding only what is queued. A channel sized for the
// worst case (a replay of the whole recovery buffer, 2×1024+64 frames of
// ~330 bytes) cost 0.7 MB of zeroed memory per connection: with 1,000
// clients most of the harness's CPU went to clearing it, and its memory to
// holding it.
type outQueue struct {
	mu    sync.Mutex
	items []outItem
	limit int
	ready chan struct{} // holds a token while items is not empty
}

func newOutQueue(limit int) *outQueue {
	return &outQueue{limit: limit, ready: make(chan struct{}, 1)}
}

// push queues it without blocking; false when the queue is full.
func (q *outQueue) push(it outItem) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) >= q.limit {
		return false
	}
	q.items = append(q.items, it)
	q.signal()
	return true
}

// pop takes the oldest item, after a receive from ready. It leaves a token
// for the next while more are queued, so the writer takes one item per
// select, as from a channel (pings still interleave).
func (q *outQueue) pop() (outItem, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return outItem{}, false
	}
	it := q.items[0]
	q.items[0] = outItem{} // drop references to the written frame
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil // let the drained backing array go
	} else {
		q.signal()
	}
	return it, true
}

func (q *outQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}
