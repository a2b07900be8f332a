package server

import (
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/faultline/faultline/harness/history"
)

// conn is a client connection as the server holds it: the raw TCP
// connection wrapped, so that what grpc-go reads and writes goes past the
// frame scanners, and its close is recorded once with the reason the
// evidence gives. grpc-go is handed the conn itself; its RemoteAddr is an
// addr that leads back to it (the stats handler and the handlers find their
// connection through it).
type conn struct {
	net.Conn
	s    *Server
	n    int64  // its number in this start
	id   string // <name>#<n>
	addr addr

	gs        *grpc.Server  // its own (nil: never served)
	gone      chan struct{} // closed by the first Close
	started   chan struct{} // closed by the first Write (or Close): grpc-go took it
	startOnce sync.Once

	mu      sync.Mutex
	in, out *scanner
	closing bool // the first Close began: nothing more is recorded on it

	intent       string        // the reason of a close the server chose (an action, the kill)
	goaway       bool          // the goaway action sent it away
	grace        time.Duration // ... with this grace
	graceExpired bool          // ... and it ran out
	begun        bool          // ConnBegin: the transport is up
	readErr      error
	writeErr     error
	sentGoAway   string // the reason of the last GOAWAY the server wrote
	goAwayDebug  string
	kaPingAt     time.Time // the server's last keepalive PING
	lastRead     time.Time
	clientGoAway bool
	firstFrame   string // the client's first frame when it was not SETTINGS
	client       string // the client Hello named
	session      string // the session Hello answered with
}

// addr is a conn's remote address as grpc-go sees it (peer.Addr,
// stats.ConnTagInfo.RemoteAddr): the real one, carrying the conn.
type addr struct {
	net.Addr
	c *conn
}

func newConn(s *Server, raw net.Conn, n int64) *conn {
	c := &conn{Conn: raw, s: s, n: n, id: s.name + "#" + strconv.FormatInt(n, 10), gone: make(chan struct{}),
		started: make(chan struct{}), in: newScanner(true), out: newScanner(false)}
	c.addr = addr{Addr: raw.RemoteAddr(), c: c}
	return c
}

// RemoteAddr leads back to the conn.
func (c *conn) RemoteAddr() net.Addr { return c.addr }

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if n > 0 && !c.closing {
		c.lastRead = time.Now()
		c.in.feed(p[:n], c.fromClientLocked)
	}
	if err != nil && c.readErr == nil && !c.closing {
		c.readErr = err
	}
	c.mu.Unlock()
	return n, err
}

// Write records what the server sends just before it goes to the socket.
func (c *conn) Write(p []byte) (int, error) {
	c.startOnce.Do(func() { close(c.started) })
	c.mu.Lock()
	if !c.closing {
		c.out.feed(p, c.fromServerLocked)
	}
	c.mu.Unlock()
	n, err := c.Conn.Write(p)
	if err != nil {
		c.mu.Lock()
		if c.writeErr == nil && !c.closing {
			c.writeErr = err
		}
		c.mu.Unlock()
	}
	return n, err
}

// fromClientLocked sees a frame the client sent.
func (c *conn) fromClientLocked(f frame) {
	if c.in.frames == 1 && f.typ != frameSettings {
		c.firstFrame = frameTypeName(f.typ)
	}
	switch {
	case f.typ == framePing && f.flags&flagAck == 0:
		if d := f.pingData(); d != grpcGoBDPPing {
			c.recordLocked(history.Event{Kind: KindPing, Attrs: map[string]string{"data": hex.EncodeToString(d[:])}})
		}
	case f.typ == frameGoAway:
		c.clientGoAway = true
	}
}

// fromServerLocked sees a frame the server is writing.
func (c *conn) fromServerLocked(f frame) {
	switch {
	case f.typ == framePing && f.flags&flagAck == 0 && f.pingData() == [8]byte{}:
		// grpc-go's server keepalive PING (http2_server.go keepalive: p := &ping{})
		c.kaPingAt = time.Now()
	case f.typ == frameGoAway:
		// grpc-go writes a GOAWAY only through a transport
		// NewServerTransport built, so the handshake is done; its ConnBegin
		// comes from serveStreams' goroutine, which may run after the
		// GOAWAY addConn's Drain queued for a server draining already
		// (server.go addConn, handleRawConn)
		c.beginLocked()
		last, code, debug := f.goAway()
		why := GoAwayProtocol
		switch {
		case c.goaway:
			why = GoAwayAction
		case code == 0xb && debug == "too_many_pings": // ENHANCE_YOUR_CALM, http2_server.go handlePing
			why = GoAwayTooManyPings
		case code == 0 && debug != "":
			why = debug // grpc-go's own drains: max_idle, max_age (keepalive), graceful_stop
		}
		c.sentGoAway, c.goAwayDebug = why, debug
		a := map[string]string{"code": errCodeName(code), "last_stream_id": strconv.FormatUint(uint64(last), 10), "debug": debug}
		if why == GoAwayAction {
			a["grace_ms"] = strconv.FormatInt(c.grace.Milliseconds(), 10)
		}
		if last == 1<<31-1 {
			// grpc-go's graceful drain writes a first GOAWAY with the largest
			// id and a PING, then the real one (http2_server.go
			// outgoingGoAwayHandler)
			a["notice"] = "true"
		}
		c.recordLocked(history.Event{Kind: KindGoAway, Reason: why, Attrs: a})
	}
}

// recordLocked records an event on the connection, unless it is closing.
func (c *conn) recordLocked(e history.Event) {
	if c.closing {
		return
	}
	e.Conn, e.Session = c.id, c.session
	c.s.record(e)
}

// record records an event on the connection, unless it is closing; false if
// it is.
func (c *conn) record(e history.Event) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.recordLocked(e)
	return true
}

// begin: grpc-go's transport is up on the connection (stats ConnBegin).
func (c *conn) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.beginLocked()
}

// beginLocked records the handshake once. c.mu is held.
func (c *conn) beginLocked() {
	if c.begun || c.closing {
		return
	}
	c.begun = true
	c.recordLocked(history.Event{Kind: history.KindHandshake, OK: true})
}

// closeWith closes the connection for a reason the server chose (an action,
// the kill), unless a close is under way already, whose reason stands.
func (c *conn) closeWith(reason string) {
	c.mu.Lock()
	if !c.closing && c.intent == "" {
		c.intent = reason
	}
	c.mu.Unlock()
	_ = c.Close()
}

// expireGrace closes a connection the goaway action sent away whose grace
// ran out.
func (c *conn) expireGrace() {
	c.mu.Lock()
	c.graceExpired = true
	c.mu.Unlock()
	_ = c.Close()
}

// Close closes the connection; the first call records conn.close (and a
// failed handshake before it, when the transport never came up because of
// the client). Whoever calls it first gives the reason: grpc-go's
// transport (having read EOF, or on its own), or the server (an action, the
// kill: closeWith).
func (c *conn) Close() error {
	c.mu.Lock()
	first := !c.closing
	var closeEv history.Event
	var hs *history.Event
	if first {
		reason, attrs := c.reasonLocked()
		closeEv = history.Event{Kind: history.KindConnClose, Conn: c.id, Session: c.session, Reason: reason, Attrs: attrs}
		if why := c.handshakeFailureLocked(); why != "" {
			hs = &history.Event{Kind: history.KindHandshake, Conn: c.id, OK: false, Reason: why}
		}
		c.closing = true
	}
	c.mu.Unlock()
	if first {
		// Recorded just before the socket closes: what the close causes
		// (a stream's end, grpc.rpc_end) comes after it.
		if hs != nil {
			c.s.record(*hs)
		}
		c.s.record(closeEv)
	}
	err := c.Conn.Close()
	if first {
		c.startOnce.Do(func() { close(c.started) })
		close(c.gone)
		c.s.forget(c)
	}
	return err
}

// handshakeFailureLocked is why the client's opening was refused, when the
// connection closes before the transport came up because of what the client
// sent (or did not send in time); "" otherwise (no handshake: the client
// went away, or the server closed it).
func (c *conn) handshakeFailureLocked() string {
	switch {
	case c.begun || c.intent != "" || c.goaway:
		return ""
	case c.in.badPreface() != "":
		return c.in.badPreface()
	case c.firstFrame != "":
		return "first frame " + c.firstFrame + ", not SETTINGS"
	case c.readErr != nil && errors.Is(c.readErr, os.ErrDeadlineExceeded):
		return "no HTTP/2 preface and SETTINGS within the connection timeout"
	}
	return ""
}

// reasonLocked is the conn.close reason the evidence gives, and its
// attributes.
func (c *conn) reasonLocked() (string, map[string]string) {
	a := map[string]string{}
	if c.clientGoAway {
		a["client_goaway"] = "true"
	}
	switch {
	case c.intent != "":
		return c.intent, a
	case c.s.killing.Load():
		// the kill under way closes it, or grpc-go does on its way down
		return ReasonKilled, a
	case c.goaway:
		switch {
		case c.graceExpired:
			a["grace"] = "expired"
		case c.readErr != nil:
			a["by"] = "client" // it closed after the GOAWAY (its streams done)
		default:
			a["by"] = "server" // drained: the server closed it when its streams were done
		}
		return ReasonGoAway, a
	case c.sentGoAway == GoAwayTooManyPings:
		a["goaway"] = GoAwayTooManyPings
		return ReasonKeepalive, a
	case c.in.badPreface() != "":
		return reasonErrorPrefix + c.in.badPreface(), a
	case c.firstFrame != "" && !c.begun:
		return reasonErrorPrefix + "first frame " + c.firstFrame + ", not SETTINGS", a
	case c.readErr != nil:
		return errReason(c.readErr, c.begun), a
	case c.writeErr != nil:
		return errReason(c.writeErr, c.begun), a
	case c.sentGoAway != "":
		a["goaway"] = c.sentGoAway
		return reasonErrorPrefix + "GOAWAY " + c.goAwayDebug, a
	case !c.kaPingAt.IsZero() && c.kaPingAt.After(c.lastRead):
		return ReasonKeepalive, a
	}
	return reasonErrorPrefix + "closed by the server transport", a
}

// errReason maps an I/O error to a reason: the peer going away is eof, as
// for the other packs; anything else is error:<what>.
func errReason(err error, begun bool) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED):
		return ReasonEOF
	case errors.Is(err, os.ErrDeadlineExceeded) && !begun:
		return reasonErrorPrefix + "handshake timeout"
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return reasonErrorPrefix + se.Syscall + ": " + se.Err.Error()
	}
	return reasonErrorPrefix + err.Error()
}
