package fake

import (
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/faultline/faultline/harness/history"
)

// No packet within 1.5 × keepalive closes the connection (keepalive); any
// packet, a PINGREQ too, puts it off.
func TestKeepaliveClose(t *testing.T) {
	s, log := start(t, Options{})
	c := dial(t, s)
	c.connect(connectPacket("c1", true, 1))
	time.Sleep(700 * time.Millisecond) // under 1.5 s: still open
	begin := time.Now()
	c.send(packets.NewControlPacket(packets.Pingreq))
	c.next()
	c.closed()
	if d := time.Since(begin); d < 1500*time.Millisecond || d > 2900*time.Millisecond {
		t.Fatalf("closed %v after the last packet, want 1.5 s", d)
	}
	if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1")); cl.Reason != ReasonKeepalive || cl.Session != "s1/c1" {
		t.Fatalf("conn.close %v", cl)
	}
}

// Keepalive 0 turns the broker's timer off.
func TestKeepaliveZero(t *testing.T) {
	s, _ := start(t, Options{})
	c, _ := open(t, s, "c1", true)
	c.silent(300 * time.Millisecond)
	c.send(packets.NewControlPacket(packets.Pingreq))
	c.next()
}

// A connection that never sends CONNECT is closed after ConnectTimeout.
func TestConnectTimeout(t *testing.T) {
	s, log := start(t, Options{ConnectTimeout: 200 * time.Millisecond})
	dial(t, s).closed()
	if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1")); cl.Reason != "error:no CONNECT within 200ms" {
		t.Fatalf("conn.close %v", cl)
	}
}

// withhold_pongs leaves PINGREQs unanswered, the link up; answer_pongs
// answers again. The withheld PINGREQ still counts as heard for keepalive.
func TestWithholdPongs(t *testing.T) {
	s, log := start(t, Options{})
	c := dial(t, s)
	c.connect(connectPacket("c1", true, 1))
	s.WithholdPongs(true)
	for range 4 { // 1.6 s in all: the unanswered PINGREQs keep it alive
		c.send(packets.NewControlPacket(packets.Pingreq))
		c.silent(400 * time.Millisecond)
	}
	s.WithholdPongs(false)
	c.send(packets.NewControlPacket(packets.Pingreq))
	if _, ok := c.next().(*packets.PingrespPacket); !ok {
		t.Fatal("want PINGRESP")
	}
	pr := events(log, KindPingreq)
	if len(pr) != 5 || pr[0].Attr("answered") != "false" || pr[3].Attr("answered") != "false" || pr[4].Attr("answered") != "true" {
		t.Fatalf("mqtt.pingreq %v", pr)
	}
	if n := len(events(log, history.KindConnClose)); n != 0 {
		t.Fatalf("closed:\n%s", dump(log))
	}
}

// Close is a kill: every connection closes (killed), persistent sessions
// are gone (session.expire), and a publish after it does nothing.
func TestCloseKills(t *testing.T) {
	log := history.NewLog(history.NewClock())
	s, err := Start("s1", log, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := open(t, s, "a", false)
	open(t, s, "b", true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	a.closed()
	for _, id := range []string{"s1#1", "s1#2"} {
		if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, id)); cl.Reason != ReasonKilled {
			t.Fatalf("conn.close %v", cl)
		}
	}
	ex := events(log, history.KindSessionExpire)
	if len(ex) != 1 || ex[0].Session != "s1/a" || ex[0].Attr("why") != "killed" {
		t.Fatalf("session.expire %v", ex)
	}
	if seq := s.Publish("t", []byte("{}")); seq != 0 {
		t.Fatalf("a closed broker published seq %d", seq)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// server_close closes every connection; persistent sessions stay.
func TestCloseConnections(t *testing.T) {
	s, log := start(t, Options{})
	a, _ := open(t, s, "a", false)
	a.subscribe(1, "t", 1)
	s.CloseConnections()
	a.closed()
	if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1")); cl.Reason != ReasonServerClose {
		t.Fatalf("conn.close %v", cl)
	}
	if _, sp := open(t, s, "a", false); !sp {
		t.Fatal("the persistent session did not survive server_close")
	}
}
