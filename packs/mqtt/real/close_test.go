package real

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/faultline/faultline/harness/history"
)

func TestCloseReasons(t *testing.T) {
	s, log := start(t, Options{})
	eof := dialRaw(t, s.Addr())
	eof.connect("eof", true, 60)
	rst := dialRaw(t, s.Addr())
	rst.connect("rst", true, 60)
	disc := dialRaw(t, s.Addr())
	disc.connect("disc", true, 60)
	waitN(t, log, "handshakes", 3, kindIs(history.KindHandshake))

	_ = eof.c.Close()
	_ = rst.c.(*net.TCPConn).SetLinger(0) // close with a reset
	_ = rst.c.Close()
	disc.send(packets.NewControlPacket(packets.Disconnect))
	for conn, want := range map[string]string{"m1#1": ReasonEOF, "m1#2": ReasonEOF, "m1#3": ReasonDisconnect} {
		cl := waitEvent(t, log, "conn.close "+conn, kindConn(history.KindConnClose, conn))
		if cl.Reason != want || cl.Session == "" {
			t.Errorf("conn.close %v, want %s with its session", cl, want)
		}
	}
	waitEvent(t, log, "mqtt.disconnect", kindConn(KindDisconnect, "m1#3"))

	// A second CONNECT on a connection is a protocol error.
	twice := dialRaw(t, s.Addr())
	twice.connect("twice", true, 60)
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.ClientIdentifier = "MQTT", 4, "twice"
	twice.send(cp)
	twice.closedByServer()
	if cl := waitEvent(t, log, "conn.close m1#4", kindConn(history.KindConnClose, "m1#4")); cl.Reason != "error:protocol error" {
		t.Errorf("conn.close %v, want error:protocol error", cl)
	}
}

// mosquitto 2.0.11 looks for silent clients every 6 s or so (keepalive.c:
// when its last look is more than 5 whole seconds old), so a client past
// 1.5 × its keepalive is closed up to 6 s late.
func TestKeepaliveTimeout(t *testing.T) {
	s, log := start(t, Options{})
	r := dialRaw(t, s.Addr())
	r.connect("silent", true, 1)
	began := time.Now()
	cl := waitEventFor(t, log, "keepalive close", 15*time.Second, kindConn(history.KindConnClose, "m1#1"))
	if cl.Reason != ReasonKeepalive || cl.Attr("native") != "has exceeded timeout, disconnecting" {
		t.Fatalf("conn.close %v, want keepalive", cl)
	}
	if d := time.Since(began); d < 1500*time.Millisecond {
		t.Fatalf("closed after %v, before 1.5 × keepalive", d)
	}
	r.closedByServer()
}

func TestTakeoverByClient(t *testing.T) {
	s, log := start(t, Options{})
	a := dialRaw(t, s.Addr())
	a.connect("same", false, 60)
	b := dialRaw(t, s.Addr())
	if ack := b.connect("same", false, 60); !ack.SessionPresent {
		t.Fatal("the persistent session was not taken over")
	}
	a.closedByServer()
	cl := waitEvent(t, log, "conn.close", kindConn(history.KindConnClose, "m1#1"))
	if cl.Reason != ReasonTakeover || cl.Session != "m1/same" {
		t.Fatalf("conn.close %v, want takeover", cl)
	}
	hs := waitEvent(t, log, "handshake #2", kindConn(history.KindHandshake, "m1#2"))
	wantAttrs(t, hs, map[string]string{"session_present": "true"})
	// The close precedes the new handshake.
	if ev := log.Events(); indexOf(ev, cl) > indexOf(ev, hs) {
		t.Fatalf("takeover recorded after the new handshake:\n%s", ev)
	}
}

func indexOf(h history.History, e history.Event) int {
	for i, x := range h {
		if x.Kind == e.Kind && x.Conn == e.Conn {
			return i
		}
	}
	return -1
}

// The close action takes every client over: each connection closes with
// server_close, a persistent session stays (with its subscription and its
// unacknowledged messages), a clean one ends.
func TestCloseConnections(t *testing.T) {
	s, log := start(t, Options{})
	keep := dialRaw(t, s.Addr())
	keep.connect("keep", false, 60)
	keep.subscribe("k", 1)
	clean := dialRaw(t, s.Addr())
	clean.connect("clean", true, 60)
	clean.subscribe("k", 1)
	s.Publish("k")
	keep.publishes(1) // unacknowledged
	clean.publishes(1)
	s.CloseConnections()
	keep.closedByServer()
	clean.closedByServer()
	for _, c := range []string{"m1#1", "m1#2"} {
		if cl := waitEvent(t, log, "conn.close "+c, kindConn(history.KindConnClose, c)); cl.Reason != ReasonServerClose {
			t.Fatalf("conn.close %v, want server_close", cl)
		}
	}
	if h := log.Events().Kind(history.KindError); len(h) != 0 {
		t.Fatalf("errors:\n%s", h)
	}
	back := dialRaw(t, s.Addr())
	if ack := back.connect("keep", false, 60); !ack.SessionPresent {
		t.Fatal("the persistent session did not survive the close")
	}
	p := back.publishes(1)[0]
	if !p.Dup || string(p.Payload) != `{"n":1}` {
		t.Fatalf("redelivery after the close: dup %v %s", p.Dup, p.Payload)
	}
	d := waitEvent(t, log, "redelivery", kindConn(history.KindDeliver, "m1#3"))
	if d.Seq != 1 || d.Attr("dup") != "true" {
		t.Fatalf("redelivery %v", d)
	}
	cb := dialRaw(t, s.Addr())
	if ack := cb.connect("clean", false, 60); ack.SessionPresent {
		t.Fatal("a clean session outlived the close")
	}
	// Only the clients are in the evidence: 4 accepts, no harness takeover.
	waitEvent(t, log, "handshake #4", kindConn(history.KindHandshake, "m1#4"))
	if h := log.Events().Kind(history.KindAccept); len(h) != 4 {
		t.Fatalf("accepts:\n%s", h)
	}
	// Nothing to close: no error.
	s2, log2 := start(t, Options{})
	s2.CloseConnections()
	if h := log2.Events(); len(h) != 0 {
		t.Fatalf("close of nobody:\n%s", h)
	}
}

// A refused CONNECT: mosquitto's own refusals (no lever asks for them).
func TestRefusal(t *testing.T) {
	s, log := start(t, Options{})
	r := dialRaw(t, s.Addr())
	if ack := r.connect("", false, 60); ack.ReturnCode != packets.ErrRefusedIDRejected {
		t.Fatalf("CONNACK %d, want 2", ack.ReturnCode)
	}
	hs := waitEvent(t, log, "handshake", kindConn(history.KindHandshake, "m1#1"))
	if hs.OK || hs.Reason != "identifier_rejected" || hs.Attr("code") != "2" || hs.Attr("client_id") != "" {
		t.Fatalf("handshake %v", hs)
	}
	if cl := waitEvent(t, log, "conn.close", kindConn(history.KindConnClose, "m1#1")); cl.Reason != ReasonRefused {
		t.Fatalf("conn.close %v", cl)
	}
	if ca := waitEvent(t, log, "mqtt.connack", kindConn(KindConnack, "m1#1")); ca.Reason != "identifier_rejected" {
		t.Fatalf("mqtt.connack %v", ca)
	}
}

// Connections that sent no CONNECT are "<unknown>" in mosquitto's close
// lines: the kernel's socket table tells which one went.
func TestUnknownCloses(t *testing.T) {
	s, log := start(t, Options{})
	a := dialRaw(t, s.Addr())
	b := dialRaw(t, s.Addr())
	c := dialRaw(t, s.Addr())
	waitN(t, log, "accepts", 3, kindIs(history.KindAccept))
	_ = b.c.Close()
	cl := waitEvent(t, log, "conn.close", kindIs(history.KindConnClose))
	if cl.Conn != "m1#2" || cl.Reason != ReasonEOF {
		t.Fatalf("conn.close %v, want m1#2 eof", cl)
	}
	c.send(packets.NewControlPacket(packets.Pingreq)) // not a CONNECT: protocol error
	c.closedByServer()
	if cl := waitEvent(t, log, "conn.close m1#3", kindConn(history.KindConnClose, "m1#3")); cl.Reason != "error:protocol error" {
		t.Fatalf("conn.close %v", cl)
	}
	_ = a
}

// A mosquitto that dies by itself: its connections close, the harness says so.
func TestCrash(t *testing.T) {
	s, log := start(t, Options{})
	r := dialRaw(t, s.Addr())
	r.connect("c", true, 60)
	waitEvent(t, log, "handshake", kindIs(history.KindHandshake))
	_ = syscall.Kill(s.inc.p.cmd.Process.Pid, syscall.SIGKILL)
	cl := waitEvent(t, log, "conn.close", kindIs(history.KindConnClose))
	if cl.Reason != "error:mosquitto exited" {
		t.Fatalf("conn.close %v", cl)
	}
	waitEvent(t, log, "error", func(e history.Event) bool { return e.Kind == history.KindError && e.Source == history.SrcHarness })
}

// A client's will, published when it goes without DISCONNECT.
func TestWill(t *testing.T) {
	s, log := start(t, Options{})
	w := dialRaw(t, s.Addr())
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.ClientIdentifier, cp.CleanSession, cp.Keepalive = "MQTT", 4, "w", true, 60
	cp.WillFlag, cp.WillTopic, cp.WillMessage, cp.WillQos = true, "wills/w", []byte(`{"n":99}`), 1
	cp.UsernameFlag, cp.Username = true, "u"
	w.send(cp)
	w.read()
	wantAttrs(t, waitEvent(t, log, "mqtt.connect", kindIs(KindConnect)), map[string]string{
		"will": "true", "will_qos": "1", "will_retain": "false", "will_topic": "wills/w", "username": "true"})
	sub := dialRaw(t, s.Addr())
	sub.connect("sub", true, 60)
	sub.subscribe("wills/#", 1)
	_ = w.c.Close()
	p := sub.publishes(1)[0]
	if p.TopicName != "wills/w" {
		t.Fatalf("will on %q", p.TopicName)
	}
	d := waitEvent(t, log, "deliver", kindIs(history.KindDeliver))
	if d.Topic != "wills/w" || d.Seq != 99 || d.Conn != "m1#2" {
		t.Fatalf("will delivery %v", d)
	}
}
