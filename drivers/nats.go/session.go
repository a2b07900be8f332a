package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"github.com/nats-io/nats.go"
)

// closeWait bounds how long a close waits for nats.go's ClosedCB before the
// driver reports the close itself.
const closeWait = 2 * time.Second

// session is one client's nats.go connection and its lifecycle as reported
// to the harness. Lock order: nats.go's connection lock before s.mu (the
// dialer runs under nats.go's lock), so s.mu is never held while calling
// into nats.go.
type session struct {
	d      *Driver
	client *int
	name   string

	mu        sync.Mutex
	nc        *nats.Conn
	state     string
	server    string // the server of the last state (the lost one while recovering)
	sess      string
	urls      map[string]string
	servers   []string
	lastDial  string
	up        struct{ url, id string } // the last connection whose handshake completed
	closing   bool
	reconnect bool
	ldm       bool // a lame duck notice came on the current connection
	migrate   bool // ForceReconnect on a lame duck notice (options.migration.enabled)
	closed    chan struct{}
	connected chan struct{}
}

func (s *session) event(e event) {
	e.Client = s.client
	s.d.out.Send(e)
}

func (s *session) errorf(format string, a ...any) {
	s.event(event{Type: "error", Text: fmt.Sprintf(format, a...)})
}

// moveLocked reports a state change, keeping the lifecycle rule: nothing
// after a close, no repeated state, only legal transitions. s.mu is held.
func (s *session) moveLocked(to, native, server, sess, reason string) bool {
	from := s.state
	if kit.IsClosed(from) || from == to {
		return false
	}
	if !kit.Legal(from, to) {
		fmt.Fprintf(os.Stderr, "nats.go driver: client %s: dropped %s -> %s (%s)\n", kit.Label(s.client), from, to, native)
		return false
	}
	if server != "" {
		s.server = server
	}
	if sess != "" || to == kit.Connecting {
		s.sess = sess
	}
	s.state = to
	s.event(event{Type: "state", From: from, To: to, Phase: kit.Phase(to), Native: native, Server: s.server, Session: s.sess, Reason: reason})
	switch {
	case to == kit.Active:
		kit.CloseOnce(s.connected)
	case kit.IsClosed(to):
		kit.CloseOnce(s.connected)
		kit.CloseOnce(s.closed)
	}
	return true
}

func (s *session) move(to, native, server, sess, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.moveLocked(to, native, server, sess, reason)
}

// busy tells a session still open or opening: a connect for its client is
// refused ("already connected").
func (s *session) busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !kit.IsClosed(s.state)
}

// urlFor maps a dialed host:port back to the URL the harness gave; a
// server nats.go discovered (INFO connect_urls) keeps its nats:// form.
func (s *session) urlFor(address string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.urls[address]; ok {
		return u
	}
	return "nats://" + address
}

// urlOf maps a URL nats.go reports (ConnectedUrl()) back the same way.
func (s *session) urlOf(u string) string {
	if u == "" {
		return ""
	}
	return s.urlFor(hostPort(u))
}

// dialing is called by the dialer before each dial. The first dial of the
// first connect opens the session (CONNECTING names the server nats.go
// tries first, after its shuffle). A dial while the session is still
// CONNECTED_ACTIVE means nats.go's reconnect loop already runs while its
// DisconnectedErrCB waits in the dispatcher: the session is recovering, and
// is reported so before the dial, so that the loss precedes the attempts.
func (s *session) dialing(u string) {
	s.mu.Lock()
	s.lastDial = u
	switch {
	case s.state == "":
		s.moveLocked(kit.Connecting, "CONNECTING", u, "", "")
	case s.state == kit.Active && !s.closing && s.reconnect:
		s.moveLocked(kit.Recovering, "RECONNECTING", "", "", "")
	}
	s.mu.Unlock()
	s.event(event{Type: "dial", Server: u})
}

func (s *session) dialFailed(u string, err error) {
	s.event(event{Type: "dial", Server: u, Text: err.Error()})
}

func (s *session) handshaken(u, id string) {
	s.mu.Lock()
	s.up.url, s.up.id = u, id
	s.mu.Unlock()
}

// identity names the connection a Connected/ReconnectedCB is about: the
// last connection whose handshake the dialer saw complete, else what
// nats.go says now.
func (s *session) identity(nc *nats.Conn) (string, string) {
	srv, id := s.urlOf(nc.ConnectedUrl()), nc.ConnectedServerId()
	if id != "" {
		if cid, err := nc.GetClientID(); err == nil {
			id += "/" + strconv.FormatUint(cid, 10)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.up.id != "" {
		return s.up.url, s.up.id
	}
	if srv == "" {
		srv = s.lastDial
	}
	return srv, id
}

// callbacks are nats.go's, all run by its one dispatcher goroutine
// (asyncCBDispatcher()), in the order nats.go queued them.
func (s *session) callbacks() []nats.Option {
	return []nats.Option{
		nats.ConnectHandler(func(nc *nats.Conn) {
			srv, id := s.identity(nc)
			s.move(kit.Active, "ConnectedCB", srv, id, "")
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			srv, id := s.identity(nc)
			s.mu.Lock()
			s.ldm = false
			if s.state == kit.Active { // a loss nobody reported: report it first
				s.moveLocked(kit.Recovering, "ReconnectedCB", "", "", "")
			}
			s.moveLocked(kit.Active, "ReconnectedCB", srv, id, "")
			s.mu.Unlock()
		}),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err != nil {
				s.errorf("nats.go DisconnectedErrCB: %v", err)
			}
			// nats.go also calls it from close() (Close(), a loss with
			// NoReconnect, a fatal -ERR), right before ClosedCB: those are
			// closes, not recoveries. A reconnect loop that already gave
			// up (closed, ErrNoServers) did recover first.
			closedNow := nc.IsClosed()
			gaveUp := closedNow && errors.Is(nc.LastError(), nats.ErrNoServers)
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.closing || !s.reconnect || (closedNow && !gaveUp) {
				return
			}
			s.moveLocked(kit.Recovering, "DisconnectedErrCB", "", "", "")
		}),
		nats.ReconnectErrHandler(func(nc *nats.Conn, err error) {
			s.errorf("nats.go ReconnectErrCB: attempt failed: %v", err)
		}),
		nats.ClosedHandler(func(nc *nats.Conn) {
			err := nc.LastError()
			s.mu.Lock()
			defer s.mu.Unlock()
			to, reason := s.closeReasonLocked(err)
			if err != nil && to != kit.ClosedByClient {
				s.errorf("nats.go ClosedCB: LastError %v", err)
			}
			s.moveLocked(to, "ClosedCB", "", "", reason)
		}),
		nats.LameDuckModeHandler(func(nc *nats.Conn) {
			s.mu.Lock()
			s.ldm = true
			migrate := s.migrate
			srv := s.server
			s.mu.Unlock()
			s.errorf("nats.go LameDuckModeHandler: %s announced lame duck mode (INFO ldm); pool now %s", srv, strings.Join(nc.Servers(), ","))
			if migrate {
				if err := nc.ForceReconnect(); err != nil {
					s.errorf("driver: ForceReconnect after lame duck notice: %v", err)
				}
			}
		}),
		nats.DiscoveredServersHandler(func(nc *nats.Conn) {
			s.errorf("nats.go DiscoveredServersCB: discovered %s", strings.Join(nc.DiscoveredServers(), ","))
		}),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				s.errorf("nats.go async error on %s: %v", sub.Subject, err)
				return
			}
			s.errorf("nats.go async error: %v", err)
		}),
	}
}

// closeReasonLocked maps nats.go's close (ClosedCB, LastError()) onto
// docs/driver-protocol.md's close reasons. s.mu is held.
func (s *session) closeReasonLocked(err error) (string, string) {
	switch {
	case s.closing:
		return kit.ClosedByClient, "closed_by_client"
	case isAuthErr(err):
		return kit.ClosedFailed, "access_denied"
	case !s.reconnect && s.ldm:
		// The server announced lame duck mode, then closed: deliberate.
		return kit.ClosedByServer, "closed_by_server"
	case errors.Is(err, nats.ErrNoServers):
		return kit.ClosedFailed, "reconnect_aborted" // MaxReconnects emptied the pool
	case serverSaid(err):
		// An -ERR nats.go treats as final (processErr()): the server ended it.
		return kit.ClosedByServer, "closed_by_server"
	default:
		return kit.ClosedFailed, "connection_lost"
	}
}

func isAuthErr(err error) bool {
	return err != nil && (errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) ||
		errors.Is(err, nats.ErrAuthRevoked) || errors.Is(err, nats.ErrAccountAuthExpired))
}

// serverSaid tells an error the server sent (-ERR text, "nats: …") from a
// transport failure or one of nats.go's own conditions.
func serverSaid(err error) bool {
	if err == nil || isTransport(err) || errors.Is(err, nats.ErrStaleConnection) || errors.Is(err, nats.ErrNoServers) {
		return false
	}
	return strings.HasPrefix(err.Error(), "nats: ")
}

func isTransport(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

// connectFailed reports a first connect that failed for good.
func (s *session) connectFailed(err error) {
	reason := "connection_error"
	switch {
	case isAuthErr(err):
		reason = "access_denied"
	case serverSaid(err) && !isTransport(err):
		reason = "handshake_rejected" // -ERR or an unexpected answer to CONNECT
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == "" {
		first := ""
		if len(s.servers) > 0 {
			first = s.servers[0]
		}
		s.moveLocked(kit.Connecting, "CONNECTING", first, "", "")
	}
	s.moveLocked(kit.ClosedFailed, "nats.Connect error", s.lastDial, "", reason)
}

// close closes the session deliberately and waits (bounded) for nats.go's
// ClosedCB, so the reply follows the CLOSED_BY_CLIENT event.
func (s *session) close() {
	s.mu.Lock()
	if kit.IsClosed(s.state) { // closed already (by the server, a failure, an earlier close)
		s.mu.Unlock()
		return
	}
	s.closing = true
	nc := s.nc
	if nc == nil { // a connect still under way (exit): the session ends here
		s.moveLocked(kit.ClosedByClient, "exit", "", "", "closed_by_client")
	}
	s.mu.Unlock()
	if nc == nil {
		return
	}
	nc.Close()
	select {
	case <-s.closed:
	case <-time.After(closeWait):
		s.move(kit.ClosedByClient, "Close", "", "", "closed_by_client")
	}
}
