package stdio

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// Opener makes the session of one client of a multi-session driver, at the
// first op that names the client (op.Client; nil for the default session of
// ops that name none). Its events go to sink, which tags them with the
// client.
type Opener func(op driver.Op, sink driver.Sink) (driver.Driver, error)

// ServeSessions is Serve for a driver that hosts many sessions in one
// process (driver/sessions.go): the hello declares hello.Sessions, each op
// goes to its client's session (made by open at the client's first op),
// and each session's events carry its client. Ops without a client share
// one default session whose events carry none, so a harness that knows
// nothing of sessions still gets the one-session driver. A close op closes
// its client's session only; exit (or EOF on in) closes them all, together,
// bounded by closeWithin.
func ServeSessions(ctx context.Context, hello driver.Hello, open Opener, in io.Reader, out io.Writer, logw io.Writer, closeWithin time.Duration) error {
	lw := &lineWriter{w: out}
	if err := lw.hello(hello); err != nil {
		return err
	}
	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	const deflt = -1 // the key of the session of ops without a client
	sessions := map[int]driver.Driver{}
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
		if op.Op == driver.OpProbe { // the harness's lag probe: the process's, no session's (none is opened for it)
			_ = lw.write(driver.Reply{Re: op.ID, OK: true})
			continue
		}
		// Sessions are made here, by the one reading goroutine, so that two
		// ops of a new client cannot make two.
		key, sink := deflt, lw.event
		if op.Client != nil {
			k := *op.Client
			key, sink = k, func(e driver.Event) { e.Client = &k; lw.event(e) }
		}
		d, ok := sessions[key]
		var err error
		switch {
		case ok:
		case key < deflt:
			err = fmt.Errorf("bad client %d: want an index ≥ 0", key)
		case len(sessions) >= max(hello.Sessions, 1)+1: // +1: the default session
			err = fmt.Errorf("this process hosts %d sessions already", hello.Sessions)
		default:
			if d, err = open(op, sink); err == nil {
				sessions[key] = d
			}
		}
		if err != nil {
			_ = lw.write(driver.Reply{Re: op.ID, OK: false, Error: err.Error()})
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
	errs := make(chan error, len(sessions))
	for _, d := range sessions {
		go func() { errs <- d.Close(cctx) }()
	}
	var all []error
	for range sessions {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}
