package server

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
)

// Kind is the server kind's name in scenarios.
const Kind = "grpc"

// Defaults.
const (
	DefaultListen = "127.0.0.1:0"
	// DefaultRowEvery is the Rows pacing until the scenario sets one.
	DefaultRowEvery = 20 * time.Millisecond
	// DefaultKeepaliveMinTime is the keepalive enforcement policy's MinTime:
	// clients may ping as often as they like (grpc-go's default, 5 min with
	// PermitWithoutStream false, answers a 10 s client keepalive with
	// GOAWAY too_many_pings after three strikes: keepalive/keepalive.go
	// EnforcementPolicy, internal/transport/http2_server.go handlePing).
	// Zero would mean grpc-go's default again, hence one millisecond.
	DefaultKeepaliveMinTime = time.Millisecond
	// DefaultMaxPending bounds a Subscribe stream's queue of messages not
	// yet handed to grpc-go.
	DefaultMaxPending = 4096
	// grpc-go's server keepalive defaults (internal/transport/defaults.go):
	// a PING after 2 h without reads, the connection closed 20 s later if
	// nothing came; Timeout is also its TCP_USER_TIMEOUT.
	grpcKeepaliveTime    = 2 * time.Hour
	grpcKeepaliveTimeout = 20 * time.Second
)

// Options configure a server. Zero values mean the defaults above.
type Options struct {
	// Listen is the host:port to listen on (default "127.0.0.1:0": a free
	// port, kept for refuse/admit and for a restart).
	Listen string
	// Ping turns on the server's keepalive: a PING after Ping without
	// reading anything, the connection closed (reason keepalive) when
	// nothing is read for Ping after it (keepalive.ServerParameters{Time,
	// Timeout}; grpc-go raises a Time under 1 s to 1 s). 0: grpc-go's
	// defaults (2 h, 20 s).
	Ping time.Duration
	// RowEvery is the Rows pacing until PaceRows sets another.
	RowEvery time.Duration
	// KeepaliveMinTime is the enforcement policy's MinTime (tests set
	// grpc-go's 5 min to show what the default would do).
	KeepaliveMinTime time.Duration
	// MaxPending bounds a Subscribe stream's queue.
	MaxPending int
}

func (o Options) withDefaults() Options {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.RowEvery <= 0 {
		o.RowEvery = DefaultRowEvery
	}
	if o.KeepaliveMinTime <= 0 {
		o.KeepaliveMinTime = DefaultKeepaliveMinTime
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	return o
}

// keepaliveParams are the server keepalive parameters Options give.
func (o Options) keepaliveParams() keepalive.ServerParameters {
	if o.Ping <= 0 {
		return keepalive.ServerParameters{Time: grpcKeepaliveTime, Timeout: grpcKeepaliveTimeout}
	}
	t := max(o.Ping, time.Second) // grpc.KeepaliveParams: internal.KeepaliveMinServerPingTime
	return keepalive.ServerParameters{Time: t, Timeout: t}
}

// Server is a grpc-go server with faultline's evidence and levers. Its
// methods are safe for concurrent use.
type Server struct {
	name    string
	startID string
	rec     history.Recorder
	opts    Options
	addr    string // the address bound at Start (refuse/admit reopen it)
	grpcOpt []grpc.ServerOption
	health  *health.Server

	actMu   sync.Mutex  // serialises refuse, admit, goaway and close
	killing atomic.Bool // Close began: every close from now on is killed

	mu          sync.Mutex
	closed      bool
	quit        chan struct{} // closed by Close
	tcp         net.Listener  // nil while refused
	acceptDone  chan struct{} // closed when tcp's accept loop ends
	acceptClose bool
	n           int64
	conns       map[*conn]bool // open connections
	serving     int            // grpc.Servers not yet stopped (one per connection)
	pace        time.Duration
	wg          sync.WaitGroup // each connection's grpc.Server, each drain

	pubMu sync.Mutex // publishes and subscriptions
	seq   map[string]int64
	subs  map[string]map[*subscriber]bool
}

var (
	_ fakeserver.Server        = (*Server)(nil)
	_ fakeserver.Publisher     = (*Server)(nil)
	_ fakeserver.SessionCloser = (*Server)(nil)
	_ fakeserver.RowPacer      = (*Server)(nil)
)

// Start starts a gRPC server named name, recording into rec.
func Start(name string, rec history.Recorder, opts Options) (*Server, error) {
	if rec == nil {
		rec = history.Nop{}
	}
	opts = opts.withDefaults()
	l, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("grpc %s: %w", name, err)
	}
	s := &Server{name: name, startID: newStartID(), rec: rec, opts: opts, addr: l.Addr().String(), health: health.NewServer(),
		quit: make(chan struct{}), conns: map[*conn]bool{}, pace: opts.RowEvery,
		seq: map[string]int64{}, subs: map[string]map[*subscriber]bool{}}
	s.grpcOpt = []grpc.ServerOption{
		grpc.StatsHandler(statsHandler{}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: opts.KeepaliveMinTime, PermitWithoutStream: true}),
		grpc.KeepaliveParams(opts.keepaliveParams()),
		grpc.WaitForHandlers(true), // Stop (kill) returns once every handler did
		grpc.UnknownServiceHandler(unknownMethod),
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.mu.Lock()
	s.listenLocked(l)
	s.mu.Unlock()
	return s, nil
}

// newStartID is 8 random characters of the base32 alphabet: what makes the
// sessions of one start of the server unlike those of any other.
func newStartID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// listenLocked serves l: its accept loop hands each connection on.
func (s *Server) listenLocked(l net.Listener) {
	s.tcp = l
	done := make(chan struct{})
	s.acceptDone = done
	go s.acceptLoop(l, done)
}

func (s *Server) acceptLoop(l net.Listener, done chan struct{}) {
	defer close(done)
	var delay time.Duration
	for {
		raw, err := l.Accept()
		if err != nil {
			var ne interface{ Temporary() bool }
			if errors.Is(err, net.ErrClosed) || !errors.As(err, &ne) || !ne.Temporary() {
				return
			}
			// out of file descriptors and the like: back off as grpc-go's
			// Serve does (5 ms doubling to 1 s)
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.quit:
				t.Stop()
				return
			}
			continue
		}
		delay = 0
		s.admit(raw)
	}
}

// admit records a new connection and serves it with a grpc.Server of its
// own (or closes it: accept_then_close, or the server is being killed).
func (s *Server) admit(raw net.Conn) {
	setUserTimeout(raw, s.opts.keepaliveParams().Timeout)
	s.mu.Lock()
	s.n++
	c := newConn(s, raw, s.n)
	s.conns[c] = true
	s.record(history.Event{Kind: history.KindAccept, Conn: c.id, Attrs: map[string]string{"remote": raw.RemoteAddr().String()}})
	var why string
	switch {
	case s.closed:
		why = ReasonKilled
	case s.acceptClose:
		why = ReasonAcceptClose
	default:
		c.gs = s.newGRPCServer()
		s.serving++
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if why != "" {
		c.closeWith(why)
		return
	}
	go s.serve(c)
}

// newGRPCServer is a grpc.Server for one connection: grpc-go can send
// GOAWAY only to all the connections of a grpc.Server at once
// (GracefulStop), so each connection has its own, and the goaway action
// gracefully stops those of the connections open then. A connection whose
// handshake is still under way holds only its own GracefulStop (server.go
// stop: serveWG.Wait), and gets its GOAWAY once its transport is up, as from
// any grpc-go server.
func (s *Server) newGRPCServer() *grpc.Server {
	gs := grpc.NewServer(s.grpcOpt...)
	healthpb.RegisterHealthServer(gs, s.health)
	gs.RegisterService(&FeedDesc, feed{s})
	return gs
}

// serve runs the connection's grpc.Server until the connection is closed
// (its listener's second Accept returns then) or the server is stopped,
// then stops it, which returns once the connection's handlers did.
func (s *Server) serve(c *conn) {
	defer s.wg.Done()
	ln := &oneConn{c: c, done: make(chan struct{})}
	_ = c.gs.Serve(ln)
	if !ln.taken() {
		// stopped (a goaway, the kill) before Serve took it: grpc-go
		// closed only the listener
		_ = c.Close()
	}
	c.gs.Stop()
	s.mu.Lock()
	s.serving--
	s.mu.Unlock()
}

// forget drops a closed connection.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// record stamps the server's identity on e and records it.
func (s *Server) record(e history.Event) {
	e.Source = history.SrcServer
	e.Server = s.name
	s.rec.Record(e)
}

// Name is the server's scenario name.
func (s *Server) Name() string { return s.name }

// Addr is host:port.
func (s *Server) Addr() string { return s.addr }

// URL is "grpc://" + Addr().
func (s *Server) URL() string { return "grpc://" + s.addr }

// StartID is the random part of this start's session ids.
func (s *Server) StartID() string { return s.startID }

// Close stops the server for good (the topology's kill, or the run's end):
// the listener, then every connection (conn.close reason killed), then each
// connection's grpc.Server is stopped, which returns once its handlers
// did. It records no process event.
func (s *Server) Close() error {
	s.actMu.Lock()
	defer s.actMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.killing.Store(true)
	close(s.quit)
	l, done := s.tcp, s.acceptDone
	s.tcp = nil
	s.mu.Unlock()
	if l != nil {
		_ = l.Close()
		<-done
	}
	// Closed here rather than by Stop: a connection still in its HTTP/2
	// handshake would hold Stop until grpc-go's connection timeout (120 s).
	for _, c := range s.openConns() {
		c.closeWith(ReasonKilled)
	}
	s.wg.Wait()
	return nil
}

// openConns are the open connections.
func (s *Server) openConns() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// oneConn is a connection's grpc.Server's listener: its one connection,
// then nothing until the connection is closed or the listener is.
type oneConn struct {
	c    *conn
	mu   sync.Mutex
	took bool
	once sync.Once
	done chan struct{}
}

func (l *oneConn) Accept() (net.Conn, error) {
	l.mu.Lock()
	first := !l.took
	l.took = true
	l.mu.Unlock()
	if first {
		return l.c, nil
	}
	select {
	case <-l.c.gone:
	case <-l.done:
	}
	return nil, net.ErrClosed
}

func (l *oneConn) taken() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.took
}

func (l *oneConn) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *oneConn) Addr() net.Addr { return l.c.LocalAddr() }
