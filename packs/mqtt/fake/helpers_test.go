package fake

import (
	"bufio"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/mqtt/wire"
)

// wait bounds every wait of the tests.
const wait = 3 * time.Second

// start starts a broker recording into a fresh log, closed with the test.
func start(t *testing.T, opts Options) (*Server, *history.Log) {
	t.Helper()
	log := history.NewLog(history.NewClock())
	s, err := Start("s1", log, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, log
}

// client is an MQTT client spoken by hand (paho's packets) over TCP.
type client struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dial(t *testing.T, s *Server) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.Addr(), wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return &client{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *client) write(b []byte) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(wait))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) send(cp packets.ControlPacket) { c.t.Helper(); c.write(wire.Encode(cp)) }

// next reads one packet, failing the test after wait.
func (c *client) next() packets.ControlPacket {
	c.t.Helper()
	cp, err := c.tryNext(wait)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return cp
}

func (c *client) tryNext(d time.Duration) (packets.ControlPacket, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	return packets.ReadPacket(c.r)
}

// silent asserts nothing arrives for d.
func (c *client) silent(d time.Duration) {
	c.t.Helper()
	cp, err := c.tryNext(d)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		c.t.Fatalf("want silence, got %v, %v", cp, err)
	}
}

// closed asserts the broker closes the connection (within wait).
func (c *client) closed() {
	c.t.Helper()
	for {
		cp, err := c.tryNext(wait)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("the connection is still open after %v (last read %v)", wait, cp)
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "reset") {
			c.t.Fatalf("read: %v", err)
		}
		return
	}
}

func connectPacket(id string, clean bool, keepalive uint16) *packets.ConnectPacket {
	p := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	p.ProtocolName, p.ProtocolVersion, p.CleanSession, p.Keepalive, p.ClientIdentifier = "MQTT", 4, clean, keepalive, id
	return p
}

// connect sends CONNECT and returns the CONNACK.
func (c *client) connect(p *packets.ConnectPacket) *packets.ConnackPacket {
	c.t.Helper()
	c.send(p)
	ack, ok := c.next().(*packets.ConnackPacket)
	if !ok {
		c.t.Fatal("want CONNACK")
	}
	return ack
}

// open dials and connects with an accepted CONNACK; sp is its session present.
func open(t *testing.T, s *Server, id string, clean bool) (*client, bool) {
	t.Helper()
	c := dial(t, s)
	ack := c.connect(connectPacket(id, clean, 0))
	if ack.ReturnCode != 0 {
		t.Fatalf("CONNACK %d", ack.ReturnCode)
	}
	return c, ack.SessionPresent
}

func (c *client) subscribe(pid uint16, filter string, qos byte) []byte {
	c.t.Helper()
	p := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
	p.MessageID, p.Topics, p.Qoss = pid, []string{filter}, []byte{qos}
	c.send(p)
	ack, ok := c.next().(*packets.SubackPacket)
	if !ok || ack.MessageID != pid {
		c.t.Fatalf("want SUBACK %d, got %v", pid, ack)
	}
	return ack.ReturnCodes
}

func (c *client) publish(topic, payload string, qos byte, pid uint16) {
	c.t.Helper()
	c.write(wire.Publish(topic, []byte(payload), qos, false, pid))
	if qos == 1 {
		if ack, ok := c.next().(*packets.PubackPacket); !ok || ack.MessageID != pid {
			c.t.Fatalf("want PUBACK %d, got %v", pid, ack)
		}
	}
}

func (c *client) puback(pid uint16) {
	c.t.Helper()
	p := packets.NewControlPacket(packets.Puback).(*packets.PubackPacket)
	p.MessageID = pid
	c.send(p)
}

// message reads a PUBLISH.
func (c *client) message() *packets.PublishPacket {
	c.t.Helper()
	cp := c.next()
	p, ok := cp.(*packets.PublishPacket)
	if !ok {
		c.t.Fatalf("want PUBLISH, got %v", cp)
	}
	return p
}

func (c *client) disconnect() {
	c.t.Helper()
	c.send(packets.NewControlPacket(packets.Disconnect))
	c.closed()
}

// waitEvent waits for the first event satisfying f.
func waitEvent(t *testing.T, log *history.Log, what string, f func(history.Event) bool) history.Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		for _, e := range log.Events() {
			if f(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in:\n%s", what, dump(log))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func kind(k, conn string) func(history.Event) bool {
	return func(e history.Event) bool { return e.Kind == k && (conn == "" || e.Conn == conn) }
}

func dump(log *history.Log) string {
	var b strings.Builder
	for _, e := range log.Events() {
		b.WriteString(e.String() + "\n")
	}
	return b.String()
}

// events are the log's events of the given kinds, in order.
func events(log *history.Log, kinds ...string) []history.Event {
	var out []history.Event
	for _, e := range log.Events() {
		if slices.Contains(kinds, e.Kind) {
			out = append(out, e)
		}
	}
	return out
}

// assertOrder checks that the first event of each kind comes in this order.
func assertOrder(t *testing.T, log *history.Log, kinds ...string) {
	t.Helper()
	evs := log.Events()
	last := -1
	for _, k := range kinds {
		i := slices.IndexFunc(evs, func(e history.Event) bool { return e.Kind == k })
		if i < 0 || i < last {
			t.Fatalf("order %v broken at %s:\n%s", kinds, k, dump(log))
		}
		last = i
	}
}
