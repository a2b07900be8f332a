package client

import (
	"sync"
	"testing"
	"time"
)

type stamped struct {
	StateChange
	at time.Time
}

type message struct {
	topic string
	seq   int64
	data  string
}

// recorder collects what the callbacks saw, and checks they never overlap.
type recorder struct {
	t      *testing.T
	mu     sync.Mutex
	states []stamped
	msgs   []message
	errs   []error
	inside bool
	ch     chan struct{}
}

func newRecorder(t *testing.T) *recorder { return &recorder{t: t, ch: make(chan struct{}, 1)} }

func (r *recorder) enter() {
	r.mu.Lock()
	if r.inside {
		r.t.Error("callbacks ran concurrently")
	}
	r.inside = true
	r.mu.Unlock()
}

func (r *recorder) leave() {
	r.mu.Lock()
	r.inside = false
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

// into wires the recorder into opts.
func (r *recorder) into(o Options) Options {
	o.OnState = func(sc StateChange) {
		r.enter()
		r.mu.Lock()
		r.states = append(r.states, stamped{sc, time.Now()})
		r.mu.Unlock()
		r.leave()
	}
	o.OnMessage = func(topic string, seq int64, data []byte) {
		r.enter()
		r.mu.Lock()
		r.msgs = append(r.msgs, message{topic, seq, string(data)})
		r.mu.Unlock()
		r.leave()
	}
	o.OnError = func(err error) {
		r.enter()
		r.mu.Lock()
		r.errs = append(r.errs, err)
		r.mu.Unlock()
		r.leave()
	}
	return o
}

// wait blocks until the n-th state change (1-based) into to has been seen.
func (r *recorder) wait(to State, nth int, d time.Duration) stamped {
	r.t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		k := 0
		for _, s := range r.states {
			if s.To == to {
				k++
				if k == nth {
					r.mu.Unlock()
					return s
				}
			}
		}
		r.mu.Unlock()
		select {
		case <-r.ch:
		case <-deadline.C:
			r.t.Fatalf("no %d× %s within %v; states: %v", nth, to, d, r.seq())
		}
	}
}

func (r *recorder) seq() []State {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []State
	for _, s := range r.states {
		out = append(out, s.To)
	}
	return out
}

func (r *recorder) all() []stamped {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]stamped(nil), r.states...)
}

func (r *recorder) messages() []message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]message(nil), r.msgs...)
}
