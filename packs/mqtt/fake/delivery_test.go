package fake

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// A QoS 1 message from a client: PUBACK to the publisher, PUBLISH QoS 1 to
// the subscriber, whose PUBACK ends it; the evidence names seq and packet
// ids on both sides.
func TestQoS1RoundTrip(t *testing.T) {
	s, log := start(t, Options{})
	sub, _ := open(t, s, "sub", true)
	if codes := sub.subscribe(1, "a/b", 1); len(codes) != 1 || codes[0] != 1 {
		t.Fatalf("SUBACK %v", codes)
	}
	pub, _ := open(t, s, "pub", true)
	pub.publish("a/b", `{"n":7}`, 1, 42)
	m := sub.message()
	if m.TopicName != "a/b" || m.Qos != 1 || m.Dup || m.MessageID == 0 || string(m.Payload) != `{"n":7}` {
		t.Fatalf("PUBLISH %v", m)
	}
	sub.puback(m.MessageID)

	sb := waitEvent(t, log, "subscribe", kind(history.KindSubscribe, "s1#1"))
	if sb.Topic != "a/b" || sb.Session != "s1/sub" || sb.Attr("qos") != "1" || sb.Attr("requested") != "1" {
		t.Fatalf("subscribe %v", sb)
	}
	rc := waitEvent(t, log, "receive", kind(history.KindReceive, "s1#2"))
	if rc.Seq != 7 || rc.Topic != "a/b" || rc.Session != "s1/pub" || rc.Attr("qos") != "1" || rc.Attr("dup") != "false" || rc.Attr("packet_id") != "42" {
		t.Fatalf("receive %v", rc)
	}
	dl := waitEvent(t, log, "deliver", kind(history.KindDeliver, "s1#1"))
	if dl.Seq != 7 || dl.Session != "s1/sub" || dl.Attr("qos") != "1" || dl.Attr("dup") != "false" || dl.Attr("packet_id") != itoa(m.MessageID) || dl.Attr("replay") != "" {
		t.Fatalf("deliver %v", dl)
	}
	fromServer := waitEvent(t, log, "puback from server", func(e history.Event) bool { return e.Kind == KindPuback && e.Attr("from") == "server" })
	if fromServer.Conn != "s1#2" || fromServer.Attr("packet_id") != "42" || fromServer.Seq != 7 {
		t.Fatalf("mqtt.puback %v", fromServer)
	}
	fromClient := waitEvent(t, log, "puback from client", func(e history.Event) bool { return e.Kind == KindPuback && e.Attr("from") == "client" })
	if fromClient.Conn != "s1#1" || fromClient.Seq != 7 || fromClient.Topic != "a/b" || fromClient.Attr("known") != "" {
		t.Fatalf("mqtt.puback %v", fromClient)
	}
	sub.puback(999) // an id the session does not hold
	waitEvent(t, log, "unknown puback", func(e history.Event) bool { return e.Kind == KindPuback && e.Attr("known") == "false" })
}

// Server publishes are QoS 1, delivered at the subscription's QoS: min(1,
// granted); a QoS 2 request is granted 1. Seq counts per topic.
func TestPublishQoS(t *testing.T) {
	s, log := start(t, Options{})
	q0, _ := open(t, s, "q0", true)
	q0.subscribe(1, "t", 0)
	q2, _ := open(t, s, "q2", true)
	if codes := q2.subscribe(1, "t", 2); codes[0] != 1 {
		t.Fatalf("QoS 2 granted %d", codes[0])
	}
	if seq := s.Publish("t", []byte(`{"n":1}`)); seq != 1 {
		t.Fatalf("seq %d", seq)
	}
	if seq := s.Publish("t", []byte(`{"n":2}`)); seq != 2 {
		t.Fatalf("seq %d", seq)
	}
	if seq := s.Publish("u", []byte(`{"n":1}`)); seq != 1 {
		t.Fatalf("seq on another topic %d", seq)
	}
	for i := range 2 {
		if m := q0.message(); m.Qos != 0 || string(m.Payload) != `{"n":`+itoa(uint16(i+1))+`}` {
			t.Fatalf("QoS 0 subscriber got %v", m)
		}
		if m := q2.message(); m.Qos != 1 {
			t.Fatalf("QoS 2 subscriber got %v", m)
		}
	}
	pubs := events(log, history.KindPublish)
	if len(pubs) != 3 || pubs[0].Seq != 1 || pubs[1].Seq != 2 || pubs[2].Topic != "u" {
		t.Fatalf("publish %v", pubs)
	}
	waitEvent(t, log, "deliver QoS 0", func(e history.Event) bool {
		return e.Kind == history.KindDeliver && e.Conn == "s1#1" && e.Seq == 2 && e.Attr("qos") == "0" && e.Attr("packet_id") == "0"
	})
}

// Wildcard filters route what they match, and only that; one copy per
// matching subscription, as mosquitto 2 sends.
func TestWildcardRouting(t *testing.T) {
	s, _ := start(t, Options{})
	plus, _ := open(t, s, "plus", true)
	plus.subscribe(1, "a/+/c", 0)
	hash, _ := open(t, s, "hash", true)
	hash.subscribe(1, "a/#", 0)
	both, _ := open(t, s, "both", true)
	both.subscribe(1, "a/+/c", 0)
	both.subscribe(2, "#", 0)
	pub, _ := open(t, s, "pub", true)
	for _, topic := range []string{"a/b/c", "a/x", "b/c", "a"} {
		pub.publish(topic, topic, 0, 0)
	}
	expect := func(c *client, topics ...string) {
		t.Helper()
		for _, want := range topics {
			if m := c.message(); m.TopicName != want {
				t.Fatalf("got %s, want %s", m.TopicName, want)
			}
		}
		c.silent(100 * time.Millisecond)
	}
	expect(plus, "a/b/c")
	expect(hash, "a/b/c", "a/x", "a")
	expect(both, "a/b/c", "a/b/c", "a/x", "b/c", "a")
}

// UNSUBSCRIBE ends a subscription.
func TestUnsubscribe(t *testing.T) {
	s, log := start(t, Options{})
	c, _ := open(t, s, "c", true)
	c.subscribe(1, "t", 1)
	c.write([]byte{0xa2, 0x05, 0x00, 0x09, 0x00, 0x01, 't'})
	if ack := c.next(); ack.Details().MessageID != 9 {
		t.Fatalf("UNSUBACK %v", ack)
	}
	s.Publish("t", []byte("{}"))
	c.silent(100 * time.Millisecond)
	if u := waitEvent(t, log, "mqtt.unsubscribe", kind(KindUnsubscribe, "s1#1")); u.Topic != "t" || u.Session != "s1/c" {
		t.Fatalf("mqtt.unsubscribe %v", u)
	}
}

func itoa(n uint16) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
