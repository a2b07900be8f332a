package stdio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// Do implements driver.Driver: it writes the op as one line and waits for
// the reply with its id until ctx ends. A missed deadline is a hang: the
// driver is failed and killed. A cancelled ctx (the run is ending) only
// abandons the op.
func (p *Proc) Do(ctx context.Context, op driver.Op) (driver.Reply, error) {
	ch := make(chan driver.Reply, 1)
	p.mu.Lock()
	switch {
	case p.failure != "":
		p.mu.Unlock()
		return driver.Reply{}, p.report(nil)
	case p.closing:
		p.mu.Unlock()
		return driver.Reply{}, fmt.Errorf("%w: op %s after Close", driver.ErrDriver, opText(op))
	}
	if _, dup := p.pending[op.ID]; dup {
		p.mu.Unlock()
		return driver.Reply{}, fmt.Errorf("op %s: that id is already waiting for its reply", opText(op))
	}
	p.pending[op.ID] = pendingOp{ch: ch}
	p.maxID = max(p.maxID, op.ID)
	p.mu.Unlock()

	sent := time.Now()
	if err := p.send(ctx, op); err != nil {
		p.forget(op.ID, false)
		if errors.Is(err, errPartial) && errors.Is(ctx.Err(), context.Canceled) {
			// Cancelled halfway through a line: the stream cannot be
			// resynchronised. Our doing, not the driver's, so nobody is told.
			p.fail(fmt.Sprintf("op %s was cut short by the run's end: stdin holds half a line", opText(op)))
			p.mu.Lock()
			p.reported = true
			p.mu.Unlock()
		}
		if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) { // the write deadline is ctx's: it may pass a hair before ctx notices
			return p.expired(ctx, op, sent, "could not even write it (the driver is not reading its stdin)")
		}
		// A broken pipe: the program is gone or shut its stdin; wait() or
		// read() will say which, with better evidence than EPIPE.
		select {
		case <-p.failed:
		case <-time.After(settle):
			p.fail(fmt.Sprintf("cannot write op %s: %v", opText(op), err))
		}
		return driver.Reply{}, p.report(nil)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-p.failed:
		select {
		case r := <-ch: // routed just before the failure: it stands
			return r, nil
		default:
		}
		p.forget(op.ID, false)
		return driver.Reply{}, p.report(nil)
	case <-ctx.Done():
		p.forget(op.ID, true)
		select {
		case r := <-ch:
			return r, nil
		default:
		}
		return p.expired(ctx, op, sent, "")
	}
}

// opText names an op for evidence: "#3 connect", and in a multi-session
// process "#3 connect for client 7", since one failure fails every client.
func opText(op driver.Op) string {
	if op.Client != nil {
		return fmt.Sprintf("#%d %s for client %d", op.ID, op.Op, *op.Client)
	}
	return fmt.Sprintf("#%d %s", op.ID, op.Op)
}

// expired ends an op whose ctx ended before its reply.
func (p *Proc) expired(ctx context.Context, op driver.Op, sent time.Time, how string) (driver.Reply, error) {
	waited := time.Since(sent).Round(time.Millisecond)
	if how != "" {
		how = ": " + how
	}
	cause := ctx.Err()
	if cause == nil {
		cause = context.DeadlineExceeded // the write's deadline (ctx's) passed first
	}
	if errors.Is(cause, context.DeadlineExceeded) {
		p.fail(fmt.Sprintf("no reply to op %s within %v%s", opText(op), waited, how))
		return driver.Reply{}, p.report(cause)
	}
	// Cancelled: the run is ending, which is not the driver's fault.
	return driver.Reply{}, p.errorf(fmt.Sprintf("op %s abandoned after %v: %v", opText(op), waited, cause), cause)
}

// forget removes a pending op; abandon keeps its id so a late reply is
// dropped instead of counting as a reply to an unknown id.
func (p *Proc) forget(id int64, abandon bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pending, id)
	if abandon {
		p.abandoned[id] = true
	}
}

// errPartial marks a write that put part of a line on the driver's stdin.
var errPartial = errors.New("partial write")

// send writes one op line, bounded by ctx: a program that does not read its
// stdin fills the pipe, and the write must not wait for it forever.
func (p *Proc) send(ctx context.Context, op driver.Op) error {
	b, err := json.Marshal(op)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.dmu.Lock()
	p.gen++
	g := p.gen
	dl, _ := ctx.Deadline() // zero: no deadline
	_ = p.stdin.SetWriteDeadline(dl)
	p.dmu.Unlock()
	// A cancellation moves the deadline to now; the generation keeps a late
	// callback from cutting short the next op's write.
	stop := context.AfterFunc(ctx, func() {
		p.dmu.Lock()
		defer p.dmu.Unlock()
		if p.gen == g {
			_ = p.stdin.SetWriteDeadline(time.Now())
		}
	})
	n, err := p.stdin.Write(b)
	if err != nil && n > 0 {
		err = fmt.Errorf("%w (%d of %d bytes): %w", errPartial, n, len(b), err)
	}
	stop()
	p.dmu.Lock()
	p.gen++
	p.dmu.Unlock()
	return err
}

// Close implements driver.Driver: an exit op and EOF on stdin, then SIGKILL
// to the process group at ctx's deadline (or after 5s if ctx has none), then
// the pipes and goroutines are released. A failure nobody has been told of
// (a crash between ops) is returned here, so it is never lost.
func (p *Proc) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, p.cfg.close)
			defer cancel()
		}
		p.closeErr = p.close(ctx)
	})
	return p.closeErr
}

func (p *Proc) close(ctx context.Context) error {
	p.mu.Lock()
	p.closing = true
	healthy := p.failure == ""
	p.maxID++
	exitID := p.maxID
	p.abandoned[exitID] = true // its reply, if any, is expected and dropped
	p.mu.Unlock()

	began := time.Now()
	var err error
	if healthy {
		_ = p.send(ctx, driver.Op{ID: exitID, Op: driver.OpExit}) // a dead program makes this fail fast
	}
	_ = p.stdin.Close() // EOF: a driver that reads to the end stops too
	select {
	case <-p.exited:
	case <-ctx.Done():
		if healthy {
			err = p.errorf(fmt.Sprintf("did not exit within %v of the exit op: killed", time.Since(began).Round(time.Millisecond)), nil)
		}
		p.killGroup()
		select {
		case <-p.exited:
		case <-time.After(killWait):
			err = p.errorf(fmt.Sprintf("pid %d survived SIGKILL for %v", p.pid, killWait), nil)
		}
	}
	// The group is dead (wait() killed what the leader left); the readers
	// end at EOF, or when their pipes are closed under them.
	for _, f := range []struct {
		done chan struct{}
		file interface{ Close() error }
	}{{p.readerDone, p.stdout}, {p.stderrDone, p.stderr}} {
		select {
		case <-f.done:
		case <-time.After(settle):
		}
		_ = f.file.Close()
		<-f.done // a closed pipe ends the read at once
	}
	select {
	case <-p.waitDone: // at most settle more: the readers are done
	case <-time.After(killWait): // only when the leader survived SIGKILL
	}

	p.mu.Lock()
	failure, reported := p.failure, p.reported
	p.reported = true
	p.mu.Unlock()
	if err == nil && failure != "" && !reported {
		return p.errorf(failure, nil)
	}
	return err
}
