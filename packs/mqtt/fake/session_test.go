package fake

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// A persistent session keeps its subscriptions and its unacknowledged QoS 1
// messages across connections: what was sent and not acknowledged comes
// again with DUP and the same packet id, what was published while it was
// offline comes without DUP, QoS 0 while offline is dropped.
func TestPersistentRedelivery(t *testing.T) {
	s, log := start(t, Options{})
	a, sp := open(t, s, "a", false)
	if sp {
		t.Fatal("a new session is present")
	}
	a.subscribe(1, "t", 1)
	s.Publish("t", []byte(`{"n":1}`))
	first := a.message()
	if first.Dup || first.Qos != 1 {
		t.Fatalf("PUBLISH %v", first)
	}
	a.nc.Close() // not acknowledged; gone without DISCONNECT
	waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1"))

	s.Publish("t", []byte(`{"n":2}`))
	q0, _ := open(t, s, "q0", true)
	q0.publish("t", `{"n":99}`, 0, 0) // effective QoS 0 to an offline session: dropped
	drop := waitEvent(t, log, "mqtt.drop", kind(KindDrop, ""))
	if drop.Session != "s1/a" || drop.Seq != 99 || drop.Reason != DropOffline {
		t.Fatalf("mqtt.drop %v", drop)
	}

	a, sp = open(t, s, "a", false)
	if !sp {
		t.Fatal("the persistent session is not present")
	}
	again := a.message()
	if !again.Dup || again.MessageID != first.MessageID || string(again.Payload) != `{"n":1}` {
		t.Fatalf("redelivery %v, first %v", again, first)
	}
	queued := a.message()
	if queued.Dup || queued.Qos != 1 || string(queued.Payload) != `{"n":2}` || queued.MessageID == first.MessageID {
		t.Fatalf("queued %v", queued)
	}
	a.silent(100 * time.Millisecond)
	hs := events(log, history.KindHandshake)
	if last := hs[len(hs)-1]; last.Attr("session_present") != "true" || last.Attr("replay") != "2" {
		t.Fatalf("handshake %v", last)
	}
	dl := waitEvent(t, log, "replayed deliver", func(e history.Event) bool {
		return e.Kind == history.KindDeliver && e.Seq == 1 && e.Attr("dup") == "true"
	})
	if dl.Attr("replay") != "true" || dl.Conn != "s1#3" || dl.Attr("packet_id") != itoa(first.MessageID) {
		t.Fatalf("deliver %v", dl)
	}
	waitEvent(t, log, "queued deliver", func(e history.Event) bool {
		return e.Kind == history.KindDeliver && e.Seq == 2 && e.Attr("dup") == "false" && e.Attr("replay") == "true"
	})

	// Acknowledged: not sent again; the subscription is still there.
	a.puback(again.MessageID)
	a.puback(queued.MessageID)
	a.disconnect()
	a, _ = open(t, s, "a", false)
	a.silent(200 * time.Millisecond)
	s.Publish("t", []byte(`{"n":3}`))
	if m := a.message(); string(m.Payload) != `{"n":3}` || m.Dup {
		t.Fatalf("after acks %v", m)
	}
}

// A clean session keeps nothing: its subscriptions and messages go with its
// connection, and a clean CONNECT discards a stored persistent session.
func TestCleanSessionDiscards(t *testing.T) {
	s, log := start(t, Options{})
	a, _ := open(t, s, "a", true)
	a.subscribe(1, "t", 1)
	a.disconnect()
	a, sp := open(t, s, "a", true)
	if sp {
		t.Fatal("a clean session is present")
	}
	s.Publish("t", []byte(`{"n":1}`))
	a.silent(100 * time.Millisecond)
	a.disconnect()

	// persistent, then clean: the stored session is discarded
	a, _ = open(t, s, "a", false)
	a.subscribe(1, "t", 1)
	a.disconnect()
	s.Publish("t", []byte(`{"n":2}`)) // queued for it
	a, sp = open(t, s, "a", true)
	if sp {
		t.Fatal("a clean CONNECT found its session")
	}
	a.silent(100 * time.Millisecond)
	a.disconnect()
	if _, sp := open(t, s, "a", false); sp {
		t.Fatal("the discarded session came back")
	}
	if n := len(events(log, history.KindDeliver)); n != 0 {
		t.Fatalf("%d delivers:\n%s", n, dump(log))
	}
}

// expire_sessions discards the persistent sessions not connected at once,
// the connected ones when their connection ends.
func TestExpireSessions(t *testing.T) {
	s, log := start(t, Options{})
	off, _ := open(t, s, "off", false)
	off.subscribe(1, "t", 1)
	off.disconnect()
	on, _ := open(t, s, "on", false)
	open(t, s, "clean", true)
	s.ExpireSessions()
	// off's connection may still be on its way out: then it expires when dropped
	waitEvent(t, log, "session.expire", kind(history.KindSessionExpire, ""))
	ex := events(log, history.KindSessionExpire)
	if len(ex) != 1 || ex[0].Session != "s1/off" || ex[0].Attr("why") != "expire_sessions" {
		t.Fatalf("session.expire %v", ex)
	}
	if _, sp := open(t, s, "on", false); sp { // a takeover ends the connected one: its session with it
		t.Fatal("an expired session was resumed")
	}
	on.closed()
	ex = events(log, history.KindSessionExpire)
	if len(ex) != 2 || ex[1].Session != "s1/on" {
		t.Fatalf("session.expire %v", ex)
	}
	i, j := index(log, history.KindConnClose, "s1#2"), index(log, history.KindSessionExpire, "")
	if i < 0 || i > j {
		t.Fatalf("conn.close before session.expire:\n%s", dump(log))
	}
	if _, sp := open(t, s, "off", false); sp {
		t.Fatal("an expired session was resumed")
	}
}

// index is the position of the last event of kind (on conn, if given).
func index(log *history.Log, k, conn string) int {
	at := -1
	for i, e := range log.Events() {
		if e.Kind == k && (conn == "" || e.Conn == conn) {
			at = i
		}
	}
	return at
}

// Messages beyond MaxQueued for a session are dropped (queue_full).
func TestQueueBound(t *testing.T) {
	s, log := start(t, Options{MaxQueued: 2})
	a, _ := open(t, s, "a", false)
	a.subscribe(1, "t", 1)
	a.disconnect()
	for range 3 {
		s.Publish("t", []byte("{}"))
	}
	if d := waitEvent(t, log, "mqtt.drop", kind(KindDrop, "")); d.Reason != DropQueueFull || d.Seq != 3 {
		t.Fatalf("mqtt.drop %v", d)
	}
	a, _ = open(t, s, "a", false)
	a.message()
	a.message()
	a.silent(100 * time.Millisecond)
}
