package fake

import (
	"strconv"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/internal/msgseq"
	"github.com/faultline/faultline/packs/internal/outbox"
	"github.com/faultline/faultline/packs/mqtt/wire"
)

// handle acts on one packet from c. It returns the read deadline for the
// next packet (0: none) and false when the connection is closing.
func (s *Server) handle(c *conn, cp packets.ControlPacket) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.out.Closing() { // taken over or closed while this packet waited for the lock
		return 0, false
	}
	if _, isConnect := cp.(*packets.ConnectPacket); !isConnect && c.sess == nil {
		return 0, s.violation(c, wire.PacketName(cp)+": before an accepted CONNECT")
	}
	ok := true
	switch p := cp.(type) {
	case *packets.ConnectPacket:
		ok = s.onConnect(c, p)
	case *packets.PublishPacket:
		ok = s.onPublish(c, p)
	case *packets.PubackPacket:
		s.onPuback(c, p)
	case *packets.SubscribePacket:
		s.onSubscribe(c, p)
	case *packets.UnsubscribePacket:
		s.onUnsubscribe(c, p)
	case *packets.PingreqPacket:
		s.onPingreq(c)
	case *packets.DisconnectPacket:
		s.record(history.Event{Kind: KindDisconnect, Conn: c.id, Session: c.sess.id})
		c.close(ReasonDisconnect)
		return 0, false
	case *packets.PubrecPacket, *packets.PubrelPacket, *packets.PubcompPacket:
		return 0, s.violation(c, wire.PacketName(cp)+": QoS 2 is not supported (this broker grants at most QoS 1)")
	default: // CONNACK, SUBACK, UNSUBACK, PINGRESP
		return 0, s.violation(c, wire.PacketName(cp)+": a packet only a broker sends")
	}
	if !ok {
		return 0, false
	}
	return time.Duration(c.keepalive) * 1500 * time.Millisecond, true
}

// violation closes c for a protocol violation (§4.8: the server closes
// the connection); false, for handle.
func (s *Server) violation(c *conn, text string) bool {
	c.close(ReasonErrorPrefix + text)
	return false
}

func (s *Server) onConnect(c *conn, p *packets.ConnectPacket) bool {
	s.record(history.Event{Kind: KindConnect, Conn: c.id, Attrs: connectAttrs(p)})
	if c.connectSeen {
		return s.violation(c, "CONNECT: a second CONNECT on the connection")
	}
	c.connectSeen = true
	switch {
	case p.ProtocolName == "MQTT" && p.ProtocolVersion == 4, p.ProtocolName == "MQIsdp" && p.ProtocolVersion == 3:
	case p.ProtocolName == "MQTT" || p.ProtocolName == "MQIsdp":
		return s.refuseConnect(c, p, packets.ErrRefusedBadProtocolVersion)
	default:
		return s.violation(c, "CONNECT: unknown protocol name "+strconv.Quote(p.ProtocolName))
	}
	clientID := p.ClientIdentifier
	if clientID == "" {
		// mosquitto: a 3.1.1 client with a clean session gets an id of the
		// broker's; 3.1 requires one, and a persistent session needs one.
		if !p.CleanSession || p.ProtocolVersion == 3 {
			return s.refuseConnect(c, p, packets.ErrRefusedIDRejected)
		}
		s.autoN++
		clientID = "auto-" + strconv.FormatInt(s.autoN, 10)
	}
	if s.refuse != 0 {
		return s.refuseConnect(c, p, s.refuse)
	}
	old := s.sessions[clientID]
	if old != nil && old.conn != nil { // takeover (§3.1.4 step 2)
		oc := old.conn
		oc.close(ReasonTakeover)
		s.detach(oc)
		old = s.sessions[clientID] // gone if it was clean or expired on its end
	}
	present := !p.CleanSession && old != nil && !old.clean
	sess := old
	if !present {
		// A clean CONNECT discards a stored session (§3.1.2.4): the
		// sessions mapping records its expiry from this handshake.
		sess = s.newSession(clientID, p.CleanSession)
		s.sessions[clientID] = sess
	}
	sess.conn = c
	c.sess, c.level, c.keepalive = sess, p.ProtocolVersion, p.Keepalive
	c.sessID.Store(sess.id)
	c.connected.Store(true)
	attrs := map[string]string{"client_id": clientID, "clean": b2s(p.CleanSession),
		"keepalive_s": strconv.Itoa(int(p.Keepalive)), "session_present": b2s(present), "code": "0"}
	if present {
		attrs["replay"] = strconv.Itoa(len(sess.pending))
	}
	s.record(history.Event{Kind: history.KindHandshake, Conn: c.id, OK: true, Session: sess.id, Attrs: attrs})
	flag := present && p.ProtocolVersion == 4 // 3.1's CONNACK has no session present flag
	s.record(history.Event{Kind: KindConnack, Conn: c.id, Session: sess.id,
		Attrs: map[string]string{"code": "0", "session_present": b2s(flag)}})
	c.send(outbox.Item{Data: wire.Connack(packets.Accepted, flag)})
	if present {
		for _, m := range sess.pending {
			s.sendPending(c, sess, m, true)
		}
	}
	return true
}

// refuseConnect answers a CONNECT with a refusing CONNACK and closes.
func (s *Server) refuseConnect(c *conn, p *packets.ConnectPacket, code byte) bool {
	name := CodeNames[code]
	s.record(history.Event{Kind: history.KindHandshake, Conn: c.id, OK: false, Reason: name,
		Attrs: map[string]string{"client_id": p.ClientIdentifier, "clean": b2s(p.CleanSession),
			"keepalive_s": strconv.Itoa(int(p.Keepalive)), "session_present": "false", "code": strconv.Itoa(int(code))}})
	s.record(history.Event{Kind: KindConnack, Conn: c.id, Reason: name,
		Attrs: map[string]string{"code": strconv.Itoa(int(code)), "session_present": "false"}})
	c.finish(ReasonRefused, wire.Connack(code, false))
	return false
}

// onPublish routes a client's message and acknowledges a QoS 1 one after
// routing it, as a broker does.
func (s *Server) onPublish(c *conn, p *packets.PublishPacket) bool {
	if p.Qos == 2 {
		return s.violation(c, "PUBLISH: QoS 2 is not supported (this broker grants at most QoS 1)")
	}
	seq := msgseq.Of(p.Payload)
	s.record(history.Event{Kind: history.KindReceive, Conn: c.id, Session: c.sess.id, Topic: p.TopicName, Seq: seq,
		Attrs: msgAttrs(p.Qos, p.Dup, p.MessageID)})
	s.route(p.TopicName, p.Payload, p.Qos, seq)
	if p.Qos == 1 {
		s.record(history.Event{Kind: KindPuback, Conn: c.id, Session: c.sess.id, Topic: p.TopicName, Seq: seq,
			Attrs: map[string]string{"packet_id": strconv.Itoa(int(p.MessageID)), "from": "server"}})
		c.send(outbox.Item{Data: wire.Puback(p.MessageID)})
	}
	return true
}

func (s *Server) onPuback(c *conn, p *packets.PubackPacket) {
	e := history.Event{Kind: KindPuback, Conn: c.id, Session: c.sess.id,
		Attrs: map[string]string{"packet_id": strconv.Itoa(int(p.MessageID)), "from": "client"}}
	if m := c.sess.ack(p.MessageID); m != nil {
		e.Topic, e.Seq = m.topic, m.seq
	} else {
		e.Attrs["known"] = "false"
	}
	s.record(e)
}

// onSubscribe grants each filter min(requested, 1): the fake's QoS 2 is 1.
func (s *Server) onSubscribe(c *conn, p *packets.SubscribePacket) {
	codes := make([]byte, len(p.Topics))
	for i, f := range p.Topics {
		granted := min(p.Qoss[i], 1)
		c.sess.subscribe(f, granted)
		codes[i] = granted
		s.record(history.Event{Kind: history.KindSubscribe, Conn: c.id, Session: c.sess.id, Topic: f,
			Attrs: map[string]string{"qos": strconv.Itoa(int(granted)), "requested": strconv.Itoa(int(p.Qoss[i]))}})
	}
	c.send(outbox.Item{Data: wire.Suback(p.MessageID, codes)})
}

func (s *Server) onUnsubscribe(c *conn, p *packets.UnsubscribePacket) {
	for _, f := range p.Topics {
		c.sess.unsubscribe(f)
		s.record(history.Event{Kind: KindUnsubscribe, Conn: c.id, Session: c.sess.id, Topic: f})
	}
	c.send(outbox.Item{Data: wire.Unsuback(p.MessageID)})
}

func (s *Server) onPingreq(c *conn) {
	s.record(history.Event{Kind: KindPingreq, Conn: c.id, Session: c.sess.id,
		Attrs: map[string]string{"answered": b2s(!s.withhold)}})
	if !s.withhold {
		c.send(outbox.Item{Data: wire.Pingresp()})
	}
}
