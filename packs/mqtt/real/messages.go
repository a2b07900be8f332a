package real

import (
	"strconv"

	"github.com/faultline/faultline/harness/history"
)

// session is the tracker's model of what mosquitto keeps for a client id:
// enough to say which message a later "Sending PUBLISH" carries, since the
// log names a message only by its topic and packet id.
type session struct {
	clientID, id string
	persistent   bool // clean session 0: it outlives its connection
	proto        int
	subs         []sub
	// pending: routed to the session, not yet sent (it was offline, or its
	// inflight window was full); sent in order, so a later send of a topic
	// is the oldest pending message of that topic.
	pending  []*message
	inflight map[int]*message // sent at QoS > 0, not yet acknowledged, by packet id
	conn     *conn
}

// message is one message mosquitto took in (a client's PUBLISH, or a will).
// Its seq is the integer in its payload, which the log does not show: the
// harness's monitor, subscribed to '#', receives every message in the order
// mosquitto logs sending them to it, and the n-th "Sending PUBLISH to" the
// monitor is the n-th message it read. Until then, its events wait.
type message struct {
	n        uint64
	fromID   string
	mid      int
	topic    string
	qos      int
	retain   bool
	dup      bool
	bytes    int
	seq      int64
	resolved bool
	receive  *history.Event  // waits for the seq; nil for the harness's own and for wills
	held     []history.Event // deliveries waiting for the seq
}

func msgAttrs(qos int, dup bool, pid int) map[string]string {
	return map[string]string{"qos": strconv.Itoa(qos), "dup": b2s(dup), "packet_id": strconv.Itoa(pid)}
}

// received: "Received PUBLISH from ID". Its deliveries follow at once,
// except for QoS 2, whose follow the PUBREL.
func (t *tracker) received(l Line) {
	t.msgN++
	m := &message{n: t.msgN, fromID: l.ID, mid: l.Mid, topic: l.Topic, qos: l.QoS, retain: l.Retain, dup: l.Dup, bytes: l.Bytes}
	if c := t.byID[l.ID]; c != nil && !c.internal {
		m.receive = &history.Event{Kind: history.KindReceive, Conn: c.id, Session: t.sessionOf(c), Topic: l.Topic,
			Attrs: msgAttrs(l.QoS, l.Dup, l.Mid)}
	}
	if l.Retain {
		if l.Bytes == 0 {
			delete(t.retained, l.Topic) // an empty retained message clears the topic's
		} else {
			t.retained[l.Topic] = m
		}
	}
	if l.QoS == 2 {
		if t.q2[l.ID] == nil {
			t.q2[l.ID] = map[int]*message{}
		}
		t.q2[l.ID][l.Mid] = m
		return
	}
	t.open(m)
}

// open makes m the message the following sends deliver, and queues it to
// every session it reaches that will be sent it later (one offline, or
// beyond its inflight window): QoS 0 is never sent later (mosquitto does
// not queue it for an offline client, and sends or drops it at once for an
// online one).
func (t *tracker) open(m *message) {
	t.cur = m
	for _, s := range t.sessions {
		if s.clientID == t.d.monitorID {
			continue
		}
		ms := matches(s.subs, m.topic)
		if len(ms) == 0 {
			continue
		}
		if s.proto != 5 {
			ms = ms[:1]
		}
		for _, x := range ms {
			if min(m.qos, x.qos) > 0 && s.holds() < s.room() {
				s.pending = append(s.pending, m)
			}
		}
	}
}

// openWill: mosquitto publishes c's will now; its sends follow.
func (t *tracker) openWill(c *conn) {
	w := c.will
	c.will = nil
	t.endContext()
	t.msgN++
	t.cur = &message{n: t.msgN, fromID: c.clientID, topic: w.topic, qos: w.qos, retain: w.retain, bytes: w.bytes}
}

// endContext ends the current message's sends: if the monitor's copy never
// came (a '$' topic, or no monitor connected yet) its seq stays 0.
func (t *tracker) endContext() {
	if m := t.cur; m != nil && !m.resolved {
		t.resolve(m, 0)
	}
	t.cur, t.replayFor = nil, nil
}

func (t *tracker) resolve(m *message, seq int64) {
	m.seq, m.resolved = seq, true
	if m.receive != nil {
		m.receive.Seq = seq
		t.record(*m.receive)
		m.receive = nil
	}
	for _, e := range m.held {
		e.Seq = seq
		t.record(e)
	}
	m.held = nil
}

// sent: "Sending PUBLISH to ID".
func (t *tracker) sent(l Line) {
	c := t.byID[l.ID]
	if c != nil && c == t.monitor {
		t.monSeen++
		seq, ok := t.d.payload(c.addr, t.monSeen)
		if m := t.cur; m != nil && !m.resolved && !l.Retain && l.Topic == m.topic {
			if !ok {
				seq = 0
			}
			t.resolve(m, seq)
		}
		return
	}
	s := t.sessions[l.ID]
	var m *message
	switch {
	case l.Retain: // a retained message, sent on a new subscription
		m = t.retained[l.Topic]
	case t.cur != nil && !l.Dup && l.Topic == t.cur.topic:
		m = t.cur
		if s != nil {
			s.unpend(m)
		}
	case l.Dup && s != nil:
		m = s.inflight[l.Mid]
	case s != nil:
		m = s.popPending(l.Topic)
	}
	if s != nil && l.QoS > 0 {
		s.inflight[l.Mid] = m // nil: a message the model lost; its acknowledgment is then unknown
	}
	if c == nil || c.internal {
		return
	}
	attrs := msgAttrs(l.QoS, l.Dup, l.Mid)
	if t.replayFor == c {
		attrs["replay"] = "true"
	}
	e := history.Event{Kind: history.KindDeliver, Conn: c.id, Session: t.sessionOf(c), Topic: l.Topic, Attrs: attrs}
	switch {
	case m == nil:
		t.record(e)
	case !m.resolved:
		m.held = append(m.held, e)
	default:
		e.Seq = m.seq
		t.record(e)
	}
}

// mosquitto's defaults, which this package keeps: max_inflight_messages
// and max_queued_messages.
const (
	maxInflight = 20
	maxQueued   = 1000
)

// holds is how many QoS > 0 messages mosquitto holds for s.
func (s *session) holds() int { return len(s.pending) + len(s.inflight) }

// room is how many it may hold before it drops new ones ("Outgoing
// messages are being dropped", database.c db__ready_for_queue): an
// offline client has no inflight window.
func (s *session) room() int {
	if s.conn == nil {
		return maxQueued
	}
	return maxQueued + maxInflight
}

func (s *session) unpend(m *message) {
	for i, p := range s.pending {
		if p == m {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			return
		}
	}
}

func (s *session) popPending(topic string) *message {
	for i, p := range s.pending {
		if p.topic == topic {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			return p
		}
	}
	return nil
}

// serverAck: "Sending PUBACK to ID (mM, rc0)" ends the message it
// acknowledges (sent after its deliveries, handle_publish.c).
func (t *tracker) serverAck(l Line) {
	m := t.cur
	if m == nil || m.fromID != l.ID || m.mid != l.Mid {
		m = nil
	}
	t.endContext()
	c := t.byID[l.ID]
	if l.Packet != "PUBACK" || c == nil || c.internal {
		return
	}
	e := history.Event{Kind: KindPuback, Conn: c.id, Session: t.sessionOf(c),
		Attrs: map[string]string{"packet_id": strconv.Itoa(l.Mid), "from": "server"}}
	if m != nil {
		e.Topic, e.Seq = m.topic, m.seq
	}
	t.record(e)
}

// clientAck: "Received PUBACK|PUBCOMP|PUBREL|PUBREC from ID".
func (t *tracker) clientAck(l Line) {
	switch l.Packet {
	case "PUBREL": // a QoS 2 message is routed now
		if m := t.q2[l.ID][l.Mid]; m != nil {
			delete(t.q2[l.ID], l.Mid)
			t.open(m)
		}
		return
	case "PUBREC":
		return
	}
	s := t.sessions[l.ID]
	var m *message
	if s != nil {
		m = s.inflight[l.Mid]
		delete(s.inflight, l.Mid)
	}
	c := t.byID[l.ID]
	if l.Packet != "PUBACK" || c == nil || c.internal {
		return
	}
	e := history.Event{Kind: KindPuback, Conn: c.id, Session: t.sessionOf(c),
		Attrs: map[string]string{"packet_id": strconv.Itoa(l.Mid), "from": "client"}}
	if m != nil {
		e.Topic, e.Seq = m.topic, m.seq
	} else {
		e.Attrs["known"] = "false"
	}
	t.record(e)
}

func (t *tracker) subscribed(c *conn, filter string, qos int) {
	s := c.sess
	if s == nil {
		return
	}
	found := false
	for i := range s.subs {
		if s.subs[i].filter == filter {
			s.subs[i].qos, found = qos, true
		}
	}
	if !found {
		s.subs = append(s.subs, sub{filter: filter, qos: qos})
	}
	if c.internal {
		return
	}
	attrs := map[string]string{"qos": strconv.Itoa(qos)}
	if r, ok := t.requested[filter]; ok {
		attrs["requested"] = strconv.Itoa(r)
	}
	t.record(history.Event{Kind: history.KindSubscribe, Conn: c.id, Session: s.id, Topic: filter, Attrs: attrs})
}

func (t *tracker) unsubscribed(c *conn, filter string) {
	s := c.sess
	if s == nil {
		return
	}
	for i := range s.subs {
		if s.subs[i].filter == filter {
			s.subs = append(s.subs[:i], s.subs[i+1:]...)
			break
		}
	}
	if !c.internal {
		t.record(history.Event{Kind: KindUnsubscribe, Conn: c.id, Session: s.id, Topic: filter})
	}
}
