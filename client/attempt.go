package client

import (
	"context"
	"sync"
	"sync/atomic"
)

// attempt is the Attempt handed to a Strategy. Start and Abort only post to
// the loop, so a strategy may call them from anywhere, even synchronously.
type attempt struct {
	mb      *queue[event]
	decided atomic.Bool // first Start or Abort wins

	mu    sync.Mutex
	void  bool
	hooks []func()

	cancel context.CancelFunc // set and used by the loop only, once started
}

func newAttempt(mb *queue[event]) *attempt { return &attempt{mb: mb} }

func (a *attempt) Start() {
	if a.decided.CompareAndSwap(false, true) {
		a.mb.push(evStart{a})
	}
}

func (a *attempt) Abort() {
	if a.decided.CompareAndSwap(false, true) {
		a.mb.push(evAbort{a})
	}
}

// onVoid registers f to run when the attempt can no longer start, so a
// strategy's timer can be stopped instead of firing into a dead session.
func (a *attempt) onVoid(f func()) {
	a.mu.Lock()
	if a.void {
		a.mu.Unlock()
		f()
		return
	}
	a.hooks = append(a.hooks, f)
	a.mu.Unlock()
}

// kill voids the attempt and cancels its dial if it is running.
func (a *attempt) kill() {
	a.mu.Lock()
	a.void = true
	hooks := a.hooks
	a.hooks = nil
	a.mu.Unlock()
	for _, f := range hooks {
		f()
	}
	if a.cancel != nil {
		a.cancel()
	}
}
