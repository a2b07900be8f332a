package client

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/faultline/faultline/wire"
)

// closeGrace bounds how long a deliberate close waits for the server to end
// the connection after our close{} frame.
const closeGrace = time.Second

// outFrame is an encoded frame for the writer; last ends the connection
// gracefully once written.
type outFrame struct {
	b    []byte
	last bool
}

// conn is one established connection: a reader and a writer goroutine that
// report to the loop. The loop forgets a conn when it is lost, so its late
// reports are ignored by identity.
type conn struct {
	url        string
	ws         *websocket.Conn
	mb         *queue[event]
	out        *queue[outFrame]
	idle       time.Duration // liveness bound; 0: none
	wtimeout   time.Duration
	ctx        context.Context
	cancel     context.CancelFunc
	readerDone chan struct{}
	finishBy   atomic.Int64 // unix ns; once finishing, every write and the linger end by then
}

// adopt starts the goroutines of an established connection.
func (s *Session) adopt(ws *websocket.Conn, url string) *conn {
	idle := s.opts.Liveness
	if idle == 0 {
		idle = 2 * time.Duration(s.pingMS) * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{url: url, ws: ws, mb: s.mb, out: newQueue[outFrame](), idle: idle,
		wtimeout: max(idle, s.opts.ConnectTimeout), ctx: ctx, cancel: cancel,
		readerDone: make(chan struct{})}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); c.readLoop() }()
	go func() { defer s.wg.Done(); c.writeLoop() }()
	return c
}

func (c *conn) send(f wire.Frame) { c.out.push(outFrame{b: wire.Encode(f)}) }

// abort drops the connection at once.
func (c *conn) abort() { c.cancel() }

// finish sends close{} after what is queued, then ends the connection,
// all within closeGrace, however much is still queued.
func (c *conn) finish() {
	c.finishBy.Store(time.Now().Add(closeGrace).UnixNano())
	c.out.push(outFrame{b: wire.Encode(wire.Frame{T: wire.TClose}), last: true})
}

// writeTimeout is the bound on the next write.
func (c *conn) writeTimeout() time.Duration {
	if by := c.finishBy.Load(); by != 0 {
		return min(c.wtimeout, time.Until(time.Unix(0, by)))
	}
	return c.wtimeout
}

func (c *conn) lost(err error) {
	if c.ctx.Err() == nil {
		c.mb.push(evLost{c, err})
	}
	c.cancel()
}

// readLoop reports every frame. After the loop has stopped it keeps reading
// and dropping, so the socket closes cleanly instead of with a reset.
func (c *conn) readLoop() {
	defer close(c.readerDone)
	for {
		b, err := c.read()
		if err != nil {
			c.lost(err)
			return
		}
		f, err := wire.Decode(b)
		if err != nil { // a corrupt stream cannot be trusted: recover instead
			c.lost(fmt.Errorf("%w: %v", ErrProtocol, err))
			return
		}
		c.mb.push(evFrame{c, f})
	}
}

// read waits for one message, at most the liveness bound: every frame counts.
func (c *conn) read() ([]byte, error) {
	ctx := c.ctx
	if c.idle > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(c.ctx, c.idle)
		defer cancel()
	}
	typ, b, err := c.ws.Read(ctx)
	if err != nil {
		if c.ctx.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: nothing received from %s for %v", ErrIdle, c.url, c.idle)
		}
		return nil, fmt.Errorf("read from %s: %w", c.url, err)
	}
	if typ != websocket.MessageText {
		return nil, fmt.Errorf("%w: binary message from %s", ErrProtocol, c.url)
	}
	return b, nil
}

func (c *conn) writeLoop() {
	defer c.ws.CloseNow()
	defer c.cancel()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.out.ready:
		}
		frames, _ := c.out.take()
		for _, o := range frames {
			if err := c.write(o.b); err != nil {
				c.lost(err)
				return
			}
			if o.last {
				c.linger()
				return
			}
		}
	}
}

func (c *conn) write(b []byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.writeTimeout())
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("write to %s: %w", c.url, err)
	}
	return nil
}

// linger gives the server a bounded chance to close first after close{}.
func (c *conn) linger() {
	t := time.NewTimer(c.writeTimeout())
	defer t.Stop()
	select {
	case <-c.readerDone:
	case <-t.C:
	}
}
