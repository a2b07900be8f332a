package fake

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/faultline/faultline/harness/history"
)

// paho.mqtt.golang, a real client, talks to the fake: connect with a
// persistent session, subscribe and publish at QoS 1, lose the connection
// to server_close, reconnect by itself onto the same session (session
// present, subscription kept), and disconnect.
func TestPahoClient(t *testing.T) {
	s, log := start(t, Options{})
	msgs := make(chan paho.Message, 16)
	connected := make(chan bool, 4)
	opts := paho.NewClientOptions().AddBroker("tcp://" + s.Addr()).SetClientID("fl-test-0").
		SetCleanSession(false).SetKeepAlive(2 * time.Second).SetAutoReconnect(true).
		SetConnectTimeout(wait).SetWriteTimeout(wait).SetProtocolVersion(4).
		SetOnConnectHandler(func(paho.Client) { connected <- true })
	cl := paho.NewClient(opts)
	tok := cl.Connect()
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer cl.Disconnect(250)
	recv := func(want string) {
		t.Helper()
		select {
		case m := <-msgs:
			if string(m.Payload()) != want || m.Topic() != "t" {
				t.Fatalf("got %s %s, want %s", m.Topic(), m.Payload(), want)
			}
		case <-time.After(wait):
			t.Fatalf("no message %s", want)
		}
	}
	waitConnected := func() {
		t.Helper()
		select {
		case <-connected:
		case <-time.After(wait):
			t.Fatal("not connected")
		}
	}
	waitConnected()
	tok = cl.Subscribe("t", 1, func(_ paho.Client, m paho.Message) { msgs <- m })
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	s.Publish("t", []byte(`{"n":1}`))
	recv(`{"n":1}`)
	tok = cl.Publish("t", 1, false, `{"n":5}`)
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	recv(`{"n":5}`)
	for _, seq := range []int64{1, 5} { // acknowledged: not redelivered
		waitEvent(t, log, "the client's PUBACK", func(e history.Event) bool {
			return e.Kind == KindPuback && e.Attr("from") == "client" && e.Seq == seq
		})
	}

	s.CloseConnections()
	waitConnected()
	s.Publish("t", []byte(`{"n":2}`))
	recv(`{"n":2}`)

	hs := events(log, history.KindHandshake)
	if len(hs) != 2 || hs[1].Attr("session_present") != "true" || hs[1].Session != "s1/fl-test-0" {
		t.Fatalf("handshakes %v", hs)
	}
	waitEvent(t, log, "the client's PUBACK", func(e history.Event) bool {
		return e.Kind == KindPuback && e.Attr("from") == "client" && e.Seq == 2
	})
	if rc := events(log, history.KindReceive); len(rc) != 1 || rc[0].Seq != 5 || rc[0].Attr("qos") != "1" {
		t.Fatalf("receive %v", rc)
	}
}

// With PINGRESPs withheld, paho.mqtt.golang's keepalive finds the silence
// and gives the connection up, though the link is up.
func TestPahoWithheldPongs(t *testing.T) {
	s, log := start(t, Options{})
	lost := make(chan error, 1)
	opts := paho.NewClientOptions().AddBroker("tcp://" + s.Addr()).SetClientID("fl-test-1").
		SetKeepAlive(time.Second).SetPingTimeout(300 * time.Millisecond).SetAutoReconnect(false).
		SetConnectTimeout(wait).SetProtocolVersion(4).
		SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err })
	cl := paho.NewClient(opts)
	if tok := cl.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer cl.Disconnect(0)
	s.WithholdPongs(true)
	select {
	case err := <-lost:
		if err == nil {
			t.Fatal("lost without a reason")
		}
	case <-time.After(2 * wait):
		t.Fatal("the client did not notice the withheld PINGRESP")
	}
	if pr := waitEvent(t, log, "mqtt.pingreq", kind(KindPingreq, "s1#1")); pr.Attr("answered") != "false" {
		t.Fatalf("mqtt.pingreq %v", pr)
	}
	if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1")); cl.Reason != ReasonEOF {
		t.Fatalf("conn.close %v", cl)
	}
}
