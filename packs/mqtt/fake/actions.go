package fake

import (
	"sort"

	"github.com/faultline/faultline/harness/history"
)

// Publish puts a message on topic through the broker itself, at QoS 1, and
// delivers it to the matching subscriptions (each at its granted QoS); it
// returns its seq (1, 2, … per topic), or 0 on a closed broker, which
// publishes nothing, as a dead process would not.
func (s *Server) Publish(topic string, payload []byte) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	s.seq[topic]++
	seq := s.seq[topic]
	s.record(history.Event{Kind: history.KindPublish, Topic: topic, Seq: seq})
	s.route(topic, append([]byte(nil), payload...), 1, seq)
	return seq
}

// Refuse answers every later CONNECT with CONNACK return code code (1–5)
// and closes the connection (handshake OK=false, conn.close refused);
// Refuse(0) admits again.
func (s *Server) Refuse(code byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = code
}

// WithholdPongs on leaves the clients' PINGREQs unanswered (the link stays
// up), as a broker whose replies are lost would; off answers them again.
func (s *Server) WithholdPongs(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.withhold = on
}

// ExpireSessions discards every persistent session not connected now
// (session.expire), and marks the connected ones to be discarded when
// their connections end.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.sessions))
	for id := range s.sessions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		sess := s.sessions[id]
		switch {
		case sess.clean:
		case sess.conn == nil:
			s.expire(sess, "expire_sessions")
		default:
			sess.expireOnEnd = true
		}
	}
}

// CloseConnections closes every client connection at once (reason
// server_close); persistent sessions stay, offline.
func (s *Server) CloseConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.close(ReasonServerClose)
	}
}
