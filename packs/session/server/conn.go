package server

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

// wsConn is one upgraded connection. Its handler goroutine reads; one writer
// goroutine writes everything, in queue order, so that frames on a
// connection keep the order in which the server decided to send them.
type wsConn struct {
	s      *Server
	id     string
	raw    *fakeserver.RecConn
	ws     *websocket.Conn
	ctx    context.Context // cancelled when the connection is to stop at once
	cancel context.CancelFunc
	out    *outQueue     // bounded: a consumer that falls this far behind is lost
	done   chan struct{} // closed when the writer has returned

	// Guarded by s.mu.
	sess   *session
	ended  bool   // the session no longer uses this connection
	reason string // why the server side ended (conn.close Reason)
}

// outItem is one frame to write, or (terminal) the deliberate close.
type outItem struct {
	f         wire.Frame
	deliver   bool // record deliver when written
	replay    bool
	startPing bool // the welcome/resumed frame: pings start after it
	terminal  bool
	why       string         // terminal: WebSocket close reason
	rec       *history.Event // recorded (with session and conn) when written: rows, done (requests.go)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw := fakeserver.RawConn(r.Context())
	if raw == nil { // cannot happen: every conn comes from s.ln
		http.Error(w, "no connection", http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.handlers.Add(1) // under mu: Close waits only after no more can start
	s.mu.Unlock()
	defer s.handlers.Done()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // any SDK, any origin: this is a test fixture
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return // not a WebSocket upgrade: HTTP closes it and the listener records why
	}
	raw.Claim()
	ws.SetReadLimit(wire.MaxFrame)
	c := &wsConn{s: s, id: raw.ID(), raw: raw, ws: ws, out: newOutQueue(2*s.opts.Buffer + 64), done: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	c.serve()
}

func (c *wsConn) serve() {
	defer c.cancel()
	go c.writeLoop()
	if c.handshake() {
		c.readLoop()
	}
	<-c.done
	_ = c.ws.CloseNow()
	c.s.mu.Lock()
	reason := c.reason
	if reason == "" {
		reason = "transport"
	}
	c.s.mu.Unlock()
	c.raw.RecordClose(reason) // last: after every session event of this connection
}

// handshake reads the hello within helloTimeout and judges it.
func (c *wsConn) handshake() bool {
	ctx, cancel := context.WithTimeout(c.ctx, helloTimeout)
	_, b, err := c.ws.Read(ctx)
	timedOut := ctx.Err() == context.DeadlineExceeded
	cancel()
	if err != nil {
		if timedOut && c.ctx.Err() == nil {
			c.s.rejectSilently(c)
		} else {
			c.s.lost(c, "transport", "transport")
		}
		return false
	}
	f, err := wire.Decode(b)
	if err != nil || f.T != wire.THello {
		c.s.refuse(c, wire.ReasonBadHandshake, f)
		return false
	}
	return c.s.hello(c, f)
}

func (c *wsConn) readLoop() {
	idleAfter := 2 * c.s.opts.Ping
	idle := time.AfterFunc(idleAfter, func() { c.s.lost(c, "idle", "idle") })
	defer idle.Stop()
	for {
		_, b, err := c.ws.Read(c.ctx)
		if err != nil {
			c.s.lost(c, "transport", "transport")
			return
		}
		idle.Reset(idleAfter) // anything heard proves the client alive
		f, err := wire.Decode(b)
		if err != nil {
			c.s.lost(c, "transport", "bad_frame")
			return
		}
		if !c.s.handle(c, f) {
			return
		}
	}
}

func (c *wsConn) writeLoop() {
	defer close(c.done)
	var tick <-chan time.Time
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick:
			if !c.write(wire.Frame{T: wire.TPing}) {
				return
			}
		case <-c.out.ready:
			it, ok := c.out.pop()
			if !ok {
				continue
			}
			if it.terminal {
				c.closeGracefully(it.why)
				return
			}
			if it.deliver && !c.s.recordDeliver(c, it) {
				continue // the session left this connection: recovery covers it
			}
			if it.rec != nil && !c.s.recordWritten(c, it) {
				continue // likewise: a resume sends it again
			}
			if !c.write(it.f) {
				return
			}
			if it.startPing && tick == nil {
				t := time.NewTicker(c.s.opts.Ping)
				defer t.Stop()
				tick = t.C
			}
		}
	}
}

func (c *wsConn) write(f wire.Frame) bool {
	ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
	err := c.ws.Write(ctx, websocket.MessageText, wire.Encode(f))
	cancel()
	if err != nil {
		c.s.lost(c, "transport", "transport")
		return false
	}
	return true
}

// closeGracefully runs the WebSocket close handshake, but never longer than
// closeGrace (or past shutdown): then the socket is simply closed.
func (c *wsConn) closeGracefully(why string) {
	ctx, cancel := context.WithTimeout(c.ctx, closeGrace)
	stop := context.AfterFunc(ctx, func() { _ = c.raw.Close() })
	_ = c.ws.Close(websocket.StatusNormalClosure, why)
	stop()
	cancel()
}

// queueLocked hands a frame to the writer without blocking the caller.
func (c *wsConn) queueLocked(it outItem) {
	if !c.out.push(it) {
		if c.ended {
			c.cancel()
			return
		}
		c.s.lostLocked(c, "transport", "overflow")
	}
}

// finishLocked ends the connection deliberately: the frames go out, then the
// close handshake. The session (if any) is already dealt with by the caller.
func (c *wsConn) finishLocked(reason string, frames ...wire.Frame) {
	c.ended = true
	c.reason = reason
	for _, f := range frames {
		c.queueLocked(outItem{f: f})
	}
	c.queueLocked(outItem{terminal: true, why: reason})
}

func (s *Server) lost(c *wsConn, why, connReason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lostLocked(c, why, connReason)
}

// lostLocked handles a connection that broke (not a deliberate close): its
// live session is detached and the connection stopped at once.
func (s *Server) lostLocked(c *wsConn, why, connReason string) {
	if c.ended {
		return
	}
	c.ended = true
	c.reason = connReason
	if s.closed {
		c.reason = "shutdown"
	} else if sess := c.sess; sess != nil && sess.conn == c {
		s.detachLocked(sess, why)
	}
	c.cancel()
}

// rejectSilently ends a connection whose hello never came in time.
func (s *Server) rejectSilently(c *wsConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ended || s.closed {
		s.lostLocked(c, "", "shutdown") // no-op if already ended
		return
	}
	s.record(history.Event{Kind: history.KindHandshake, Conn: c.id, Reason: wire.ReasonBadHandshake})
	c.ended = true
	c.reason = wire.ReasonBadHandshake
	c.cancel()
}

func (s *Server) recordDeliver(c *wsConn, it outItem) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ended || s.closed || c.sess == nil {
		return false
	}
	e := history.Event{Kind: history.KindDeliver, Session: c.sess.id, Conn: c.id, Topic: it.f.Topic, Seq: it.f.Seq}
	if it.replay {
		e.Attrs = map[string]string{"replay": "true"}
	}
	s.record(e)
	return true
}
