package fake

import (
	"strconv"
	"sync/atomic"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/internal/outbox"
	"github.com/faultline/faultline/packs/mqtt/wire"
)

// session is the state MQTT keeps per client id (§3.1.2.4): its
// subscriptions and the QoS 1 messages not yet acknowledged. A clean one
// lives as long as its connection; a persistent one (clean session 0)
// outlives it, and messages for it are queued while it is offline.
type session struct {
	clientID string
	id       string // "<server name>/<client id>"
	clean    bool

	// guarded by s.mu
	conn        *conn // nil while offline
	subs        []sub // in subscription order
	pending     []*pmsg
	lastPID     uint16
	expireOnEnd bool // ExpireSessions while connected: discarded when the connection ends
}

// sub is one subscription: a filter and its granted QoS.
type sub struct {
	filter string
	qos    byte
}

// pmsg is a QoS 1 message held for a session until the client acknowledges
// it: sent (and then resent with DUP on a resumed session) or queued.
type pmsg struct {
	topic   string
	payload []byte
	seq     int64
	pid     uint16
	written atomic.Bool // handed to a socket at least once: a resend carries DUP
}

func (s *Server) newSession(clientID string, clean bool) *session {
	return &session{clientID: clientID, id: s.name + "/" + clientID, clean: clean}
}

// subscribe adds or replaces a subscription.
func (sess *session) subscribe(filter string, qos byte) {
	for i := range sess.subs {
		if sess.subs[i].filter == filter {
			sess.subs[i].qos = qos
			return
		}
	}
	sess.subs = append(sess.subs, sub{filter: filter, qos: qos})
}

func (sess *session) unsubscribe(filter string) {
	for i := range sess.subs {
		if sess.subs[i].filter == filter {
			sess.subs = append(sess.subs[:i], sess.subs[i+1:]...)
			return
		}
	}
}

// nextPID is a packet identifier no pending message uses (1–65535).
func (sess *session) nextPID() uint16 {
	for range 65535 {
		sess.lastPID++
		if sess.lastPID == 0 {
			sess.lastPID = 1
		}
		if sess.find(sess.lastPID) < 0 {
			return sess.lastPID
		}
	}
	return 0
}

func (sess *session) find(pid uint16) int {
	for i, m := range sess.pending {
		if m.pid == pid {
			return i
		}
	}
	return -1
}

// ack removes the pending message pid; nil if there is none.
func (sess *session) ack(pid uint16) *pmsg {
	i := sess.find(pid)
	if i < 0 {
		return nil
	}
	m := sess.pending[i]
	sess.pending = append(sess.pending[:i], sess.pending[i+1:]...)
	return m
}

// route delivers a message to every matching subscription of every session
// (one copy per subscription, as mosquitto 2 does), each at the lower of
// the message's QoS and the subscription's; with s.mu held.
func (s *Server) route(topic string, payload []byte, qos byte, seq int64) {
	for _, sess := range s.sessions {
		for _, sb := range sess.subs {
			if wire.Match(sb.filter, topic) {
				s.deliverTo(sess, topic, payload, min(qos, sb.qos), seq)
			}
		}
	}
}

// deliverTo sends a message to a session's connection, or keeps it for a
// persistent session offline (QoS 1 only); with s.mu held.
func (s *Server) deliverTo(sess *session, topic string, payload []byte, qos byte, seq int64) {
	c := sess.conn
	if c != nil && c.out.Closing() {
		c = nil
	}
	drop := func(reason string) {
		s.record(history.Event{Kind: KindDrop, Session: sess.id, Topic: topic, Seq: seq, Reason: reason,
			Attrs: map[string]string{"qos": strconv.Itoa(int(qos))}})
	}
	switch {
	case c == nil && (qos == 0 || sess.clean):
		if sess.clean {
			drop(DropClosing)
		} else {
			drop(DropOffline)
		}
		return
	case qos == 0:
		c.send(outbox.Item{Data: wire.Publish(topic, payload, 0, false, 0), Event: s.deliverEvent(c, sess, topic, seq, 0, false, 0, false)})
		return
	case len(sess.pending) >= s.opts.MaxQueued:
		drop(DropQueueFull)
		return
	}
	pid := sess.nextPID()
	m := &pmsg{topic: topic, payload: payload, seq: seq, pid: pid}
	sess.pending = append(sess.pending, m)
	if c != nil {
		s.sendPending(c, sess, m, false)
	}
}

// sendPending writes a held QoS 1 message to c: with DUP if it was written
// before (§4.4). replay marks a resumed session's redelivery.
func (s *Server) sendPending(c *conn, sess *session, m *pmsg, replay bool) {
	dup := m.written.Load()
	c.send(outbox.Item{Data: wire.Publish(m.topic, m.payload, 1, dup, m.pid), Written: &m.written,
		Event: s.deliverEvent(c, sess, m.topic, m.seq, 1, dup, m.pid, replay)})
}

func (s *Server) deliverEvent(c *conn, sess *session, topic string, seq int64, qos byte, dup bool, pid uint16, replay bool) *history.Event {
	attrs := msgAttrs(qos, dup, pid)
	if replay {
		attrs["replay"] = "true"
	}
	return &history.Event{Source: history.SrcServer, Server: s.name, Kind: history.KindDeliver, Conn: c.id,
		Session: sess.id, Topic: topic, Seq: seq, Attrs: attrs}
}
