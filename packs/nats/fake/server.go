package fake

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"net"
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
	name     string
	rec      history.Recorder
	opts     Options
	addr     string       // bound at Start
	ln       net.Listener // closed by LameDuck and Close
	port     int
	serverID string // INFO server_id: FAKE_<NAME>_<random>, a new one on every Start

	wg sync.WaitGroup // the accept loop, readers, writers, timer callbacks

	mu          sync.Mutex // guards everything below and every conn's and sub's guarded fields
	closed      bool
	lnClosed    bool
	lame        bool
	ldTimer     *time.Timer
	cids        uint64 // the last client id; also the n of the last Conn "<name>#<n>"
	conns       map[*conn]struct{}
	subs        subIndex
	seq         map[string]int64 // last Publish seq per subject
	peers       []string         // SetPeers
	announced   []string         // the last Announce's urls
	announceVer int              // bumped by every Announce; 0: never announced
	refuse      string
	withhold    bool

	urlNames map[string]string // AnnounceNamed: announced URL → server name
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
	s := &Server{name: name, rec: rec, opts: opts, addr: ln.Addr().String(), ln: ln,
		serverID: newServerID(name),
		conns:    map[*conn]struct{}{},
		subs:     newSubIndex(),
		seq:      map[string]int64{},
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		s.port = a.Port
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// newServerID is FAKE_<NAME>_<8 random base32 characters>: unique per Start,
// as the real nats-server's ids are, so that a server started again on the
// same address (the topology's restart) names its sessions afresh.
func newServerID(name string) string {
	var b [5]byte
	_, _ = rand.Read(b[:]) // crypto/rand's Read never fails
	return "FAKE_" + strings.ToUpper(name) + "_" + base32.StdEncoding.EncodeToString(b[:])
}

// Name is the server's name in the history.
func (s *Server) Name() string { return s.name }

// Addr is the listening host:port.
func (s *Server) Addr() string { return s.addr }

// URL is what clients dial.
func (s *Server) URL() string { return "nats://" + s.addr }

// ServerID is the INFO server_id ("" once closed): FAKE_<NAME>_<random>,
// see newServerID.
func (s *Server) ServerID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ""
	}
	return s.serverID
}

// Close stops the listener, every connection and every timer, and returns
// once no goroutine of the server is left. It records nothing: the run is
// over, or the topology records the kill it is part of. Close is
// idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.stopListening()
	for c := range s.conns {
		c.stopPings()
		c.close("", false)
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// stopListening closes the listener and the lame duck timer; with s.mu held.
func (s *Server) stopListening() error {
	if s.ldTimer != nil {
		s.ldTimer.Stop()
	}
	if s.lnClosed {
		return nil
	}
	s.lnClosed = true
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
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

// info is the INFO for the connection with client id cid.
func (s *Server) info(cid uint64) wire.Info {
	host, _, _ := net.SplitHostPort(s.addr)
	in := wire.Info{ServerID: s.serverID, ServerName: s.name, Version: Version, Proto: 1, Host: host,
		Port: s.port, Headers: true, MaxPayload: int64(s.opts.MaxPayload), ClientID: cid}
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
