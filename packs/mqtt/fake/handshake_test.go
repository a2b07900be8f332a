package fake

import (
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/faultline/faultline/harness/history"
)

func TestHandshake(t *testing.T) {
	s, log := start(t, Options{})
	c := dial(t, s)
	p := connectPacket("c1", true, 30)
	p.UsernameFlag, p.Username = true, "u"
	ack := c.connect(p)
	if ack.ReturnCode != 0 || ack.SessionPresent {
		t.Fatalf("CONNACK %v", ack)
	}
	hs := waitEvent(t, log, "handshake", kind(history.KindHandshake, "s1#1"))
	if !hs.OK || hs.Session != "s1/c1" || hs.Attr("client_id") != "c1" || hs.Attr("clean") != "true" ||
		hs.Attr("keepalive_s") != "30" || hs.Attr("session_present") != "false" || hs.Attr("code") != "0" {
		t.Fatalf("handshake %v", hs)
	}
	mc := events(log, KindConnect)[0]
	if mc.Attr("protocol") != "MQTT" || mc.Attr("level") != "4" || mc.Attr("username") != "true" || mc.Attr("password") != "false" || mc.Attr("will") != "false" {
		t.Fatalf("mqtt.connect %v", mc)
	}
	if ca := events(log, KindConnack)[0]; ca.Attr("code") != "0" || ca.Attr("session_present") != "false" || ca.Session != "s1/c1" {
		t.Fatalf("mqtt.connack %v", ca)
	}
	assertOrder(t, log, history.KindAccept, KindConnect, history.KindHandshake, KindConnack)

	c.send(packets.NewControlPacket(packets.Pingreq))
	if _, ok := c.next().(*packets.PingrespPacket); !ok {
		t.Fatal("want PINGRESP")
	}
	if pr := waitEvent(t, log, "mqtt.pingreq", kind(KindPingreq, "s1#1")); pr.Attr("answered") != "true" || pr.Session != "s1/c1" {
		t.Fatalf("mqtt.pingreq %v", pr)
	}
	c.disconnect()
	waitEvent(t, log, "mqtt.disconnect", kind(KindDisconnect, "s1#1"))
	if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1")); cl.Reason != ReasonDisconnect || cl.Session != "s1/c1" {
		t.Fatalf("conn.close %v", cl)
	}
}

// MQTT 3.1 (MQIsdp, level 3) is spoken too, as mosquitto does: paho.mqtt.golang
// falls back to it after a refusal. Its CONNACK has no session present flag.
func TestHandshakeMQIsdp(t *testing.T) {
	s, log := start(t, Options{})
	p := connectPacket("c1", false, 0)
	p.ProtocolName, p.ProtocolVersion = "MQIsdp", 3
	c := dial(t, s)
	if ack := c.connect(p); ack.ReturnCode != 0 {
		t.Fatalf("CONNACK %v", ack)
	}
	c.disconnect()
	c = dial(t, s)
	if ack := c.connect(p); ack.ReturnCode != 0 || ack.SessionPresent {
		t.Fatalf("CONNACK %v", ack)
	}
	hs := events(log, history.KindHandshake)[1]
	if !hs.OK || hs.Attr("session_present") != "true" {
		t.Fatalf("handshake %v", hs)
	}
	if ca := events(log, KindConnack)[1]; ca.Attr("session_present") != "false" {
		t.Fatalf("mqtt.connack %v", ca)
	}
}

// A client id the broker cannot take, a version it does not speak, and the
// refuse action are CONNACK refusals: handshake OK=false with the code's
// name, then the close (reason refused).
func TestRefusals(t *testing.T) {
	tests := []struct {
		name   string
		refuse byte
		edit   func(*packets.ConnectPacket)
		code   byte
	}{
		{"bad level", 0, func(p *packets.ConnectPacket) { p.ProtocolVersion = 5 }, 1},
		{"MQIsdp at level 4", 0, func(p *packets.ConnectPacket) { p.ProtocolName = "MQIsdp" }, 1},
		{"empty id, persistent", 0, func(p *packets.ConnectPacket) { p.ClientIdentifier, p.CleanSession = "", false }, 2},
		{"empty id, 3.1", 0, func(p *packets.ConnectPacket) {
			p.ClientIdentifier, p.ProtocolName, p.ProtocolVersion = "", "MQIsdp", 3
		}, 2},
		{"refuse 1", 1, nil, 1},
		{"refuse 2", 2, nil, 2},
		{"refuse 3", 3, nil, 3},
		{"refuse 4", 4, nil, 4},
		{"refuse 5", 5, nil, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, log := start(t, Options{})
			s.Refuse(tt.refuse)
			p := connectPacket("c1", true, 0)
			if tt.edit != nil {
				tt.edit(p)
			}
			c := dial(t, s)
			if ack := c.connect(p); ack.ReturnCode != tt.code || ack.SessionPresent {
				t.Fatalf("CONNACK %v, want code %d", ack, tt.code)
			}
			c.closed()
			hs := waitEvent(t, log, "handshake", kind(history.KindHandshake, "s1#1"))
			if hs.OK || hs.Reason != CodeNames[tt.code] || hs.Session != "" || hs.Attr("code") != string('0'+tt.code) {
				t.Fatalf("handshake %v", hs)
			}
			if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1")); cl.Reason != ReasonRefused || cl.Session != "" {
				t.Fatalf("conn.close %v", cl)
			}
			assertOrder(t, log, KindConnect, history.KindHandshake, KindConnack, history.KindConnClose)
		})
	}
}

func TestAdmitAfterRefuse(t *testing.T) {
	s, _ := start(t, Options{})
	s.Refuse(5)
	c := dial(t, s)
	if ack := c.connect(connectPacket("c1", true, 0)); ack.ReturnCode != 5 {
		t.Fatalf("CONNACK %v", ack)
	}
	s.Refuse(0)
	open(t, s, "c1", true)
}

// A 3.1.1 client with a clean session and no id gets one of the broker's.
func TestAutoClientID(t *testing.T) {
	s, log := start(t, Options{})
	open(t, s, "", true)
	if hs := waitEvent(t, log, "handshake", kind(history.KindHandshake, "s1#1")); hs.Session != "s1/auto-1" || hs.Attr("client_id") != "auto-1" {
		t.Fatalf("handshake %v", hs)
	}
}

// A second CONNECT with the client id of a connected one closes the first
// (takeover), before the second's handshake.
func TestTakeover(t *testing.T) {
	s, log := start(t, Options{})
	a, _ := open(t, s, "c1", false)
	a.subscribe(1, "t", 1)
	b, sp := open(t, s, "c1", false)
	if !sp {
		t.Fatal("the taken-over persistent session is not present")
	}
	a.closed()
	if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1")); cl.Reason != ReasonTakeover || cl.Session != "s1/c1" {
		t.Fatalf("conn.close %v", cl)
	}
	hs := events(log, history.KindHandshake, history.KindConnClose)
	if len(hs) != 3 || hs[1].Kind != history.KindConnClose || hs[2].Conn != "s1#2" {
		t.Fatalf("takeover order:\n%s", dump(log))
	}
	// The subscription went with the session.
	s.Publish("t", []byte(`{"n":1}`))
	if m := b.message(); m.TopicName != "t" || m.Qos != 1 {
		t.Fatalf("PUBLISH %v", m)
	}
	// A clean CONNECT takes over too, and starts afresh.
	open(t, s, "c1", true)
	b.closed()
}
