package fake

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/mqtt/wire"
)

// Bytes the broker cannot follow, and packets out of place, close the
// connection at once with a reason that names the packet and what was
// wrong; nothing waits for more input.
func TestBadInput(t *testing.T) {
	connect := wire.Encode(connectPacket("c1", true, 0))
	after := func(b ...byte) []byte { return append(append([]byte(nil), connect...), b...) }
	unknownName := connectPacket("c1", true, 0)
	unknownName.ProtocolName = "HTTP"
	tests := []struct {
		name   string
		opts   Options
		in     []byte
		reason string // conn.close reason prefix
	}{
		{"reserved type", Options{}, []byte{0xf0, 0x00}, "error:type 15: reserved packet type 15"},
		{"length of 5 bytes", Options{}, []byte{0x10, 0xff, 0xff, 0xff, 0xff, 0x7f}, "error:CONNECT: remaining length longer than 4 bytes"},
		{"over the max packet", Options{MaxPacket: 64}, after(wire.Publish("t", make([]byte, 100), 0, false, 0)...),
			"error:PUBLISH: remaining length 103 over the maximum packet size 64"},
		{"truncated CONNECT", Options{}, []byte{0x10, 0x03, 0x00, 0x04, 'M'}, "error:CONNECT: truncated: a field of 4 bytes runs past the remaining length 3"},
		{"bad flags", Options{}, after(0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 't', 0x00), "error:SUBSCRIBE: fixed header flags 0x0, must be 0x2"},
		{"unknown protocol name", Options{}, wire.Encode(unknownName), `error:CONNECT: unknown protocol name "HTTP"`},
		{"PUBLISH before CONNECT", Options{}, wire.Publish("t", nil, 0, false, 0), "error:PUBLISH: before an accepted CONNECT"},
		{"second CONNECT", Options{}, after(connect...), "error:CONNECT: a second CONNECT on the connection"},
		{"QoS 2 PUBLISH", Options{}, after(wire.Publish("t", nil, 2, false, 1)...), "error:PUBLISH: QoS 2 is not supported"},
		{"PUBREL", Options{}, after(0x62, 0x02, 0x00, 0x01), "error:PUBREL: QoS 2 is not supported"},
		{"a broker's packet", Options{}, after(wire.Connack(0, false)...), "error:CONNACK: a packet only a broker sends"},
		{"wildcard topic", Options{}, after(wire.Publish("a/#", nil, 0, false, 0)...), `error:PUBLISH: topic name "a/#": wildcards are not allowed`},
		{"bad filter", Options{}, after(0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 'a', '#', 0x00), `error:SUBSCRIBE: topic filter "a#": '#' must be a whole level`},
		{"trailing bytes", Options{}, after(0xc0, 0x01, 0x00), "error:PINGREQ: 1 bytes left over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, log := start(t, tt.opts)
			c := dial(t, s)
			c.write(tt.in)
			c.closed()
			cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1"))
			if !strings.HasPrefix(cl.Reason, tt.reason) {
				t.Fatalf("conn.close reason %q, want %q...", cl.Reason, tt.reason)
			}
		})
	}
}

// A connection cut inside a packet is the client gone (eof), not an error.
func TestCutInsidePacket(t *testing.T) {
	s, log := start(t, Options{})
	c := dial(t, s)
	c.write([]byte{0x10, 0x20, 0x00})
	_ = c.nc.Close()
	if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1")); cl.Reason != ReasonEOF {
		t.Fatalf("conn.close %v", cl)
	}
}

// A client that falls more than MaxPending behind is dropped, not waited
// for; its persistent session keeps the message.
func TestSlowConsumer(t *testing.T) {
	s, log := start(t, Options{MaxPending: 100})
	a, _ := open(t, s, "a", false)
	a.subscribe(1, "t", 1)
	s.Publish("t", make([]byte, 200))
	a.closed()
	if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1")); cl.Reason != "error:slow consumer: more than 100 bytes pending" {
		t.Fatalf("conn.close %v", cl)
	}
	waitEvent(t, log, "session offline", func(history.Event) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.sessions["a"] != nil && s.sessions["a"].conn == nil
	})
	s.mu.Lock()
	s.opts.MaxPending = 1 << 20 // room for the redelivery
	s.mu.Unlock()
	a, sp := open(t, s, "a", false)
	if m := a.message(); !sp || m.Dup || len(m.Payload) != 200 {
		t.Fatalf("redelivery %v", m)
	}
}
