package real

import (
	"strconv"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/internal/msgseq"
)

// paho connects a paho.mqtt.golang client (the library the pack certifies
// first) that does not reconnect by itself.
func paho(t *testing.T, s *Server, id string, clean bool, keepalive time.Duration) mqtt.Client {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker("tcp://" + s.Addr()).SetClientID(id).SetCleanSession(clean).
		SetKeepAlive(keepalive).SetPingTimeout(time.Second).SetAutoReconnect(false).SetConnectTimeout(wait).
		SetProtocolVersion(4)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c
}

func done(t *testing.T, tok mqtt.Token) {
	t.Helper()
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("token: %v", tok.Error())
	}
}

// A paho client's whole session: every event and its attributes.
func TestPahoSession(t *testing.T) {
	s, log := start(t, Options{})
	got := make(chan int64, 10)
	c := paho(t, s, "fl-go-0", false, time.Second)
	acc := waitEvent(t, log, "accept", kindConn(history.KindAccept, "m1#1"))
	if acc.Server != "m1" || acc.Source != history.SrcServer || acc.Attr("remote") == "" {
		t.Fatalf("accept %v", acc)
	}
	wantAttrs(t, waitEvent(t, log, "mqtt.connect", kindConn(KindConnect, "m1#1")), map[string]string{
		"client_id": "fl-go-0", "protocol": "MQTT", "level": "4", "clean": "false", "keepalive_s": "1",
		"will": "false", "username": "false"})
	hs := waitEvent(t, log, "handshake", kindConn(history.KindHandshake, "m1#1"))
	if !hs.OK || hs.Session != "m1/fl-go-0" {
		t.Fatalf("handshake %v", hs)
	}
	wantAttrs(t, hs, map[string]string{"client_id": "fl-go-0", "clean": "false", "keepalive_s": "1",
		"session_present": "false", "code": "0"})
	wantAttrs(t, waitEvent(t, log, "mqtt.connack", kindConn(KindConnack, "m1#1")),
		map[string]string{"code": "0", "session_present": "false"})

	done(t, c.Subscribe("orders/#", 1, func(_ mqtt.Client, m mqtt.Message) { got <- msgseq.Of(m.Payload()) }))
	sub := waitEvent(t, log, "subscribe", kindConn(history.KindSubscribe, "m1#1"))
	if sub.Topic != "orders/#" || sub.Session != "m1/fl-go-0" {
		t.Fatalf("subscribe %v", sub)
	}
	wantAttrs(t, sub, map[string]string{"qos": "1", "requested": "1"})

	// The client's own message comes back to it: receive, the broker's
	// PUBACK, the delivery and the client's PUBACK, each with its seq.
	done(t, c.Publish("orders/new", 1, false, `{"n": 7, "x": "y"}`))
	if n := <-got; n != 7 {
		t.Fatalf("delivered seq %d", n)
	}
	rcv := waitEvent(t, log, "receive", kindConn(history.KindReceive, "m1#1"))
	if rcv.Topic != "orders/new" || rcv.Seq != 7 || rcv.Session != "m1/fl-go-0" {
		t.Fatalf("receive %v", rcv)
	}
	wantAttrs(t, rcv, map[string]string{"qos": "1", "dup": "false"})
	dl := waitEvent(t, log, "deliver", kindConn(history.KindDeliver, "m1#1"))
	if dl.Topic != "orders/new" || dl.Seq != 7 {
		t.Fatalf("deliver %v", dl)
	}
	wantAttrs(t, dl, map[string]string{"qos": "1", "dup": "false"})
	acks := waitN(t, log, "mqtt.puback", 2, kindConn(KindPuback, "m1#1"))
	for _, a := range acks {
		if a.Seq != 7 || a.Topic != "orders/new" {
			t.Fatalf("puback %v", a)
		}
	}
	if acks[0].Attr("from") != "server" || acks[0].Attr("packet_id") != rcv.Attr("packet_id") ||
		acks[1].Attr("from") != "client" || acks[1].Attr("packet_id") != dl.Attr("packet_id") {
		t.Fatalf("pubacks:\n%s", acks)
	}
	for _, k := range []string{history.KindReceive, history.KindDeliver} {
		if h := log.Events().Kind(k); len(h) != 1 {
			t.Fatalf("%s:\n%s", k, h) // the harness's monitor copy is not a delivery
		}
	}

	// Idle for a keepalive: paho pings, mosquitto answers.
	ping := waitEvent(t, log, "mqtt.pingreq", kindConn(KindPingreq, "m1#1"))
	wantAttrs(t, ping, map[string]string{"answered": "true"})

	c.Disconnect(100)
	waitEvent(t, log, "mqtt.disconnect", kindConn(KindDisconnect, "m1#1"))
	cl := waitEvent(t, log, "conn.close", kindConn(history.KindConnClose, "m1#1"))
	if cl.Reason != ReasonDisconnect || cl.Session != "m1/fl-go-0" {
		t.Fatalf("conn.close %v", cl)
	}

	// The persistent session is there again, with its subscription.
	c2 := paho(t, s, "fl-go-0", false, 0)
	hs2 := waitEvent(t, log, "handshake #2", kindConn(history.KindHandshake, "m1#2"))
	wantAttrs(t, hs2, map[string]string{"session_present": "true", "replay": "0"})
	c2.AddRoute("orders/#", func(_ mqtt.Client, m mqtt.Message) { got <- msgseq.Of(m.Payload()) })
	if k := s.Publish("orders/x"); k != 1 {
		t.Fatalf("publish seq %d", k)
	}
	if n := <-got; n != 1 {
		t.Fatalf("delivered seq %d after resume", n)
	}
	if d := waitEvent(t, log, "deliver #2", kindConn(history.KindDeliver, "m1#2")); d.Seq != 1 || d.Topic != "orders/x" {
		t.Fatalf("deliver after resume %v", d)
	}
	// A clean session's end: the connection closes, nothing is kept.
	c2.Disconnect(100)
	waitEvent(t, log, "conn.close #2", kindConn(history.KindConnClose, "m1#2"))
	c3 := paho(t, s, "fl-go-0", true, 0)
	wantAttrs(t, waitEvent(t, log, "handshake #3", kindConn(history.KindHandshake, "m1#3")),
		map[string]string{"session_present": "false", "clean": "true"})
	c3.Disconnect(100)
	waitEvent(t, log, "conn.close #3", kindConn(history.KindConnClose, "m1#3"))
}

// The harness's publishes: their own seqs, delivered at the subscription's
// QoS, the harness's connection nowhere in the evidence.
func TestPublish(t *testing.T) {
	s, log := start(t, Options{})
	r := dialRaw(t, s.Addr())
	r.connect("sub0", true, 60)
	r.subscribe("news", 0)
	for want := int64(1); want <= 3; want++ {
		if k := s.Publish("news"); k != want {
			t.Fatalf("publish seq %d, want %d", k, want)
		}
	}
	if s.Publish("other") != 1 {
		t.Fatal("seqs are per topic")
	}
	for i, p := range r.publishes(3) {
		if string(p.Payload) != `{"n":`+strconv.Itoa(i+1)+`}` || p.Qos != 0 {
			t.Fatalf("message %d: %s at QoS %d", i, p.Payload, p.Qos)
		}
	}
	dl := waitN(t, log, "deliver", 3, kindIs(history.KindDeliver))
	for i, d := range dl {
		if d.Seq != int64(i+1) || d.Conn != "m1#1" || d.Attr("qos") != "0" || d.Session != "m1/sub0" {
			t.Fatalf("deliver %d: %v", i, d)
		}
	}
	pubs := log.Events().Kind(history.KindPublish)
	if len(pubs) != 4 || pubs[3].Topic != "other" || pubs[3].Seq != 1 || pubs[0].Server != "m1" {
		t.Fatalf("publish events:\n%s", pubs)
	}
	for _, bad := range []string{"", "a/+", "a/#"} {
		if s.Publish(bad) != 0 {
			t.Fatalf("published on %q", bad)
		}
	}
	if h := log.Events().Kind(history.KindReceive); len(h) != 0 {
		t.Fatalf("the harness's publishes are not receives:\n%s", h)
	}
	for _, k := range []string{history.KindAccept, history.KindHandshake} {
		if h := log.Events().Kind(k); len(h) != 1 || h[0].Conn != "m1#1" {
			t.Fatalf("%s:\n%s", k, h)
		}
	}
}
