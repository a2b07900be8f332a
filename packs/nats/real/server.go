package real

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
)

// Kind is the server kind's name in scenarios.
const Kind = "nats-server"

// Defaults. nats-server's own defaults are minutes (ping every 2m, lame duck
// over 2m after a 10s grace): far too slow for a scenario, so a server here
// pings every 2s and finishes a lame duck in 2s.
const (
	DefaultListen           = "127.0.0.1:0"
	DefaultPingInterval     = 2 * time.Second        // nats-server: 2m
	DefaultMaxPingsOut      = 2                      // nats-server: 2
	DefaultLameDuckDuration = 2 * time.Second        // nats-server: 2m
	DefaultLameDuckGrace    = 500 * time.Millisecond // nats-server: 10s
	DefaultAuthTimeout      = 2 * time.Second        // nats-server: 2s (AUTH_TIMEOUT)
	readyTimeout            = 5 * time.Second
)

// Options configure the embedded server. Zero values mean the defaults above.
type Options struct {
	// Listen is the host:port to listen on (default "127.0.0.1:0": a free
	// port).
	Listen string
	// PingInterval is how often the server pings each client; after
	// MaxPingsOut unanswered pings it closes the connection (stale).
	PingInterval time.Duration
	MaxPingsOut  int
	// LameDuckDuration is the whole of a lame duck: after LameDuckGrace the
	// server closes its clients one by one over the rest of it, then shuts
	// down. LameDuckGrace must be shorter than LameDuckDuration.
	LameDuckDuration time.Duration
	LameDuckGrace    time.Duration
	// AuthTimeout is how long a connection may take to send CONNECT (see
	// the package comment: admitting every CONNECT turns it on).
	AuthTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.MaxPingsOut <= 0 {
		o.MaxPingsOut = DefaultMaxPingsOut
	}
	if o.LameDuckDuration <= 0 {
		o.LameDuckDuration = DefaultLameDuckDuration
	}
	if o.LameDuckGrace <= 0 {
		o.LameDuckGrace = min(DefaultLameDuckGrace, o.LameDuckDuration/2)
	}
	if o.AuthTimeout <= 0 {
		o.AuthTimeout = DefaultAuthTimeout
	}
	return o
}

// Server is an embedded nats-server. Its methods are safe for concurrent
// use.
type Server struct {
	name string
	rec  history.Recorder
	opts Options // Listen is the address bound at Start
	host string
	port int

	conns atomic.Int64 // the last n of "<name>#<n>"
	inc   *incarnation // the nats-server, from Start on

	mu     sync.Mutex // serialises lame duck, close connections and close
	closed bool

	pubMu sync.Mutex // serialises publishes; taken before mu, never after
	pub   *publisher
	dials pubDials
}

var _ fakeserver.Server = (*Server)(nil)

// Start starts a real nats-server named name, recording into rec.
func Start(name string, rec history.Recorder, opts Options) (*Server, error) {
	if rec == nil {
		rec = history.Nop{}
	}
	opts = opts.withDefaults()
	if opts.LameDuckGrace >= opts.LameDuckDuration {
		return nil, fmt.Errorf("nats-server %s: lame duck grace %v must be shorter than the lame duck duration %v",
			name, opts.LameDuckGrace, opts.LameDuckDuration)
	}
	host, ps, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats-server %s: listen %q: %w", name, opts.Listen, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("nats-server %s: listen %q: bad port", name, opts.Listen)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	s := &Server{name: name, rec: rec, opts: opts, host: host, port: port}
	inc, err := s.startIncarnation()
	if err != nil {
		return nil, err
	}
	s.inc = inc
	return s, nil
}

// startIncarnation starts the nats-server on s.host:s.port (port 0: a free
// one, kept in s.port and Options.Listen).
func (s *Server) startIncarnation() (*incarnation, error) {
	inc := newIncarnation(s)
	port := s.port
	if port == 0 {
		port = server.RANDOM_PORT // 0 would be nats-server's 4222
	}
	so := &server.Options{
		ServerName:                 strings.Join(strings.Fields(s.name), "_"),
		Host:                       s.host,
		Port:                       port,
		NoLog:                      true,
		NoSigs:                     true,
		PingInterval:               s.opts.PingInterval,
		MaxPingsOut:                s.opts.MaxPingsOut,
		LameDuckDuration:           s.opts.LameDuckDuration,
		LameDuckGracePeriod:        s.opts.LameDuckGrace,
		AuthTimeout:                s.opts.AuthTimeout.Seconds(),
		CustomClientAuthentication: auth{inc},
	}
	ns, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("nats-server %s: %w", s.name, err)
	}
	inc.ns = ns
	inc.id = ns.ID()
	ns.SetLogger(logger{inc}, true, false)
	ns.Start()
	if !ready(ns, inc) {
		ns.Shutdown()
		ns.WaitForShutdown()
		why := inc.fatal()
		if why == "" {
			why = "not ready for connections within " + readyTimeout.String()
		}
		return nil, fmt.Errorf("nats-server %s on %s: %s", s.name, net.JoinHostPort(s.host, strconv.Itoa(s.port)), why)
	}
	if s.port == 0 {
		a, ok := ns.Addr().(*net.TCPAddr)
		if !ok {
			ns.Shutdown()
			ns.WaitForShutdown()
			return nil, fmt.Errorf("nats-server %s: no TCP address", s.name)
		}
		s.port = a.Port
		s.opts.Listen = net.JoinHostPort(s.host, strconv.Itoa(s.port))
	}
	return inc, nil
}

// Name is the server's scenario name.
func (s *Server) Name() string { return s.name }

// Addr is host:port.
func (s *Server) Addr() string { return s.opts.Listen }

// URL is "nats://" + Addr().
func (s *Server) URL() string { return "nats://" + s.Addr() }

// ServerID is the nats-server's server_id (INFO.server_id), random per
// Start; "" once closed.
func (s *Server) ServerID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ""
	}
	return s.inc.id
}

// Close stops the server for good (the topology's kill, or the run's end);
// its clients' connections close with reason killed. It records no process
// event.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		s.inc.shutdown()
	}
	s.mu.Unlock()
	s.pubMu.Lock()
	if s.pub != nil {
		s.pub.close()
		s.pub = nil
	}
	s.pubMu.Unlock()
	return nil
}

// LameDuck puts the server in lame duck mode (nats-server's
// LameDuckShutdown, run in the background): it stops accepting at once,
// sends INFO {"ldm":true} to its clients, waits LameDuckGrace, closes them
// one by one (reason lame_duck) and shuts down. It does nothing on a closed
// server or one already in lame duck.
func (s *Server) LameDuck() {
	s.mu.Lock()
	defer s.mu.Unlock()
	inc := s.inc
	if s.closed || inc.lameDuck.Load() {
		return
	}
	inc.lameDuck.Store(true)
	s.rec.Record(history.Event{Source: history.SrcServer, Kind: KindLameDuck, Server: s.name,
		Attrs: map[string]string{
			"grace_ms":    strconv.FormatInt(s.opts.LameDuckGrace.Milliseconds(), 10),
			"duration_ms": strconv.FormatInt(s.opts.LameDuckDuration.Milliseconds(), 10),
		}})
	inc.bg.Add(1)
	go func() {
		defer inc.bg.Done()
		inc.ns.LameDuckShutdown()
	}()
}

// CloseConnections disconnects every client of the running server (reason
// server_close); the server keeps accepting.
func (s *Server) CloseConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	ns := s.inc.ns
	var cids []uint64
	const page = 1024
	for off := 0; ; off += page {
		cz, err := ns.Connz(&server.ConnzOptions{State: server.ConnOpen, Sort: server.ByCid, Offset: off, Limit: page})
		if err != nil {
			break
		}
		for _, ci := range cz.Conns {
			if ci.Name == PublisherName || s.inc.isPublisherCid(ci.Cid) {
				continue
			}
			cids = append(cids, ci.Cid)
		}
		if len(cz.Conns) < page {
			break
		}
	}
	for _, cid := range cids {
		_ = ns.DisconnectClientByID(cid) // gone already: nothing to do
	}
}

// KindLameDuck and the other NATS-only kinds of the pack's vocabulary.
const (
	KindLameDuck = "nats.lame_duck"
	KindConnect  = "nats.connect"
)

// ready waits for the server to accept clients, or to have said why it
// cannot (a listen error goes to Fatalf), within readyTimeout.
func ready(ns *server.Server, inc *incarnation) bool {
	deadline := time.Now().Add(readyTimeout)
	for {
		if ns.ReadyForConnections(25 * time.Millisecond) {
			return true
		}
		if inc.fatal() != "" || time.Now().After(deadline) {
			return false
		}
	}
}
