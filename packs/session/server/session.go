package server

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
)

// Defaults of Options.
const (
	DefaultPing         = 100 * time.Millisecond
	DefaultMaxRetention = 60 * time.Second
	DefaultBuffer       = 1024
	DefaultPrincipal    = "faultline"
	DefaultCredentials  = "faultline"
)

// Bounds on every wait of a connection, so that no peer can hold the server.
const (
	helloTimeout = 2 * time.Second // upgrade request and first frame must arrive within this
	writeTimeout = 2 * time.Second // a frame not written by then means the connection is lost
	closeGrace   = time.Second     // close handshake bound before the socket is just closed
)

// Options configures a session server. Zero values mean the defaults.
type Options struct {
	Ping         time.Duration // system ping period announced in welcome/resumed; pings are sent at this period
	MaxRetention time.Duration // server maximum for keeping a disconnected session
	Buffer       int           // per-session recovery buffer, in messages
	Principal    string        // accepted principal
	Credentials  string        // accepted credentials
	Listen       string        // host:port to listen on; default 127.0.0.1:0
	// Migration (migrate.go): the context store shared with the other
	// servers (nil: none until SetPeers), and the grace (default
	// fakeserver.DefaultMigrationGrace).
	Store          fakeserver.ContextStore
	MigrationGrace time.Duration
}

func (o Options) withDefaults() Options {
	if o.Ping <= 0 {
		o.Ping = DefaultPing
	}
	if o.MaxRetention <= 0 {
		o.MaxRetention = DefaultMaxRetention
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.Principal == "" {
		o.Principal = DefaultPrincipal
	}
	if o.Credentials == "" {
		o.Credentials = DefaultCredentials
	}
	return o
}

// Server is the fake session server: the server side of package wire,
// with reconnect retention and a per-session recovery buffer.
type Server struct {
	name string
	rec  history.Recorder
	opts Options
	ln   *fakeserver.RecListener
	hs   *http.Server

	ctx       context.Context // cancelled by Close: ends every connection
	cancel    context.CancelFunc
	serveDone chan struct{}
	handlers  sync.WaitGroup // one per upgraded connection
	closeOnce sync.Once
	closeErr  error

	mu       sync.Mutex // guards everything below and every session and wsConn's guarded fields
	closed   bool
	seq      map[string]int64 // last seq per topic
	sessions map[string]*session
	mx       serverExtra // migration and row pacing (migrate.go, requests.go)
}

var (
	_ fakeserver.Server        = (*Server)(nil)
	_ fakeserver.Publisher     = (*Server)(nil)
	_ fakeserver.SessionCloser = (*Server)(nil)
)

// Start starts a session server named name on opts.Listen (default
// 127.0.0.1:0), recording into rec (nil records nothing).
func Start(name string, rec history.Recorder, opts Options) (*Server, error) {
	if rec == nil {
		rec = history.Nop{}
	}
	addr := opts.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		name:      name,
		rec:       rec,
		opts:      opts.withDefaults(),
		serveDone: make(chan struct{}),
		seq:       map[string]int64{},
		sessions:  map[string]*session{},
	}
	s.mx.store = opts.Store
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.ln = fakeserver.NewRecListener(l, name, s.record)
	s.hs = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: helloTimeout,
		ErrorLog:          log.New(io.Discard, "", 0), // refused upgrades are not news
		// Lets the handler find the recording conn under the hijacked one.
		ConnContext: fakeserver.ConnContext,
	}
	s.hs.SetKeepAlivesEnabled(false) // one upgrade per TCP connection, as clients do
	go func() {
		defer close(s.serveDone)
		_ = s.hs.Serve(s.ln)
	}()
	return s, nil
}

// Name is the server's name in the history.
func (s *Server) Name() string { return s.name }

// Addr is the listening host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the WebSocket URL clients dial.
func (s *Server) URL() string { return "ws://" + s.Addr() + "/" }

// Close stops the listener, every connection and every timer, and returns
// once no goroutine of the server is left. Sessions end without events: the
// run is over. Close is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.ln.Shut()
		s.mu.Lock()
		s.closed = true
		for _, sess := range s.sessions {
			sess.stopTimer()
			sess.mx.stopTimers()
		}
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

// record stamps the server's identity on e; the recorder stamps the time.
func (s *Server) record(e history.Event) {
	e.Source = history.SrcServer
	e.Server = s.name
	s.rec.Record(e)
}
