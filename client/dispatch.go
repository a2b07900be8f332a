package client

import "sync/atomic"

// dispatcher runs callbacks in order on one goroutine, so user code never
// runs on (or blocks) the event loop and may call back into the Session.
type dispatcher struct {
	q    *queue[func()]
	busy atomic.Bool // a callback is running
	done chan struct{}
}

func newDispatcher() *dispatcher {
	return &dispatcher{q: newQueue[func()](), done: make(chan struct{})}
}

// run delivers until the queue is closed and drained.
func (d *dispatcher) run() {
	defer close(d.done)
	for range d.q.ready {
		fs, closed := d.q.take()
		for _, f := range fs {
			d.busy.Store(true)
			f()
			d.busy.Store(false)
		}
		if closed {
			return
		}
	}
}
