package server

import (
	"fmt"
	"net"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// GoAway sends GOAWAY to every open connection and closes each when its
// streams are done, or when grace has run out, whichever is first; the
// listener stays open, so new connections are served at once. It returns
// at once (the drains run in the background) with how many connections were
// sent away (one sent away already is not sent away again). A grace shorter
// than the time it takes to write the GOAWAY may close a connection before.
//
// How: each connection has a grpc.Server of its own (newGRPCServer), and
// its GracefulStop sends GOAWAY (NO_ERROR, last stream 2^31-1, then a PING,
// then the real last stream id once the PING is answered or after 5 s:
// internal/transport/http2_server.go outgoingGoAwayHandler) and waits for
// its streams; after grace the connection is closed (conn.close reason
// goaway, grace expired) and its grpc.Server stopped.
func (s *Server) GoAway(grace time.Duration) int {
	s.actMu.Lock()
	defer s.actMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0
	}
	var away []*conn
	for c := range s.conns {
		c.mu.Lock()
		if !c.closing && !c.goaway && c.gs != nil {
			c.goaway, c.grace = true, grace // before GracefulStop writes the GOAWAY
			away = append(away, c)
		}
		c.mu.Unlock()
	}
	s.wg.Add(len(away))
	s.mu.Unlock()
	for _, c := range away {
		go s.drain(c, grace)
	}
	return len(away)
}

// drain gracefully stops c's grpc.Server, for at most grace.
func (s *Server) drain(c *conn, grace time.Duration) {
	defer s.wg.Done()
	t := time.NewTimer(grace)
	defer t.Stop()
	// grpc-go must have taken the connection first (its transport's first
	// write is the server's SETTINGS): a GracefulStop before that would
	// have it closed untouched (server.go handleRawConn: quit has fired)
	// instead of sent away once its transport is up.
	select {
	case <-c.started:
	case <-t.C:
		c.expireGrace()
		return
	case <-s.quit:
		return
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		c.gs.GracefulStop()
	}()
	select {
	case <-stopped:
	case <-t.C:
		c.expireGrace()
		c.gs.Stop() // ends the GracefulStop (grpc.Server.Stop's own advice)
	case <-s.quit: // Close closes the connection
		c.gs.Stop()
	}
	<-stopped
}

// CloseConnections closes every open connection at once, without GOAWAY
// (conn.close reason server_close); the server keeps accepting.
func (s *Server) CloseConnections() {
	for _, c := range s.openConns() {
		c.closeWith(ReasonServerClose)
	}
}

// CloseSessions is the runner's close-sessions step: a gRPC session is its
// connection.
func (s *Server) CloseSessions() { s.CloseConnections() }

// AcceptThenClose makes every later connection be accepted and closed at
// once (accept, then conn.close reason accept_close: the reconnect interop
// test's retry server), or stops doing so.
func (s *Server) AcceptThenClose(on bool) {
	s.mu.Lock()
	s.acceptClose = on
	s.mu.Unlock()
}

// Refuse stops listening: dials to the address are refused (through a link:
// link.dial_fail). Open connections go on.
func (s *Server) Refuse() {
	s.actMu.Lock()
	defer s.actMu.Unlock()
	s.mu.Lock()
	l, done := s.tcp, s.acceptDone
	if s.closed || l == nil {
		s.mu.Unlock()
		return
	}
	s.tcp = nil
	s.mu.Unlock()
	_ = l.Close()
	<-done
	s.record(history.Event{Kind: KindListen, Attrs: map[string]string{"state": "closed"}})
}

// Admit undoes Refuse (listening again on the same address) and
// AcceptThenClose.
func (s *Server) Admit() error {
	s.actMu.Lock()
	defer s.actMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acceptClose = false
	if s.closed || s.tcp != nil {
		return nil
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("grpc %s: listen again on %s: %w", s.name, s.addr, err)
	}
	s.listenLocked(l)
	s.record(history.Event{Kind: KindListen, Attrs: map[string]string{"state": "open"}})
	return nil
}

// PaceRows sets the pacing of Rows calls that arrive from now on.
func (s *Server) PaceRows(every time.Duration) {
	if every <= 0 {
		return
	}
	s.mu.Lock()
	s.pace = every
	s.mu.Unlock()
}

func (s *Server) rowEvery() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pace
}
