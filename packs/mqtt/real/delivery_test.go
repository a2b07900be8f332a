package real

import (
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// QoS 1 messages a persistent session did not acknowledge are sent again,
// DUP set, when it comes back; those routed to it while it was away are
// sent then too. Each delivery carries its message's seq.
func TestRedeliveryAndQueue(t *testing.T) {
	s, log := start(t, Options{})
	r := dialRaw(t, s.Addr())
	r.connect("p1", false, 60)
	r.subscribe("q/#", 1)
	s.Publish("q/a")
	s.Publish("q/a")
	first := r.publishes(2) // read, never acknowledged
	waitN(t, log, "deliver", 2, kindConn(history.KindDeliver, "m1#1"))
	_ = r.c.Close() // the link goes: no DISCONNECT
	if cl := waitEvent(t, log, "conn.close", kindConn(history.KindConnClose, "m1#1")); cl.Reason != ReasonEOF {
		t.Fatalf("conn.close %v, want eof", cl)
	}
	s.Publish("q/b") // QoS 1: queued for the session
	s.Publish("q/a") // seq 3 of q/a

	r2 := dialRaw(t, s.Addr())
	if ack := r2.connect("p1", false, 60); !ack.SessionPresent {
		t.Fatal("no session present")
	}
	hs := waitEvent(t, log, "handshake", func(e history.Event) bool { return e.Kind == history.KindHandshake && e.Conn != "m1#1" })
	wantAttrs(t, hs, map[string]string{"session_present": "true", "replay": "4"})
	again := r2.publishes(4)
	for i, p := range again[:2] {
		if !p.Dup || p.MessageID != first[i].MessageID {
			t.Fatalf("resend %d: dup %v id %d, want DUP of id %d", i, p.Dup, p.MessageID, first[i].MessageID)
		}
	}
	dl := waitN(t, log, "deliver", 4, kindConn(history.KindDeliver, hs.Conn))
	want := []struct {
		topic string
		seq   int64
		dup   string
	}{{"q/a", 1, "true"}, {"q/a", 2, "true"}, {"q/b", 1, "false"}, {"q/a", 3, "false"}}
	for i, w := range want {
		d := dl[i]
		if d.Topic != w.topic || d.Seq != w.seq || d.Attr("dup") != w.dup || d.Attr("replay") != "true" || d.Attr("qos") != "1" {
			t.Errorf("redelivery %d: %v, want %s seq %d dup %s replay", i, d, w.topic, w.seq, w.dup)
		}
	}
	for _, p := range again {
		r2.puback(p.MessageID)
	}
	acks := waitN(t, log, "client puback", 4, kindConn(KindPuback, hs.Conn))
	for i, a := range acks {
		if a.Attr("from") != "client" || a.Seq != want[i].seq || a.Topic != want[i].topic {
			t.Errorf("puback %d: %v", i, a)
		}
	}
}

// A client's own numbered sends: receive carries the number, dup the flag.
func TestReceive(t *testing.T) {
	s, log := start(t, Options{})
	r := dialRaw(t, s.Addr())
	r.connect("sender", true, 60)
	r.publish("faultline/send", `{"n":41}`, 1, 9)
	r.read() // PUBACK
	r.publish("faultline/send", `{"n":42}`, 0, 0)
	pp := `{"n":41}`
	r.publish("faultline/send", pp, 1, 9) // the same again, DUP not set: a new message to mosquitto
	r.read()
	rc := waitN(t, log, "receive", 3, kindIs(history.KindReceive))
	for i, w := range []struct {
		seq      int64
		qos, pid string
	}{{41, "1", "9"}, {42, "0", "0"}, {41, "1", "9"}} {
		if rc[i].Seq != w.seq || rc[i].Attr("qos") != w.qos || rc[i].Attr("packet_id") != w.pid || rc[i].Topic != "faultline/send" {
			t.Errorf("receive %d: %v", i, rc[i])
		}
	}
	if h := log.Events().Kind(history.KindDeliver); len(h) != 0 {
		t.Fatalf("no subscriber, no delivery:\n%s", h)
	}
}
