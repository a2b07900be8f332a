package stdio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/faultline/faultline/harness/driver"
)

// A driver whose hello declares "sessions" above 1 hosts several clients in
// one process (driver/sessions.go). Factory then returns a view: one
// client's driver.Driver onto the shared Proc, and the runner places more
// clients with Open. Every op a view sends names its client (and on connect
// its driver number and the seed, which a one-session process reads from
// its environment); every event must name a client placed here, and goes
// to that client's sink. Ids stay unique per process (the runner's
// business), so replies are matched as ever. One failure (a crash, a hang,
// a bad line) fails the process, and so every client it hosts: each view
// returns the evidence once, from an op or from Close. The last view to
// close ends the process.

// multi reports whether the hello declared more than one session.
func (p *Proc) multi() bool { return p.hello.Sessions > 1 }

// view is one client's session in a multi-session process.
type view struct {
	p      *Proc
	client int
	n      int64 // the client's driver number (FAULTLINE_DRIVER of a one-session process)

	told      atomic.Bool // this client was given the process's failure
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var _ driver.Host = (*view)(nil)

// Hello implements driver.Driver.
func (v *view) Hello() driver.Hello { return v.p.hello }

// Sessions implements driver.Host.
func (v *view) Sessions() int { return v.p.hello.Sessions }

// PID is the process's id (for tests and evidence).
func (v *view) PID() int { return v.p.pid }

// KeptStderr is the process's (Proc.KeptStderr): every client it hosts
// shares it.
func (v *view) KeptStderr() (string, int64, bool) { return v.p.KeptStderr() }

// Do implements driver.Driver: the op goes out naming the client, except
// the harness's lag probe (driver.OpProbe), which is the process's: it
// names no client, so it is never one more op in flight for a session.
func (v *view) Do(ctx context.Context, op driver.Op) (driver.Reply, error) {
	if op.Op != driver.OpProbe {
		c := v.client
		op.Client = &c
	}
	if v.closed.Load() {
		return driver.Reply{}, fmt.Errorf("%w: op %s after Close", driver.ErrDriver, opText(op))
	}
	if op.Op == driver.OpConnect {
		seed := v.p.cfg.seed
		op.Driver, op.Seed = v.n, &seed
	}
	r, err := v.p.Do(ctx, op)
	if errors.Is(err, driver.ErrDriver) {
		v.told.Store(true)
	}
	return r, err
}

// Open implements driver.Host: ctx's slot names the client.
func (v *view) Open(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
	p := v.p
	client, ok := driver.SlotOf(ctx)
	if !ok {
		return nil, &Error{What: "cannot place a client without its slot (driver.WithSlot)"}
	}
	p.mu.Lock()
	var why string
	switch {
	case p.failure != "":
		p.mu.Unlock()
		return nil, p.report(nil)
	case p.closing:
		why = "the process is closing"
	case len(p.hosted) >= p.hello.Sessions:
		why = fmt.Sprintf("the process hosts %d sessions already, its hello's limit", len(p.hosted))
	case p.hosted[client] != nil:
		why = "it is placed already"
	}
	if why != "" {
		p.mu.Unlock()
		return nil, &Error{What: fmt.Sprintf("cannot place client %d in pid %d: %s", client, p.pid, why)}
	}
	p.hosted[client] = sink
	p.views++
	p.mu.Unlock()
	return &view{p: p, client: client, n: p.nums.Next(ctx)}, nil
}

// Close implements driver.Driver: the last view to close ends the process
// (exit op, then kill at ctx's deadline). A failure this client was not
// told of is returned here, so every client it hosted sees the evidence.
func (v *view) Close(ctx context.Context) error {
	v.closeOnce.Do(func() {
		v.closed.Store(true)
		p := v.p
		p.mu.Lock()
		p.views--
		last := p.views == 0
		p.mu.Unlock()
		var err error
		if last {
			err = p.Close(ctx)
		}
		if err == nil && !v.told.Load() {
			p.mu.Lock()
			f := p.failure
			p.reported = true
			p.mu.Unlock()
			if f != "" {
				err = p.errorf(f, nil)
			}
		}
		v.told.Store(true)
		v.closeErr = err
	})
	return v.closeErr
}

// routeEvent hands an event of a multi-session process to its client's
// sink. An event that names no client, or one not placed here, is a broken
// driver: which session it belongs to is unknowable.
func (p *Proc) routeEvent(l line, n int, b []byte) {
	if len(l.client) == 0 || string(l.client) == "null" {
		p.fail(fmt.Sprintf(`event without "client" on line %d from a multi-session driver (its hello declared sessions: %d): %s`,
			n, p.hello.Sessions, quote(b)))
		return
	}
	var k int
	if err := json.Unmarshal(l.client, &k); err != nil {
		p.fail(fmt.Sprintf(`event with "client": %s on line %d, want a client index: %s`, quote(l.client), n, quote(b)))
		return
	}
	p.mu.Lock()
	sink := p.hosted[k]
	var hosts string
	if sink == nil {
		hosts = clientsText(p.hosted)
	}
	p.mu.Unlock()
	if sink == nil {
		p.fail(fmt.Sprintf("event for client %d on line %d, which this process does not host (it hosts %s): %s", k, n, hosts, quote(b)))
		return
	}
	l.event.Client = &k // decoded here, not by parseLine (line.go)
	sink(l.event)
}

// clientsText renders placed clients compactly for evidence: "clients 0-2, 7".
func clientsText(hosted map[int]driver.Sink) string {
	ks := make([]int, 0, len(hosted))
	for k := range hosted {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	var parts []string
	for i := 0; i < len(ks); {
		j := i
		for j+1 < len(ks) && ks[j+1] == ks[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", ks[i], ks[j]))
		} else {
			parts = append(parts, fmt.Sprint(ks[i]))
		}
		i = j + 1
	}
	if len(ks) == 1 {
		return "client " + parts[0]
	}
	return "clients " + strings.Join(parts, ", ")
}
