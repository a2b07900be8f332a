package real

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/faultline/faultline/harness/history"
)

const wait = 5 * time.Second // every wait in these tests has a deadline

// start runs a mosquitto named m1. Without mosquitto installed it fails
// the test with Start's error, which says `make deps` installs it.
func start(t *testing.T, opts Options) (*Server, *history.Log) {
	t.Helper()
	log := history.NewLog(history.NewClock())
	s, err := Start("m1", log, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		noHarness(t, log)
	})
	return s, log
}

// noHarness: the harness's own connections appear in no event.
func noHarness(t *testing.T, log *history.Log) {
	t.Helper()
	for _, e := range log.Events() {
		if e.Attr("client_id") == MonitorID || strings.HasSuffix(e.Session, "/"+MonitorID) {
			t.Errorf("the harness's connection in the evidence: %v", e)
		}
	}
}

// waitEvent waits for the first event that keep accepts.
func waitEvent(t *testing.T, log *history.Log, what string, keep func(history.Event) bool) history.Event {
	t.Helper()
	return waitEventFor(t, log, what, wait, keep)
}

func waitEventFor(t *testing.T, log *history.Log, what string, d time.Duration, keep func(history.Event) bool) history.Event {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if h := log.Events().Filter(keep); len(h) > 0 {
			return h[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v; history:\n%s", what, d, log.Events())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitN waits until keep accepts n events, and returns them.
func waitN(t *testing.T, log *history.Log, what string, n int, keep func(history.Event) bool) history.History {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		h := log.Events().Filter(keep)
		if len(h) >= n {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d %s within %v; history:\n%s", len(h), n, what, wait, log.Events())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func kindConn(kind, conn string) func(history.Event) bool {
	return func(e history.Event) bool { return e.Kind == kind && e.Conn == conn }
}

func kindIs(kind string) func(history.Event) bool {
	return func(e history.Event) bool { return e.Kind == kind }
}

// wantAttrs fails unless e has every attribute of want.
func wantAttrs(t *testing.T, e history.Event, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if e.Attr(k) != v {
			t.Errorf("%s: %s=%q, want %q (event %v)", e.Kind, k, e.Attr(k), v, e)
		}
	}
}

// raw is an MQTT client spoken packet by packet.
type raw struct {
	t *testing.T
	c net.Conn
}

func dialRaw(t *testing.T, addr string) *raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &raw{t: t, c: c}
}

func (r *raw) send(p packets.ControlPacket) {
	r.t.Helper()
	_ = r.c.SetWriteDeadline(time.Now().Add(wait))
	if err := p.Write(r.c); err != nil {
		r.t.Fatal(err)
	}
}

func (r *raw) read() packets.ControlPacket {
	r.t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(wait))
	p, err := packets.ReadPacket(r.c)
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	return p
}

// connect sends CONNECT and returns the CONNACK.
func (r *raw) connect(id string, clean bool, keepalive uint16) *packets.ConnackPacket {
	r.t.Helper()
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.ClientIdentifier, cp.CleanSession, cp.Keepalive = "MQTT", 4, id, clean, keepalive
	r.send(cp)
	ack, ok := r.read().(*packets.ConnackPacket)
	if !ok {
		r.t.Fatal("no CONNACK")
	}
	return ack
}

func (r *raw) subscribe(filter string, qos byte) {
	r.t.Helper()
	sp := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
	sp.MessageID, sp.Topics, sp.Qoss = 1, []string{filter}, []byte{qos}
	r.send(sp)
	if _, ok := r.read().(*packets.SubackPacket); !ok {
		r.t.Fatal("no SUBACK")
	}
}

func (r *raw) publish(topic, payload string, qos byte, pid uint16) {
	r.t.Helper()
	pp := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	pp.TopicName, pp.Payload, pp.Qos, pp.MessageID = topic, []byte(payload), qos, pid
	r.send(pp)
}

func (r *raw) puback(pid uint16) {
	r.t.Helper()
	pa := packets.NewControlPacket(packets.Puback).(*packets.PubackPacket)
	pa.MessageID = pid
	r.send(pa)
}

// publishes reads n PUBLISH packets (skipping others).
func (r *raw) publishes(n int) []*packets.PublishPacket {
	r.t.Helper()
	var out []*packets.PublishPacket
	for len(out) < n {
		if p, ok := r.read().(*packets.PublishPacket); ok {
			out = append(out, p)
		}
	}
	return out
}

// closedByServer reads until the broker closes the connection.
func (r *raw) closedByServer() {
	r.t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, err := packets.ReadPacket(r.c); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "EOF") {
				return
			}
			r.t.Fatalf("waiting for the broker to close: %v", err)
		}
	}
}
