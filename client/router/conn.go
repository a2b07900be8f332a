package router

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/faultline/faultline/wire/platform"
)

// closeGrace bounds a deliberate close's handshake before the socket is just closed.
const closeGrace = time.Second

// dialLoop keeps one instance connected until it is removed or the router
// closes: dial, serve until lost, wait Retry, dial again.
func (r *Router) dialLoop(ctx context.Context, in *instance) {
	defer r.wg.Done()
	for ctx.Err() == nil {
		ws, liveness, err := r.dial(ctx, in)
		if err == nil {
			r.serve(in, ws, liveness)
		}
		t := time.NewTimer(r.opts.Retry)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// dial connects, says hello and reads the welcome, within ConnectTimeout.
func (r *Router) dial(ctx context.Context, in *instance) (*websocket.Conn, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.ConnectTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, in.url, &websocket.DialOptions{HTTPClient: r.hc, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, 0, err
	}
	ws.SetReadLimit(platform.MaxFrame)
	fail := func(err error) (*websocket.Conn, time.Duration, error) {
		_ = ws.CloseNow()
		return nil, 0, err
	}
	if err := ws.Write(ctx, websocket.MessageText, platform.Encode(platform.Frame{T: platform.THello, Router: r.opts.Name})); err != nil {
		return fail(err)
	}
	_, b, err := ws.Read(ctx)
	if err != nil {
		return fail(err)
	}
	f, err := platform.Decode(b)
	if err == nil && f.T != platform.TWelcome {
		err = fmt.Errorf("%w: %s instead of welcome", platform.ErrFrame, f.T)
	}
	if err != nil {
		return fail(err)
	}
	liveness := r.opts.Liveness
	if liveness <= 0 {
		ping := time.Duration(f.PingMS) * time.Millisecond
		if ping <= 0 {
			ping = 100 * time.Millisecond
		}
		liveness = 2 * ping
	}
	return ws, liveness, nil
}

// serve runs one welcomed connection until it ends.
func (r *Router) serve(in *instance, ws *websocket.Conn, liveness time.Duration) {
	c := &conn{inst: in, ws: ws, writable: true, wake: make(chan struct{}, 1)}
	c.ctx, c.cancel = context.WithCancel(r.ctx)
	defer c.cancel()
	r.mu.Lock()
	if r.closed || in.removed {
		r.mu.Unlock()
		_ = ws.CloseNow()
		return
	}
	in.conn = c
	r.connected++
	r.instanceEvent(in, StateConnected, 0)
	r.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.writeLoop(c) }()
	r.readLoop(c, liveness)
	wg.Wait()
	_ = ws.CloseNow()
}

// readLoop takes acks and pings; silence beyond liveness loses the instance.
func (r *Router) readLoop(c *conn, liveness time.Duration) {
	idle := time.AfterFunc(liveness, func() { r.lose(c, fmt.Sprintf("nothing heard for %s", liveness)) })
	defer idle.Stop()
	for {
		_, b, err := c.ws.Read(c.ctx)
		if err != nil {
			why := "read: " + err.Error()
			if errors.Is(err, context.Canceled) {
				why = "connection ended"
			}
			r.lose(c, why)
			return
		}
		idle.Reset(liveness)
		f, err := platform.Decode(b)
		if err != nil {
			r.lose(c, err.Error())
			return
		}
		if f.T == platform.TAck {
			r.ack(c, f)
		}
	}
}

// writeLoop drains the write buffer into the socket, one frame at a time: a
// frame counts as buffered until the socket took it, so a slow link keeps
// the buffer full (the back-pressure that makes an instance unwritable).
func (r *Router) writeLoop(c *conn) {
	for {
		r.mu.Lock()
		for len(c.queue) == 0 && !c.closing && c.ctx.Err() == nil {
			r.mu.Unlock()
			select {
			case <-c.wake:
			case <-c.ctx.Done():
			}
			r.mu.Lock()
		}
		switch {
		case c.ctx.Err() != nil:
			r.mu.Unlock()
			return
		case c.closing:
			c.queue, c.queued = nil, 0 // its requests have failed already
			r.mu.Unlock()
			closeGracefully(c.ws, "removed")
			c.cancel()
			return
		}
		f := c.queue[0]
		r.mu.Unlock()
		err := c.ws.Write(c.ctx, websocket.MessageText, f)
		r.mu.Lock()
		if len(c.queue) > 0 {
			c.queue = c.queue[1:]
			c.queued -= len(f)
		}
		if err == nil && !c.writable && c.queued < r.opts.LowWatermark && !c.lost && c.inst.conn == c {
			c.writable = true
			r.instanceEvent(c.inst, StateWritable, c.queued)
		}
		r.mu.Unlock()
		if err != nil {
			r.lose(c, "write: "+err.Error())
			return
		}
	}
}

// closeGracefully runs the WebSocket close handshake within closeGrace.
func closeGracefully(ws *websocket.Conn, why string) {
	t := time.AfterFunc(closeGrace, func() { _ = ws.CloseNow() })
	defer t.Stop()
	_ = ws.Close(websocket.StatusNormalClosure, why)
}
