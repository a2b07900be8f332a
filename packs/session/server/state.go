package server

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

// session is one session the server holds, live or retained. All fields are
// guarded by Server.mu.
type session struct {
	id, token   string
	retention   time.Duration // granted; 0 when the client opted out of reconnection
	noReconnect bool
	topics      map[string]bool
	received    int64 // highest client send n received

	buf     []bufMsg         // last Buffer messages delivered or queued, in publish order
	evicted map[string]int64 // per topic, the highest seq pushed out of buf

	conn  *wsConn     // attached connection; nil while retained
	gen   int         // bumped on every attach, so a stale retention timer knows it is stale
	timer *time.Timer // retention timer while retained

	mx sessionExtra // streaming requests and migration (requests.go, migrate.go)
}

type bufMsg struct {
	topic string
	seq   int64
	data  json.RawMessage
}

func (m bufMsg) frame() wire.Frame {
	return wire.Frame{T: wire.TMsg, Topic: m.topic, Seq: m.seq, Data: m.data}
}

func (sess *session) push(m bufMsg, limit int) {
	sess.buf = append(sess.buf, m)
	for len(sess.buf) > limit {
		old := sess.buf[0]
		if old.seq > sess.evicted[old.topic] {
			sess.evicted[old.topic] = old.seq
		}
		sess.buf = sess.buf[1:]
	}
}

// covers reports whether the buffer still holds everything after last on
// every topic; otherwise resuming would leave a silent hole.
func (sess *session) covers(last map[string]int64) bool {
	for topic, ev := range sess.evicted {
		if ev > last[topic] {
			return false
		}
	}
	return true
}

// after returns the buffered messages the client has not seen, in order.
func (sess *session) after(last map[string]int64) []bufMsg {
	var out []bufMsg
	for _, m := range sess.buf {
		if m.seq > last[m.topic] {
			out = append(out, m)
		}
	}
	return out
}

func (sess *session) stopTimer() {
	if sess.timer != nil {
		sess.timer.Stop()
		sess.timer = nil
	}
}

func (s *Server) attachLocked(sess *session, c *wsConn) {
	sess.stopTimer()
	sess.conn = c
	sess.gen++
	c.sess = sess
}

func (s *Server) forgetLocked(sess *session) {
	sess.stopTimer()
	s.dropExtrasLocked(sess)
	sess.conn = nil
	delete(s.sessions, sess.id)
}

// detachLocked handles the loss of a live session's connection: retention
// starts, or the session ends at once when nothing is to be retained.
func (s *Server) detachLocked(sess *session, reason string) {
	s.record(history.Event{Kind: history.KindSessionDisconn, Session: sess.id, Conn: sess.conn.id, Reason: reason})
	if s.detachMigratingLocked(sess) { // migrate.go: moving to its target, kept here meanwhile
		return
	}
	sess.conn = nil
	switch {
	case sess.noReconnect:
		s.record(history.Event{Kind: history.KindSessionClose, Session: sess.id, Reason: "no_reconnect"})
		s.forgetLocked(sess)
	case sess.retention <= 0:
		s.record(history.Event{Kind: history.KindSessionExpire, Session: sess.id})
		s.forgetLocked(sess)
	default:
		gen := sess.gen
		sess.timer = time.AfterFunc(sess.retention, func() { s.expire(sess, gen) })
	}
}

func (s *Server) expire(sess *session, gen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.sessions[sess.id] != sess || sess.conn != nil || sess.gen != gen {
		return // resumed, closed or shut down meanwhile
	}
	s.record(history.Event{Kind: history.KindSessionExpire, Session: sess.id})
	s.forgetLocked(sess)
}

// Publish puts the next message of topic (seq 1, 2, …) to every subscribed
// session: written now to live ones, buffered for recovery in retained ones.
// Data that is not JSON is sent as a JSON string. It returns the seq, or 0
// once the server is closed.
func (s *Server) Publish(topic string, data json.RawMessage) int64 {
	if len(data) > 0 && !json.Valid(data) {
		data, _ = json.Marshal(string(data))
	} else {
		data = append(json.RawMessage(nil), data...) // the caller may reuse its slice
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	s.seq[topic]++
	m := bufMsg{topic: topic, seq: s.seq[topic], data: data}
	s.record(history.Event{Kind: history.KindPublish, Topic: topic, Seq: m.seq})
	for _, sess := range s.sessions {
		if !sess.topics[topic] {
			continue
		}
		sess.push(m, s.opts.Buffer)
		if c := sess.conn; c != nil {
			c.queueLocked(outItem{f: m.frame(), deliver: true})
		}
	}
	return m.seq
}

// CloseSessions closes every session deliberately: live ones are sent
// closed{closed_by_server} and their connection is closed; retained ones just end.
func (s *Server) CloseSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for _, sess := range s.sessions {
		s.record(history.Event{Kind: history.KindSessionClose, Session: sess.id, Reason: wire.ReasonByServer})
		if c := sess.conn; c != nil {
			c.finishLocked(wire.ReasonByServer, wire.Frame{T: wire.TClosed, Reason: wire.ReasonByServer})
		}
		s.forgetLocked(sess)
	}
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
