// Package instance is the platform pack's server: a fake platform instance
// (server kind "instance"), the upstream a router (after ThingWorx's
// Connection Server) routes ingress messages to, speaking the server side of
// wire/platform. It records accept, route.connect, route.receive and
// conn.close (packs/platform/EVENTS.md).
package instance

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire/platform"
)

// Server-side kinds recorded by an instance (kind "instance"), the fake
// platform instance a router (ThingWorx's Connection Server) routes ingress
// messages to. Besides these it records accept and conn.close like every fake
// server.
const (
	// KindRouteConnect: a router's hello was accepted on Conn; the instance
	// counts as connected to that router from here until the conn.close.
	// Attrs{router}.
	KindRouteConnect = "route.connect"
	// KindRouteReceive: one part of an ingress message arrived on Conn.
	// Attrs{id, part, parts, edge, bytes (the frame's size as read)}.
	KindRouteReceive = "route.receive"
)

// Reasons of an instance's conn.close beyond the listener's.
const (
	ReasonClosedByRouter = "closed_by_router" // the router closed the connection deliberately (WebSocket close)
	ReasonTransport      = "transport"        // read or write failed, or EOF
	ReasonBadHello       = "handshake_rejected"
	ReasonBadFrame       = "bad_frame"
	ReasonOverflow       = "overflow"
	ReasonShutdown       = "shutdown"
)

// DefaultPing is the ping period an instance announces (and keeps).
const DefaultPing = 100 * time.Millisecond

// Bounds on every wait of a connection, so that no router can hold the
// instance (the same as the session server's).
const (
	helloTimeout = 2 * time.Second // upgrade request and hello must arrive within this
	writeTimeout = 2 * time.Second // a frame not written by then means the connection is lost
)

// Options configures an instance. Zero values mean the defaults.
type Options struct {
	Ping time.Duration // ping period announced in welcome; a ping is sent at this period
	// Listen is the host:port to listen on (default 127.0.0.1:0); a serve
	// process in a container listens on ":port", where its link reaches it.
	Listen string
}

// Server is a fake platform instance: it takes the parts of ingress
// messages a router sends it, records each one (which message, which part)
// and acknowledges it. It keeps no state across connections.
type Server struct {
	name string
	rec  history.Recorder
	opts Options
	ln   *fakeserver.RecListener
	hs   *http.Server

	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	serveDone chan struct{}
	handlers  sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	closed bool
}

var _ fakeserver.Server = (*Server)(nil)

// Start starts an instance named name on opts.Listen (default
// 127.0.0.1:0), recording into rec (nil records nothing).
func Start(name string, rec history.Recorder, opts Options) (*Server, error) {
	if rec == nil {
		rec = history.Nop{}
	}
	if opts.Ping <= 0 {
		opts.Ping = DefaultPing
	}
	addr := opts.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{name: name, rec: rec, opts: opts, serveDone: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.ln = fakeserver.NewRecListener(l, name, s.record)
	s.hs = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: helloTimeout,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnContext:       fakeserver.ConnContext,
	}
	s.hs.SetKeepAlivesEnabled(false)
	go func() {
		defer close(s.serveDone)
		_ = s.hs.Serve(s.ln)
	}()
	return s, nil
}

// Name is the instance's name in the history.
func (s *Server) Name() string { return s.name }

// Addr is the listening host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the WebSocket URL a router dials.
func (s *Server) URL() string { return "ws://" + s.Addr() + "/" }

// Close stops the listener and every connection, and returns once no
// goroutine of the instance is left. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.ln.Shut()
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		err := s.hs.Close()
		<-s.serveDone
		s.handlers.Wait()
		if err != nil && !errors.Is(err, net.ErrClosed) {
			s.closeErr = err
		}
	})
	return s.closeErr
}

func (s *Server) record(e history.Event) {
	e.Source = history.SrcServer
	e.Server = s.name
	s.rec.Record(e)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw := fakeserver.RawConn(r.Context())
	if raw == nil {
		http.Error(w, "no connection", http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return
	}
	raw.Claim()
	ws.SetReadLimit(platform.MaxFrame)
	ctx, cancel := context.WithCancel(s.ctx)
	c := &instConn{s: s, id: raw.ID(), ws: ws, ctx: ctx, cancel: cancel, out: make(chan platform.Frame, 4096), done: make(chan struct{})}
	reason := c.serve()
	if s.ctx.Err() != nil {
		reason = ReasonShutdown
	}
	raw.RecordClose(reason) // last: after every event of this connection
}

// instConn is one router connection: the handler goroutine reads, one writer
// goroutine writes acks and pings in order.
type instConn struct {
	s      *Server
	id     string
	ws     *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	out    chan platform.Frame
	done   chan struct{}

	mu     sync.Mutex
	reason string // first reason the connection ended
}

func (c *instConn) end(reason string) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason = reason
	}
	c.mu.Unlock()
	c.cancel()
}

func (c *instConn) serve() string {
	defer func() { _ = c.ws.CloseNow() }()
	if c.hello() {
		go c.writeLoop()
		c.readLoop()
		c.cancel()
		<-c.done
	}
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reason == "" {
		return ReasonTransport
	}
	return c.reason
}

// hello reads the router's hello within helloTimeout and welcomes it.
func (c *instConn) hello() bool {
	ctx, cancel := context.WithTimeout(c.ctx, helloTimeout)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		c.end(ReasonTransport)
		return false
	}
	f, err := platform.Decode(b)
	if err != nil || f.T != platform.THello {
		c.end(ReasonBadHello)
		return false
	}
	welcome := platform.Frame{T: platform.TWelcome, Instance: c.s.name, PingMS: c.s.opts.Ping.Milliseconds()}
	// Recorded before the welcome leaves: the router can only count the
	// instance connected after this record.
	c.s.record(history.Event{Kind: KindRouteConnect, Conn: c.id, Attrs: map[string]string{"router": f.Router}})
	if err := c.ws.Write(ctx, websocket.MessageText, platform.Encode(welcome)); err != nil {
		c.end(ReasonTransport)
		return false
	}
	return true
}

func (c *instConn) readLoop() {
	for {
		_, b, err := c.ws.Read(c.ctx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				c.end(ReasonClosedByRouter)
			} else {
				c.end(ReasonTransport)
			}
			return
		}
		f, err := platform.Decode(b)
		if err != nil || f.T != platform.TReq {
			c.end(ReasonBadFrame)
			return
		}
		c.s.record(history.Event{Kind: KindRouteReceive, Conn: c.id, Attrs: map[string]string{
			"id": f.ID, "part": strconv.Itoa(f.Part), "parts": strconv.Itoa(f.Parts), "edge": f.Edge, "bytes": strconv.Itoa(len(b)),
		}})
		select {
		case c.out <- platform.Frame{T: platform.TAck, ID: f.ID, Part: f.Part, Status: http.StatusOK}:
		default:
			c.end(ReasonOverflow) // a router that does not read its acks is lost
			return
		}
	}
}

func (c *instConn) writeLoop() {
	defer close(c.done)
	tick := time.NewTicker(c.s.opts.Ping)
	defer tick.Stop()
	for {
		var f platform.Frame
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
			f = platform.Frame{T: platform.TPing}
		case f = <-c.out:
		}
		ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
		err := c.ws.Write(ctx, websocket.MessageText, platform.Encode(f))
		cancel()
		if err != nil {
			c.end(ReasonTransport)
			return
		}
	}
}
