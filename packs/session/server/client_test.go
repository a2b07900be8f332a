package server

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

// tclient is a minimal client written straight against coder/websocket and
// wire, so the server is tested against the protocol, not against the engine.
type tclient struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan wire.Frame // every frame but ping
	done   chan struct{}   // closed when the connection ended
	err    error           // why it ended; read after done
	pong   atomic.Bool     // answer pings (on by default)
	pings  atomic.Int64
}

func dial(t *testing.T, s *Server) *tclient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.URL(), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", s.URL(), err)
	}
	ws.SetReadLimit(wire.MaxFrame)
	c := &tclient{t: t, ws: ws, frames: make(chan wire.Frame, 10000), done: make(chan struct{})}
	c.pong.Store(true)
	go c.readLoop()
	t.Cleanup(c.drop)
	return c
}

func (c *tclient) readLoop() {
	defer close(c.done)
	for {
		_, b, err := c.ws.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		f, err := wire.Decode(b)
		if err != nil {
			c.err = err
			return
		}
		if f.T == wire.TPing {
			c.pings.Add(1)
			if c.pong.Load() {
				_ = c.write(wire.Frame{T: wire.TPong})
			}
			continue
		}
		c.frames <- f
	}
}

func (c *tclient) write(f wire.Frame) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, wire.Encode(f))
}

func (c *tclient) send(f wire.Frame) {
	c.t.Helper()
	if err := c.write(f); err != nil {
		c.t.Fatalf("send %s: %v", f.T, err)
	}
}

// drop ends the connection abruptly (no close frame): a transport loss.
func (c *tclient) drop() {
	_ = c.ws.CloseNow()
	<-c.done
}

func (c *tclient) next(d time.Duration) wire.Frame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	default:
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case f := <-c.frames:
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatalf("connection ended while waiting for a frame: %v", c.err)
	case <-timer.C:
		c.t.Fatalf("no frame within %v", d)
	}
	return wire.Frame{}
}

func (c *tclient) expect(typ string) wire.Frame {
	c.t.Helper()
	f := c.next(2 * time.Second)
	if f.T != typ {
		c.t.Fatalf("got %s frame %+v, want %s", f.T, f, typ)
	}
	return f
}

// quiet fails if any frame arrives within d.
func (c *tclient) quiet(d time.Duration) {
	c.t.Helper()
	select {
	case f := <-c.frames:
		c.t.Fatalf("unexpected %s frame %+v", f.T, f)
	case <-time.After(d):
	}
}

// ended waits for the server to end the connection and returns why.
func (c *tclient) ended(d time.Duration) error {
	c.t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(d):
		c.t.Fatalf("connection still open after %v", d)
		return nil
	}
}

func (c *tclient) create(retentionMS int64) wire.Frame {
	c.t.Helper()
	c.send(wire.Frame{T: wire.THello, Principal: DefaultPrincipal, Credentials: DefaultCredentials, RetentionMS: retentionMS})
	return c.expect(wire.TWelcome)
}

func (c *tclient) subscribe(log *history.Log, sess, topic string) {
	c.t.Helper()
	c.send(wire.Frame{T: wire.TSub, Topic: topic})
	// Publishing before the server took the sub would race the test.
	waitEvent(c.t, log, func(e history.Event) bool {
		return e.Kind == history.KindSubscribe && e.Session == sess && e.Topic == topic
	})
}

func resumeHello(w wire.Frame, last map[string]int64) wire.Frame {
	return wire.Frame{T: wire.THello, Session: w.Session, Token: w.Token, Last: last}
}

func startServer(t *testing.T, opts Options) (*Server, *history.Log) {
	t.Helper()
	log := history.NewLog(history.NewClock())
	s, err := Start("s1", log, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, log
}

// waitEvent polls the history until an event matches, within 3s.
func waitEvent(t *testing.T, log *history.Log, match func(history.Event) bool) history.Event {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		for _, e := range log.Events() {
			if match(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching event within 3s; history:\n%s", log.Events())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func kindOf(kind string) func(history.Event) bool {
	return func(e history.Event) bool { return e.Kind == kind }
}

func kindSess(kind, sess string) func(history.Event) bool {
	return func(e history.Event) bool { return e.Kind == kind && e.Session == sess }
}

// index returns the position of the first matching event, or -1.
func index(h history.History, match func(history.Event) bool) int {
	for i, e := range h {
		if match(e) {
			return i
		}
	}
	return -1
}

func count(h history.History, match func(history.Event) bool) int {
	return len(h.Filter(match))
}

func data(i int) []byte { return []byte(fmt.Sprintf(`{"i":%d}`, i)) }
