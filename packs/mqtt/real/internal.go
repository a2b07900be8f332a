package real

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/faultline/faultline/packs/internal/msgseq"
)

// MonitorID is the client id of the harness's own connection to each
// mosquitto: it publishes the server's messages and, subscribed to '#',
// reads every message mosquitto routes (the log shows no payloads). It is
// reserved: it appears in no event, and a client that took it would take
// the harness's connection over.
const MonitorID = "faultline-publisher"

const internalTimeout = 5 * time.Second // dial, handshake, each publish's PUBACK

// handshake sends CONNECT and reads up to the CONNACK.
func handshake(c net.Conn, cp *packets.ConnectPacket) error {
	_ = c.SetDeadline(time.Now().Add(internalTimeout))
	if err := cp.Write(c); err != nil {
		return err
	}
	p, err := packets.ReadPacket(c)
	if err != nil {
		return err
	}
	ack, ok := p.(*packets.ConnackPacket)
	if !ok {
		return fmt.Errorf("expected CONNACK, got %T", p)
	}
	if ack.ReturnCode != 0 {
		return fmt.Errorf("CONNACK return code %d", ack.ReturnCode)
	}
	return nil
}

func connectPacket(id string, clean bool, level byte) *packets.ConnectPacket {
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion = "MQTT", 4
	if level == 3 {
		cp.ProtocolName, cp.ProtocolVersion = "MQIsdp", 3
	}
	cp.ClientIdentifier, cp.CleanSession, cp.Keepalive = id, clean, 0 // 0: mosquitto never times it out
	return cp
}

// monitor is the harness's connection to one mosquitto process.
type monitor struct {
	c    net.Conn
	peer string
	box  *inbox

	wmu  sync.Mutex
	mu   sync.Mutex
	acks map[uint16]chan struct{}
	pid  uint16
	dead chan struct{} // closed when the reader ends
}

// dialMonitor connects as MonitorID and subscribes to '#' at QoS 0: a copy
// of every message (but those of '$' topics) in the order mosquitto sends
// them, without taking part in any client's QoS.
func dialMonitor(d *peers, target string, box *inbox) (*monitor, error) {
	c, peer, err := d.dialHarness(target)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*monitor, error) {
		_ = c.Close()
		return nil, fmt.Errorf("harness connection: %w", err)
	}
	if err := handshake(c, connectPacket(MonitorID, true, 4)); err != nil {
		return fail(err)
	}
	sp := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
	sp.MessageID, sp.Topics, sp.Qoss = 1, []string{"#"}, []byte{0}
	if err := sp.Write(c); err != nil {
		return fail(err)
	}
	for {
		p, err := packets.ReadPacket(c)
		if err != nil {
			return fail(err)
		}
		if _, ok := p.(*packets.SubackPacket); ok {
			break
		}
	}
	_ = c.SetDeadline(time.Time{})
	m := &monitor{c: c, peer: peer, box: box, acks: map[uint16]chan struct{}{}, dead: make(chan struct{})}
	go m.read()
	return m, nil
}

// read files every message's seq in the inbox and passes PUBACKs on.
func (m *monitor) read() {
	defer close(m.dead)
	defer m.box.end(m.peer)
	for {
		p, err := packets.ReadPacket(m.c)
		if err != nil {
			return
		}
		switch p := p.(type) {
		case *packets.PublishPacket:
			m.box.put(m.peer, msgseq.Of(p.Payload))
		case *packets.PubackPacket:
			m.mu.Lock()
			if ch := m.acks[p.MessageID]; ch != nil {
				close(ch)
				delete(m.acks, p.MessageID)
			}
			m.mu.Unlock()
		}
	}
}

// publish sends payload at QoS 1 and waits for the PUBACK (mosquitto
// acknowledges after routing the message, handle_publish.c).
func (m *monitor) publish(topic string, payload []byte) error {
	m.mu.Lock()
	m.pid++
	if m.pid == 0 {
		m.pid = 1
	}
	id := m.pid
	ack := make(chan struct{})
	m.acks[id] = ack
	m.mu.Unlock()
	pp := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	pp.TopicName, pp.Payload, pp.Qos, pp.MessageID = topic, payload, 1, id
	m.wmu.Lock()
	_ = m.c.SetWriteDeadline(time.Now().Add(internalTimeout))
	err := pp.Write(m.c)
	m.wmu.Unlock()
	if err != nil {
		return err
	}
	t := time.NewTimer(internalTimeout)
	defer t.Stop()
	select {
	case <-ack:
		return nil
	case <-m.dead:
		return errors.New("the harness connection closed")
	case <-t.C:
		m.mu.Lock()
		delete(m.acks, id)
		m.mu.Unlock()
		return errors.New("no PUBACK within " + internalTimeout.String())
	}
}

func (m *monitor) isDead() bool {
	select {
	case <-m.dead:
		return true
	default:
		return false
	}
}

// close ends the connection and waits for its reader.
func (m *monitor) close() {
	_ = m.c.Close()
	<-m.dead
}

// takeover connects as clientID with its clean session flag and protocol
// level, then disconnects: mosquitto closes the client's connection
// ("already connected, closing old connection"), and with clean 0 the
// session, its subscriptions and unacknowledged messages pass to this
// connection and stay when it disconnects, as they would had the client
// lost its connection. Messages mosquitto resends on this connection it
// resends again, DUP set, when the client comes back.
func takeover(d *peers, target, clientID string, clean bool, level byte) error {
	c, _, err := d.dialHarness(target)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	if err := handshake(c, connectPacket(clientID, clean, level)); err != nil {
		return err // the client took its id back first, or the broker is going
	}
	return packets.NewControlPacket(packets.Disconnect).Write(c)
}
