package client

import "sync"

// queue is an unbounded FIFO whose push never blocks: the loop's mailbox, the
// callback queue and each connection's outbox. Unbounded is fine here because
// every producer is bounded elsewhere (recovery buffer, one frame per read).
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	ready  chan struct{} // has a token when items or closed are new
}

func newQueue[T any]() *queue[T] { return &queue[T]{ready: make(chan struct{}, 1)} }

// push appends v; false once the queue is closed (the caller disposes of v).
func (q *queue[T]) push(v T) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.signal()
	return true
}

// take removes and returns everything queued, and whether the queue is closed.
func (q *queue[T]) take() ([]T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items, q.closed
}

// close refuses further pushes; what is queued stays for take.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *queue[T]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}
