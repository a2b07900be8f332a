package real

import (
	"reflect"
	"testing"
)

// Lines captured from mosquitto 2.0.11 (Debian) with this package's config.
func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want Line
	}{
		{"2026-12-06T20:37:29: mosquitto version 2.0.11 running",
			Line{Kind: LineRunning}},
		{"1796589915: Error: Address already in use",
			Line{Kind: LineBindError}},
		{"2026-12-06T20:37:39: New connection from 127.0.0.1:59168 on port 18831.\n",
			Line{Kind: LineNewConnection, Addr: "127.0.0.1:59168", Port: 18831}},
		{"2026-12-06T20:37:39: New client connected from 127.0.0.1:59168 as c-a (p2, c1, k60).",
			Line{Kind: LineClientConnected, Addr: "127.0.0.1:59168", ID: "c-a", Proto: 2, Clean: true, Keepalive: 60}},
		{"2026-12-06T20:39:10: New client connected from 127.0.0.1:60992 as z-a (p2, c1, k0, u'bob').",
			Line{Kind: LineClientConnected, Addr: "127.0.0.1:60992", ID: "z-a", Proto: 2, Clean: true, Username: true}},
		{"2026-12-06T20:39:09: New client connected from 127.0.0.1:60984 as w-a (p1, c0, k60).",
			Line{Kind: LineClientConnected, Addr: "127.0.0.1:60984", ID: "w-a", Proto: 1, Keepalive: 60}},
		{"New client connected from ::1:4000 as odd (p5) id (p2, c0, k5, u'it's (p2, c1, k1)').",
			Line{Kind: LineClientConnected, Addr: "::1:4000", ID: "odd (p5) id", Proto: 2, Keepalive: 5, Username: true}},
		{"2026-12-06T20:39:10: Will message specified (3 bytes) (r0, q1).",
			Line{Kind: LineWill, Bytes: 3, QoS: 1}},
		{"2026-12-06T20:37:39: No will message specified.",
			Line{Kind: LineNoWill}},
		{"2026-12-06T20:39:10: \twill/t",
			Line{Kind: LineTab, Text: "will/t"}},
		{"2026-12-06T20:37:39: Sending CONNACK to c-a (0, 0)",
			Line{Kind: LineConnack, ID: "c-a"}},
		{"2026-12-06T20:39:03: Sending CONNACK to p-a (1, 0)",
			Line{Kind: LineConnack, ID: "p-a", SessionPresent: true}},
		{"2026-12-06T20:42:39: Sending CONNACK to 127.0.0.1 (0, 2)",
			Line{Kind: LineConnack, ID: "127.0.0.1", Code: 2}},
		{"2026-12-06T20:39:04: Client p-a already connected, closing old connection.",
			Line{Kind: LineAlreadyConnected, ID: "p-a"}},
		{"2026-12-06T20:37:39: Client c-a disconnected.",
			Line{Kind: LineClose, ID: "c-a", Native: "disconnected"}},
		{"2026-12-06T20:37:39: Client c-b closed its connection.",
			Line{Kind: LineClose, ID: "c-b", Native: "closed its connection"}},
		{"2026-12-06T20:39:10: Client k-a has exceeded timeout, disconnecting.",
			Line{Kind: LineClose, ID: "k-a", Native: "has exceeded timeout, disconnecting"}},
		{"2026-12-06T20:39:09: Client <unknown> disconnected due to protocol error.",
			Line{Kind: LineClose, ID: "<unknown>", Native: "disconnected due to protocol error"}},
		{"Client x disconnected: Connection reset by peer.",
			Line{Kind: LineClose, ID: "x", Native: "disconnected: Connection reset by peer"}},
		{"Client a disconnected due to protocol error disconnected.",
			Line{Kind: LineClose, ID: "a disconnected due to protocol error", Native: "disconnected"}},
		{"Bad socket read/write on client x: The connection was lost.",
			Line{Kind: LineClose, ID: "x", Native: "The connection was lost."}},
		{"2026-12-06T20:37:39: Received PUBLISH from c-a (d0, q1, r0, m7, 't/x', ... (8 bytes))",
			Line{Kind: LineRecvPublish, ID: "c-a", QoS: 1, Mid: 7, Topic: "t/x", Bytes: 8}},
		{"2026-12-06T20:39:03: Sending PUBLISH to p-a (d1, q1, r0, m2, 't/r', ... (8 bytes))",
			Line{Kind: LineSendPublish, ID: "p-a", Dup: true, QoS: 1, Mid: 2, Topic: "t/r", Bytes: 8}},
		{"Sending PUBLISH to a (d0, q0, r1, m0, 'it's', ... (1 bytes)', ... (0 bytes))",
			Line{Kind: LineSendPublish, ID: "a", Retain: true, Topic: "it's', ... (1 bytes)"}},
		{"2026-12-06T20:39:04: Received PUBACK from p-a (Mid: 1, RC:0)",
			Line{Kind: LineRecvAck, ID: "p-a", Packet: "PUBACK", Mid: 1}},
		{"2026-12-06T20:39:41: Received PUBREL from pub2 (Mid: 4)",
			Line{Kind: LineRecvAck, ID: "pub2", Packet: "PUBREL", Mid: 4}},
		{"2026-12-06T20:37:39: Sending PUBACK to c-a (m7, rc0)",
			Line{Kind: LineSendAck, ID: "c-a", Packet: "PUBACK", Mid: 7}},
		{"2026-12-06T20:39:41: Sending PUBCOMP to pub2 (m4)",
			Line{Kind: LineSendAck, ID: "pub2", Packet: "PUBCOMP", Mid: 4}},
		{"2026-12-06T20:37:39: Received PINGREQ from c-a",
			Line{Kind: LineRecvPingreq, ID: "c-a"}},
		{"2026-12-06T20:37:39: Received SUBSCRIBE from c-a",
			Line{Kind: LineRecvSubscribe, ID: "c-a"}},
		{"2026-12-06T20:39:04: Received UNSUBSCRIBE from p-a",
			Line{Kind: LineRecvUnsubscribe, ID: "p-a"}},
		{"2026-12-06T20:37:39: Received DISCONNECT from c-a",
			Line{Kind: LineRecvDisconnect, ID: "c-a"}},
		// Lines that are context (the tracker reads their Text) or nothing.
		{"2026-12-06T20:37:39: c-a 1 t/x", Line{}},
		{"2026-12-06T20:37:39: Sending PINGRESP to c-a", Line{}},
		{"2026-12-06T20:37:39: Sending SUBACK to c-a", Line{}},
		{"2026-12-06T20:37:29: Opening ipv4 listen socket on port 18831.", Line{}},
		{"2026-12-06T20:39:04: Bad client p-a sending multiple CONNECT messages.", Line{}},
		{"Received PUBLISH from c-a (d0, q3, r0, m7, 't', ... (8 bytes))", Line{}},
		{"New connection from nowhere on port 1.", Line{}},
		{"Sending CONNACK to x (2, 0)", Line{}},
		{"", Line{}},
	} {
		got := ParseLine(c.raw)
		want := c.want
		if want.Kind != LineTab {
			want.Text = stripTimestamp(trimEOL(c.raw))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ParseLine(%q)\n got %+v\nwant %+v", c.raw, got, want)
		}
	}
}

func trimEOL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

func TestStripTimestamp(t *testing.T) {
	for in, want := range map[string]string{
		"1796589915: mosquitto":           "mosquitto",
		"2026-12-06T20:37:29: x: y":       "x: y",
		"c-a 1 t/x":                       "c-a 1 t/x",
		"12 topic: with a colon":          "12 topic: with a colon",
		"\t2026-12-06T20:37:29: not time": "\t2026-12-06T20:37:29: not time",
	} {
		if got := stripTimestamp(in); got != want {
			t.Errorf("stripTimestamp(%q) = %q, want %q", in, got, want)
		}
	}
}
