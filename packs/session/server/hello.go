package server

import (
	"crypto/rand"
	"crypto/subtle"
	"strconv"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

// hello judges the first frame: a new session, a resume, or a refusal.
func (s *Server) hello(c *wsConn, f wire.Frame) bool {
	if f.Mig != "" && f.Session != "" {
		return s.helloMigrated(c, f) // migrate.go: the target of a migration
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || c.ended {
		s.lostLocked(c, "", "shutdown")
		return false
	}
	if f.Session != "" {
		return s.resumeLocked(c, f)
	}
	return s.createLocked(c, f)
}

func (s *Server) refuse(c *wsConn, reason string, f wire.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseLocked(c, reason, f)
}

// refuseLocked records the failed handshake and sends refused, then closes.
func (s *Server) refuseLocked(c *wsConn, reason string, f wire.Frame) {
	if c.ended || s.closed {
		s.lostLocked(c, "", "shutdown")
		return
	}
	s.record(history.Event{Kind: history.KindHandshake, Conn: c.id, Session: f.Session, Reason: reason, Attrs: helloAttrs(f)})
	c.finishLocked(reason, wire.Frame{T: wire.TRefused, Reason: reason})
}

func helloAttrs(f wire.Frame) map[string]string {
	a := map[string]string{"principal": f.Principal}
	if f.Session != "" {
		a["resume"] = "true"
	}
	return a
}

func (s *Server) createLocked(c *wsConn, f wire.Frame) bool {
	if !equal(f.Principal, s.opts.Principal) || !equal(f.Credentials, s.opts.Credentials) {
		s.refuseLocked(c, wire.ReasonAccessDenied, f)
		return false
	}
	granted := s.opts.MaxRetention
	if req := time.Duration(f.RetentionMS) * time.Millisecond; req > 0 && req < granted {
		granted = req
	}
	if f.NoReconnect {
		granted = 0 // the client opted out: nothing is retained
	}
	sess := &session{
		id:          rand.Text(), // unguessable: a resume must not hit another client's session
		token:       rand.Text(),
		retention:   granted,
		noReconnect: f.NoReconnect,
		topics:      map[string]bool{},
		evicted:     map[string]int64{},
	}
	sess.mx.canMigrate = f.Migration
	s.sessions[sess.id] = sess
	s.record(history.Event{Kind: history.KindHandshake, Conn: c.id, Session: sess.id, OK: true, Attrs: helloAttrs(f)})
	s.record(history.Event{Kind: history.KindSessionCreate, Session: sess.id, Conn: c.id,
		Attrs: map[string]string{"retention_ms": ms(granted), "ping_ms": ms(s.opts.Ping)}})
	s.attachLocked(sess, c)
	c.queueLocked(outItem{startPing: true, f: wire.Frame{T: wire.TWelcome, Session: sess.id, Token: sess.token,
		PingMS: s.opts.Ping.Milliseconds(), RetentionMS: granted.Milliseconds()}})
	return true
}

func (s *Server) resumeLocked(c *wsConn, f wire.Frame) bool {
	sess := s.sessions[f.Session]
	if sess == nil || !equal(f.Token, sess.token) {
		s.refuseLocked(c, wire.ReasonUnknownSession, f)
		s.record(history.Event{Kind: history.KindSessionUnknown, Session: f.Session, Conn: c.id})
		return false
	}
	if old := sess.conn; old != nil {
		// The server has not yet noticed the old connection died: the client knows better.
		s.record(history.Event{Kind: history.KindSessionDisconn, Session: sess.id, Conn: old.id, Reason: "superseded"})
		sess.conn = nil
		old.ended = true
		old.reason = "superseded"
		old.cancel()
	}
	if !s.reclaimOnResumeLocked(sess) { // migrate.go: the target has it now
		s.refuseLocked(c, wire.ReasonUnknownSession, f)
		s.record(history.Event{Kind: history.KindSessionUnknown, Session: f.Session, Conn: c.id})
		return false
	}
	sess.mx.canMigrate = f.Migration
	if !sess.covers(f.Last) {
		s.refuseLocked(c, wire.ReasonLostMessages, f)
		s.record(history.Event{Kind: history.KindSessionLost, Session: sess.id, Conn: c.id})
		s.record(history.Event{Kind: history.KindSessionClose, Session: sess.id, Reason: wire.ReasonLostMessages})
		s.forgetLocked(sess)
		return false
	}
	replay := sess.after(f.Last)
	s.record(history.Event{Kind: history.KindHandshake, Conn: c.id, Session: sess.id, OK: true, Attrs: helloAttrs(f)})
	s.record(history.Event{Kind: history.KindSessionResume, Session: sess.id, Conn: c.id,
		Attrs: map[string]string{"received": strconv.FormatInt(sess.received, 10), "replay": strconv.Itoa(len(replay))}})
	s.attachLocked(sess, c)
	c.queueLocked(outItem{startPing: true, f: wire.Frame{T: wire.TResumed, Session: sess.id, Received: sess.received,
		PingMS: s.opts.Ping.Milliseconds(), Reqs: sess.mx.known(f.Pending)}})
	for _, m := range replay {
		c.queueLocked(outItem{f: m.frame(), deliver: true, replay: true})
	}
	s.resumeRequestsLocked(sess, f.Pending) // requests.go
	return true
}

// handle acts on one frame of a live session; false ends the read loop.
func (s *Server) handle(c *wsConn, f wire.Frame) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ended || s.closed {
		return false
	}
	sess := c.sess
	if handled, keep := s.handleExtraLocked(c, sess, f); handled { // migrate.go
		return keep
	}
	switch f.T {
	case wire.TSend:
		e := history.Event{Kind: history.KindReceive, Session: sess.id, Conn: c.id, Seq: f.N}
		if f.N <= sess.received {
			e.Attrs = map[string]string{"dup": "true"}
		} else {
			sess.received = f.N
		}
		s.record(e)
		c.queueLocked(outItem{f: wire.Frame{T: wire.TAck, N: f.N}})
	case wire.TSub:
		sess.topics[f.Topic] = true
		s.record(history.Event{Kind: history.KindSubscribe, Session: sess.id, Topic: f.Topic})
	case wire.TClose:
		s.record(history.Event{Kind: history.KindSessionClose, Session: sess.id, Reason: wire.ReasonByClient})
		s.forgetLocked(sess)
		c.finishLocked(wire.ReasonByClient)
		return false
	default:
		// pong and ack only prove liveness (the buffer is bounded anyway); a
		// frame the server does not expect is ignored rather than fatal.
	}
	return !c.ended // a full queue may have lost the connection
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
