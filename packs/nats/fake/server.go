package fake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/nats/wire"
)

// Kind is the server kind's name in scenarios.
const Kind = "nats"

// Defaults of Options.
const (
	DefaultMaxPayload    = wire.DefaultMaxPayload
	DefaultMaxPingsOut   = 2 // nats-server's
	DefaultMaxPending    = 8 << 20
	DefaultWriteDeadline = 2 * time.Second
	// Version is the nats-server version the fake claims in INFO: one whose
	// protocol (headers, no_responders) nats.go uses in full.
	Version = "2.10.0"
)

// Options configures a fake server. Zero values mean the defaults.
type Options struct {
	Listen string // host:port; default "127.0.0.1:0"
	// PingInterval is the period of the server's own PINGs to a client that
	// sent CONNECT; 0 sends none. After MaxPingsOut unanswered (default 2)
	// the next tick closes the connection as stale, as nats-server does.
	PingInterval time.Duration
	MaxPingsOut  int
	MaxPayload   int // INFO max_payload and the parser's limit; default 1 MiB
	// MaxPending bounds the bytes queued to one connection; a client that
	// falls that far behind is dropped as a slow consumer (default 8 MiB).
	MaxPending int
	// WriteDeadline bounds every write to a socket (default 2s): a client
	// that stops reading is dropped then, not waited for.
	WriteDeadline time.Duration
	// Peers is consulted for the connect_urls of Announce(nil) and of lame
	// duck mode when nothing was announced, unless SetPeers set a list. It
	// is called with the server's lock held: it must not call the server.
	Peers func() []string
}

func (o Options) withDefaults() Options {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.MaxPingsOut <= 0 {
		o.MaxPingsOut = DefaultMaxPingsOut
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.WriteDeadline <= 0 {
		o.WriteDeadline = DefaultWriteDeadline
	}
	return o
}

// Server is a fake NATS server. Its methods are safe for concurrent use.
type Server struct {
	name string
	rec  history.Recorder
	opts Options
	addr string // bound at Start; every incarnation listens here

	wg sync.WaitGroup // accept loops, readers, writers, timer callbacks

	mu          sync.Mutex // guards everything below and every conn's and sub's guarded fields
	closed      bool
	cur         *incarnation // nil while killed
	incs        int          // incarnations started
	connN       int64        // last connection number: never reset, so Conn stays unique across restarts
	peers       []string     // SetPeers
	announced   []string     // the last Announce's urls
	announceVer int          // bumped by every Announce; 0: never announced
	refuse      string
	withhold    bool

	urlNames map[string]string // AnnounceNamed: announced URL → server name
}

// incarnation is one life of the server, from Start or Restart to Kill:
// what a process would hold in memory.
type incarnation struct {
	serverID string
	ln       net.Listener
	port     int
	lame     bool
	ldTimer  *time.Timer
	cids     uint64
	conns    map[*conn]struct{}
	subs     subIndex
	seq      map[string]int64 // last Publish seq per subject
	lnClosed bool
}

// Start starts a fake NATS server named name, recording into rec (nil
// records nothing).
func Start(name string, rec history.Recorder, opts Options) (*Server, error) {
	if rec == nil {
		rec = history.Nop{}
	}
	opts = opts.withDefaults()
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, err
	}
	s := &Server{name: name, rec: rec, opts: opts, addr: ln.Addr().String()}
	s.mu.Lock()
	s.startIncarnation(ln)
	s.mu.Unlock()
	return s, nil
}

// Name is the server's name in the history.
func (s *Server) Name() string { return s.name }

// Addr is the listening host:port (the same across restarts).
func (s *Server) Addr() string { return s.addr }

// URL is what clients dial.
func (s *Server) URL() string { return "nats://" + s.addr }

// ServerID is the INFO server_id of the running incarnation ("" while
// killed): FAKE_<NAME>_<incarnation>.
func (s *Server) ServerID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return ""
	}
	return s.cur.serverID
}

// Close stops the listener, every connection and every timer, and returns
// once no goroutine of the server is left. It records nothing: the run is
// over. Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var err error
	if inc := s.cur; inc != nil {
		s.cur = nil
		err = inc.stop()
		for c := range inc.conns {
			c.stopPings()
			c.close("", false)
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// Kill ends the running incarnation at once, as a killed process: the
// listener closes (dials are refused), every connection closes (reason
// killed), subscriptions and publish sequences are gone. It records
// process.kill, as the topology does for the servers it kills.
func (s *Server) Kill(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server is closed")
	}
	if s.cur == nil {
		return errors.New("already killed")
	}
	s.killLocked()
	return nil
}

// Restart starts a fresh incarnation on the same address (a new server_id,
// client ids from 1 again, connection ids continuing), killing the running
// one first if there is one (a bounce). It records process.start.
func (s *Server) Restart(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server is closed")
	}
	if s.cur != nil {
		s.killLocked()
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen again on %s: %w", s.addr, err)
	}
	s.startIncarnation(ln)
	s.record(history.Event{Kind: history.KindRestart})
	return nil
}

func (s *Server) killLocked() {
	inc := s.cur
	s.cur = nil
	_ = inc.stop()
	for c := range inc.conns {
		c.stopPings()
		c.close(ReasonKilled, true)
	}
	s.record(history.Event{Kind: history.KindKill})
}

func (s *Server) startIncarnation(ln net.Listener) {
	s.incs++
	inc := &incarnation{
		serverID: "FAKE_" + strings.ToUpper(s.name) + "_" + strconv.Itoa(s.incs),
		ln:       ln,
		conns:    map[*conn]struct{}{},
		subs:     newSubIndex(),
		seq:      map[string]int64{},
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		inc.port = a.Port
	}
	s.cur = inc
	s.wg.Add(1)
	go s.acceptLoop(inc)
}

// stop closes the incarnation's listener and its lame duck timer.
func (inc *incarnation) stop() error {
	if inc.ldTimer != nil {
		inc.ldTimer.Stop()
	}
	if inc.lnClosed {
		return nil
	}
	inc.lnClosed = true
	if err := inc.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// afterFunc runs f after d unless the server is closed by then; a running
// f is waited for by Close, so no callback outlives the server.
func (s *Server) afterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(d, func() {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		defer s.wg.Done()
		f()
	})
}

// info is the INFO for a connection of inc.
func (s *Server) info(inc *incarnation, cid uint64) wire.Info {
	host, _, _ := net.SplitHostPort(s.addr)
	in := wire.Info{ServerID: inc.serverID, ServerName: s.name, Version: Version, Proto: 1, Host: host,
		Port: inc.port, Headers: true, MaxPayload: int64(s.opts.MaxPayload), ClientID: cid}
	if s.announceVer > 0 {
		in.ConnectURLs = append([]string(nil), s.announced...)
	}
	return in
}

// peerList is the list SetPeers set, else Options.Peers'.
func (s *Server) peerList() []string {
	if s.peers != nil {
		return append([]string(nil), s.peers...)
	}
	if s.opts.Peers != nil {
		return s.opts.Peers()
	}
	return nil
}
