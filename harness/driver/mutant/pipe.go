package mutant

import (
	"sync"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// pipe delivers emitted events to the harness's sink in emission order, each
// no earlier than its due time. With nothing held back an undelayed event
// goes straight through, on the engine's goroutine, so an honest stretch of
// the stream is stamped exactly as without the mutant.
type pipe struct {
	sink driver.Sink

	mu      sync.Mutex // held while delivering: order with direct deliveries
	held    []timed    // due times never decrease
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	running bool
	closed  bool
}

type timed struct {
	e   driver.Event
	due time.Time
}

func (p *pipe) emit(e driver.Event, after time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.held) == 0 && (after <= 0 || p.closed) {
		p.sink(e)
		return
	}
	due := time.Now().Add(after)
	if n := len(p.held); n > 0 && p.held[n-1].due.After(due) {
		due = p.held[n-1].due // never overtake
	}
	p.held = append(p.held, timed{e, due})
	if !p.running {
		p.running = true
		p.wake, p.stop, p.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go p.deliver()
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// deliver runs while events are held; after close it flushes them at once.
func (p *pipe) deliver() {
	defer close(p.done)
	for {
		p.mu.Lock()
		if len(p.held) == 0 {
			closed := p.closed
			p.mu.Unlock()
			if closed {
				return
			}
			select {
			case <-p.wake:
			case <-p.stop:
			}
			continue
		}
		head := p.held[0]
		wait := time.Until(head.due)
		if wait <= 0 || p.closed {
			p.held = p.held[1:]
			p.sink(head.e)
			p.mu.Unlock()
			continue
		}
		p.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-p.stop:
		}
		t.Stop()
	}
}

// close flushes what is held and ends the delivery goroutine. Safe to call
// more than once.
func (p *pipe) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	running := p.running
	if running {
		close(p.stop)
	}
	p.mu.Unlock()
	if running {
		<-p.done
	}
}
