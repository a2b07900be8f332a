package fake

import (
	"errors"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/mqtt/wire"
)

// Kind is the server kind's name in scenarios.
const Kind = "mqtt"

// Defaults of Options.
const (
	DefaultMaxPacket      = wire.DefaultMaxPacket
	DefaultMaxPending     = 8 << 20
	DefaultMaxQueued      = 1000 // mosquitto's max_queued_messages
	DefaultWriteDeadline  = 2 * time.Second
	DefaultConnectTimeout = 10 * time.Second
)

// Options configures a fake broker. Zero values mean the defaults.
type Options struct {
	Listen string // host:port; default "127.0.0.1:0"
	// MaxPacket bounds a packet's remaining length (default 1 MiB): a
	// larger one closes the connection before it is read.
	MaxPacket int
	// MaxPending bounds the bytes queued to one connection; a client that
	// falls that far behind is dropped as a slow consumer (default 8 MiB).
	MaxPending int
	// MaxQueued bounds the unacknowledged QoS 1 messages a session holds
	// (default 1000); more are dropped (mqtt.drop queue_full).
	MaxQueued int
	// WriteDeadline bounds every write to a socket (default 2s).
	WriteDeadline time.Duration
	// ConnectTimeout is how long a connection may stay without CONNECT
	// (default 10s).
	ConnectTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.MaxPacket <= 0 {
		o.MaxPacket = DefaultMaxPacket
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = DefaultMaxQueued
	}
	if o.WriteDeadline <= 0 {
		o.WriteDeadline = DefaultWriteDeadline
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	return o
}

// Server is a fake MQTT broker. Its methods are safe for concurrent use.
// A killed broker is a closed one: the runner's topology starts a fresh
// one on the same address to restart it.
type Server struct {
	name string
	rec  history.Recorder
	opts Options
	ln   net.Listener
	addr string

	wg sync.WaitGroup // accept loop, readers, writers

	mu       sync.Mutex // guards everything below and every conn's and session's guarded fields
	closed   bool
	connN    int64
	autoN    int64
	conns    map[*conn]struct{}
	sessions map[string]*session // by client id
	seq      map[string]int64    // last Publish seq per topic
	refuse   byte                // CONNACK code for every CONNECT; 0 admits
	withhold bool
}

// Start starts a fake broker named name, recording into rec (nil records
// nothing).
func Start(name string, rec history.Recorder, opts Options) (*Server, error) {
	if rec == nil {
		rec = history.Nop{}
	}
	opts = opts.withDefaults()
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, err
	}
	s := &Server{name: name, rec: rec, opts: opts, ln: ln, addr: ln.Addr().String(),
		conns: map[*conn]struct{}{}, sessions: map[string]*session{}, seq: map[string]int64{}}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Name is the server's name in the history.
func (s *Server) Name() string { return s.name }

// Addr is the listening host:port.
func (s *Server) Addr() string { return s.addr }

// URL is what clients dial.
func (s *Server) URL() string { return "mqtt://" + s.addr }

// Close takes the broker down as a killed process goes: the listener and
// every connection close at once (conn.close killed), and every persistent
// session is gone (session.expire). It returns once no goroutine of the
// broker is left. Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	for c := range s.conns {
		c.close(ReasonKilled)
	}
	ids := make([]string, 0, len(s.sessions))
	for id, sess := range s.sessions {
		if !sess.clean {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		s.expire(s.sessions[id], "killed")
	}
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// acceptLoop takes connections until the listener closes.
func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // out of descriptors and the like: go on, a little later
			continue
		}
		s.admit(nc)
	}
}

// admit records the accept and starts the connection's reader and writer.
// The client speaks first (CONNECT), within ConnectTimeout.
func (s *Server) admit(nc net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = nc.Close()
		return
	}
	s.connN++
	c := newConn(s, nc, s.name+"#"+strconv.FormatInt(s.connN, 10))
	s.record(history.Event{Kind: history.KindAccept, Conn: c.id})
	s.conns[c] = struct{}{}
	_ = nc.SetReadDeadline(time.Now().Add(s.opts.ConnectTimeout))
	s.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
}

// dropConn forgets a connection whose reader has ended; its session goes
// offline (persistent), or is gone (clean, or expired meanwhile).
func (s *Server) dropConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	s.detach(c)
}

// detach ends c's hold on its session; with s.mu held.
func (s *Server) detach(c *conn) {
	sess := c.sess
	if sess == nil || sess.conn != c {
		return
	}
	sess.conn = nil
	switch {
	case s.sessions[sess.clientID] != sess:
	case sess.clean:
		delete(s.sessions, sess.clientID)
	case sess.expireOnEnd:
		s.expire(sess, "expire_sessions")
	}
}

// expire discards a persistent session and records it; with s.mu held.
func (s *Server) expire(sess *session, why string) {
	if s.sessions[sess.clientID] == sess {
		delete(s.sessions, sess.clientID)
	}
	s.record(history.Event{Kind: history.KindSessionExpire, Session: sess.id,
		Attrs: map[string]string{"client_id": sess.clientID, "why": why, "dropped": strconv.Itoa(len(sess.pending))}})
}
