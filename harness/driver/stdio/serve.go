package stdio

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// Serve makes one driver from factory and serves it over the protocol:
// the hello first, then ops read from in, one line each, by this goroutine
// alone. Each op runs in a goroutine of its own, so that a cancel can overtake
// a streaming request; replies and the driver's events are written to out as
// whole lines through one lock, so they never interleave. It returns after an
// exit op (answered first) or EOF on in, once its ops are cancelled and the
// driver is closed (both bounded by closeWithin). ctx is the ops' context: cancelling it cancels them. Lines
// that are not ops are reported on logw (stderr: stdout belongs to the
// protocol).
func Serve(ctx context.Context, factory driver.Factory, in io.Reader, out io.Writer, logw io.Writer, closeWithin time.Duration) error {
	lw := &lineWriter{w: out}
	d, err := factory(ctx, lw.event)
	if err != nil {
		return err
	}
	if err := lw.hello(d.Hello()); err != nil {
		return err
	}
	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		var op driver.Op
		if err := json.Unmarshal(sc.Bytes(), &op); err != nil {
			fmt.Fprintf(logw, "driver: ignored a line that is not an op (%v): %s\n", err, quote(sc.Bytes()))
			continue
		}
		if op.Op == driver.OpExit {
			_ = lw.write(driver.Reply{Re: op.ID, OK: true})
			break
		}
		if op.Op == driver.OpProbe { // the harness's lag probe: answered here, through the events' lock
			_ = lw.write(driver.Reply{Re: op.ID, OK: true})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := d.Do(octx, op)
			if err != nil {
				rep = driver.Reply{OK: false, Error: err.Error()}
			}
			rep.Re = op.ID
			_ = lw.write(rep)
		}()
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(logw, "driver: reading ops: %v\n", err)
	}
	// Ops still running end first, so that none opens a session after the
	// driver closed.
	cancel()
	cctx, ccancel := context.WithTimeout(context.Background(), closeWithin)
	defer ccancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-cctx.Done():
		return fmt.Errorf("ops still running %v after they were cancelled", closeWithin)
	}
	cerr := d.Close(cctx)
	return cerr
}

// lineWriter writes protocol lines, one Write each, under one lock. Events
// that come before the hello is out (an engine that reports while it is
// being made) wait in a queue: the hello is always the first line.
type lineWriter struct {
	mu      sync.Mutex
	w       io.Writer
	helloed bool
	queued  []driver.Event
	err     error // the first write error: the harness is gone
}

func (l *lineWriter) event(e driver.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.helloed {
		l.queued = append(l.queued, e)
		return
	}
	l.writeLocked(e)
}

func (l *lineWriter) hello(h driver.Hello) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h.Features == nil {
		h.Features = []string{} // a list, even when empty
	}
	l.writeLocked(h)
	l.helloed = true
	for _, e := range l.queued {
		l.writeLocked(e)
	}
	l.queued = nil
	return l.err
}

func (l *lineWriter) write(v any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writeLocked(v)
	return l.err
}

func (l *lineWriter) writeLocked(v any) {
	if l.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		l.err = err
		return
	}
	_, l.err = l.w.Write(append(b, '\n'))
}
