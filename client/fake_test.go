package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/faultline/faultline/wire"
)

// reply scripts the fake's answer to one hello.
type reply struct {
	kind     string // welcome | resumed | refused | hangup (close, no answer) | silent (never answer)
	reason   string // refused
	received int64  // resumed: -1 means what the fake actually received
	replay   []wire.Frame
}

// fake is a scriptable session server: just enough of the protocol to drive
// the client through every path. Dials are counted at the HTTP handler, the
// way the real fake server counts accepts.
type fake struct {
	t      *testing.T
	hs     *httptest.Server
	url    string
	pingMS int64
	sessID string // the session id it issues (default sess-1)
	ctx    context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	dials    []time.Time
	hellos   []wire.Frame
	answer   func(i int, h wire.Frame) reply // i: 0-based dial index
	conns    []*fconn
	received []int64 // every send n that arrived, duplicates included
	lastN    int64
	dropFrom int64 // sends with n ≥ dropFrom vanish (0: none): loss in flight
	subs     []string
	closes   int
	acks     []wire.Frame
}

type fconn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	hole atomic.Bool // blackholed: no pings, no answers
}

func (c *fconn) write(f wire.Frame) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageText, wire.Encode(f))
}

func newFake(t *testing.T, pingMS int64) *fake { return newFakeID(t, pingMS, "sess-1") }

// newFakeID is a fake that issues session id (set before it serves, so no
// connection races with it).
func newFakeID(t *testing.T, pingMS int64, id string) *fake {
	f := &fake{t: t, pingMS: pingMS, sessID: id}
	f.ctx, f.stop = context.WithCancel(context.Background())
	f.answer = func(i int, h wire.Frame) reply {
		if h.Session != "" {
			return reply{kind: "resumed", received: -1}
		}
		return reply{kind: "welcome"}
	}
	f.hs = httptest.NewServer(http.HandlerFunc(f.handle))
	f.url = "ws" + strings.TrimPrefix(f.hs.URL, "http")
	t.Cleanup(f.close)
	return f
}

func (f *fake) setAnswer(a func(i int, h wire.Frame) reply) {
	f.mu.Lock()
	f.answer = a
	f.mu.Unlock()
}

func (f *fake) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.stop()
	f.dropAll()
	f.wg.Wait()
	f.hs.Close()
}

func (f *fake) handle(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	i := len(f.dials)
	f.dials = append(f.dials, time.Now())
	f.wg.Add(1)
	f.mu.Unlock()
	defer f.wg.Done()

	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	c := &fconn{ws: ws}
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.mu.Unlock()
	defer ws.CloseNow()

	ctx, cancel := context.WithTimeout(f.ctx, 2*time.Second)
	_, b, err := ws.Read(ctx)
	cancel()
	if err != nil {
		return
	}
	h, err := wire.Decode(b)
	if err != nil || h.T != wire.THello {
		return
	}
	f.mu.Lock()
	f.hellos = append(f.hellos, h)
	rp := f.answer(i, h)
	if rp.received < 0 {
		rp.received = f.lastN
	}
	f.mu.Unlock()

	switch rp.kind {
	case "welcome":
		c.write(wire.Frame{T: wire.TWelcome, Session: f.sessID, Token: "tok-1", PingMS: f.pingMS, RetentionMS: h.RetentionMS})
	case "resumed":
		c.write(wire.Frame{T: wire.TResumed, Session: f.sessID, Received: rp.received, PingMS: f.pingMS})
		for _, m := range rp.replay {
			c.write(m)
		}
	case "refused":
		c.write(wire.Frame{T: wire.TRefused, Reason: rp.reason})
		ws.Close(websocket.StatusNormalClosure, "")
		return
	case "hangup":
		return
	case "silent":
		c.hole.Store(true)
	}
	f.serve(c)
}

// serve reads until the connection ends, pinging every pingMS.
func (f *fake) serve(c *fconn) {
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	if f.pingMS > 0 {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			t := time.NewTicker(time.Duration(f.pingMS) * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if !c.hole.Load() {
						c.write(wire.Frame{T: wire.TPing})
					}
				}
			}
		}()
	}
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		if c.hole.Load() {
			continue
		}
		fr, err := wire.Decode(b)
		if err != nil {
			f.t.Errorf("fake: client sent a bad frame: %v", err)
			return
		}
		switch fr.T {
		case wire.TSub:
			f.mu.Lock()
			f.subs = append(f.subs, fr.Topic)
			f.mu.Unlock()
		case wire.TSend:
			f.mu.Lock()
			lost := f.dropFrom > 0 && fr.N >= f.dropFrom
			if !lost {
				f.received = append(f.received, fr.N)
				f.lastN = max(f.lastN, fr.N)
			}
			f.mu.Unlock()
			if !lost {
				c.write(wire.Frame{T: wire.TAck, N: fr.N})
			}
		case wire.TAck:
			f.mu.Lock()
			f.acks = append(f.acks, fr)
			f.mu.Unlock()
		case wire.TClose:
			f.mu.Lock()
			f.closes++
			f.mu.Unlock()
			c.ws.Close(websocket.StatusNormalClosure, "")
			return
		}
	}
}

// last is the newest connection.
func (f *fake) last() *fconn {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns[len(f.conns)-1]
}

func (f *fake) dropAll() {
	f.mu.Lock()
	cs := append([]*fconn(nil), f.conns...)
	f.mu.Unlock()
	for _, c := range cs {
		c.ws.CloseNow()
	}
}

func (f *fake) dialTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.dials...)
}

func (f *fake) dialCount() int { return len(f.dialTimes()) }

func (f *fake) hello(i int) wire.Frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hellos[i]
}

func (f *fake) snapshot() (received []int64, subs []string, closes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.received...), append([]string(nil), f.subs...), f.closes
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
