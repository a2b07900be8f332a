package real

import (
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// brief prints an event's fields that the evidence is about.
func brief(e history.Event) string {
	s := e.Kind
	for _, f := range []string{e.Conn, e.Session, e.Topic} {
		if f != "" {
			s += " " + f
		}
	}
	if e.Seq != 0 {
		s += " seq=" + strconv.FormatInt(e.Seq, 10)
	}
	if e.Kind == history.KindHandshake {
		s += " ok=" + strconv.FormatBool(e.OK)
	}
	if e.Reason != "" {
		s += " reason=" + e.Reason
	}
	keys := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s += " " + k + "=" + e.Attrs[k]
	}
	return s
}

func TestTrackerCapturedLog(t *testing.T) {
	tr, log := testTracker(capturedSeqs)
	for _, raw := range capturedLog {
		tr.handle(ParseLine(raw))
	}
	var got []string
	for _, e := range log.Events() {
		if e.Server != "m1" || e.Source != history.SrcServer {
			t.Errorf("event %v: want server m1, source server", e)
		}
		got = append(got, brief(e))
	}
	if strings.Join(got, "\n") != strings.Join(wantCaptured, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantCaptured, "\n"))
	}
	// Killed now: fl-go-0's persistent session (holding the message it
	// never acknowledged) dies with the process.
	n := len(log.Events())
	tr.killed(ReasonKilled, "killed")
	after := log.Events()[n:]
	if len(after) != 1 || brief(after[0]) != "session.expire m1/fl-go-0 client_id=fl-go-0 dropped=1 why=killed" {
		t.Errorf("after killed:\n%s", after)
	}
}

// wantCaptured: every event of capturedLog; the harness's connections
// (the monitor, and its takeover of fl-go-0) appear in none.
var wantCaptured = []string{
	"accept m1#1 remote=127.0.0.1:33971",
	"mqtt.connect m1#1 clean=false client_id=fl-go-0 keepalive_s=60 level=4 protocol=MQTT username=false will=false",
	"handshake m1#1 m1/fl-go-0 ok=true clean=false client_id=fl-go-0 code=0 keepalive_s=60 session_present=false",
	"mqtt.connack m1#1 m1/fl-go-0 code=0 session_present=false",
	"subscribe m1#1 m1/fl-go-0 orders/# qos=1 requested=1",
	"accept m1#2 remote=127.0.0.1:35211",
	"mqtt.connect m1#2 clean=true client_id=fl-go-1 keepalive_s=60 level=4 protocol=MQTT username=false will=false",
	"handshake m1#2 m1/fl-go-1 ok=true clean=true client_id=fl-go-1 code=0 keepalive_s=60 session_present=false",
	"mqtt.connack m1#2 m1/fl-go-1 code=0 session_present=false",
	"receive m1#2 m1/fl-go-1 orders/a seq=5 dup=false packet_id=3 qos=1",
	"deliver m1#1 m1/fl-go-0 orders/a seq=5 dup=false packet_id=1 qos=1",
	"mqtt.puback m1#2 m1/fl-go-1 orders/a seq=5 from=server packet_id=3",
	"receive m1#2 m1/fl-go-1 orders/a seq=6 dup=false packet_id=0 qos=0",
	"deliver m1#1 m1/fl-go-0 orders/a seq=6 dup=false packet_id=0 qos=0",
	"mqtt.puback m1#1 m1/fl-go-0 orders/a seq=5 from=client packet_id=1",
	"deliver m1#1 m1/fl-go-0 orders/a seq=1 dup=false packet_id=2 qos=1",
	"conn.close m1#1 m1/fl-go-0 reason=eof native=closed its connection",
	"receive m1#2 m1/fl-go-1 orders/b seq=7 dup=false packet_id=4 qos=1",
	"mqtt.puback m1#2 m1/fl-go-1 orders/b seq=7 from=server packet_id=4",
	"accept m1#3 remote=127.0.0.1:50813",
	"mqtt.connect m1#3 clean=false client_id=fl-go-0 keepalive_s=60 level=4 protocol=MQTT username=false will=false",
	"handshake m1#3 m1/fl-go-0 ok=true clean=false client_id=fl-go-0 code=0 keepalive_s=60 replay=2 session_present=true",
	"mqtt.connack m1#3 m1/fl-go-0 code=0 session_present=true",
	"deliver m1#3 m1/fl-go-0 orders/a seq=1 dup=true packet_id=2 qos=1 replay=true",
	"deliver m1#3 m1/fl-go-0 orders/b seq=7 dup=false packet_id=3 qos=1 replay=true",
	"mqtt.puback m1#3 m1/fl-go-0 orders/a seq=1 from=client packet_id=2",
	"mqtt.puback m1#3 m1/fl-go-0 from=client known=false packet_id=1",
	"mqtt.pingreq m1#3 m1/fl-go-0 answered=true",
	"conn.close m1#3 m1/fl-go-0 reason=server_close native=already connected",
	"accept m1#4 remote=127.0.0.1:33153",
	"conn.close m1#4 reason=eof native=closed its connection",
	"accept m1#5 remote=127.0.0.1:52359",
	"handshake m1#5 ok=false reason=identifier_rejected code=2 session_present=false",
	"mqtt.connack m1#5 reason=identifier_rejected code=2 session_present=false",
	"conn.close m1#5 reason=refused native=refused",
	"mqtt.disconnect m1#2 m1/fl-go-1",
	"conn.close m1#2 m1/fl-go-1 reason=disconnect native=disconnected",
}

// feed gives the tracker a log written as mosquitto writes it (no
// timestamps: the parser takes lines with or without).
func feed(tr *tracker, lines ...string) {
	for _, l := range lines {
		tr.handle(ParseLine(l))
	}
}

// connectLines: a client connecting from addr.
func connectLines(addr, id string, clean bool, sp int) []string {
	c := "1"
	if !clean {
		c = "0"
	}
	return []string{
		"New connection from " + addr + " on port 1883.",
		"New client connected from " + addr + " as " + id + " (p2, c" + c + ", k60).",
		"No will message specified.",
		"Sending CONNACK to " + id + " (" + strconv.Itoa(sp) + ", 0)",
	}
}

var monitorLines = []string{
	"New connection from 127.0.0.9:1 on port 1883.",
	"New client connected from 127.0.0.9:1 as faultline-publisher (p2, c1, k0).",
	"No will message specified.",
	"Sending CONNACK to faultline-publisher (0, 0)",
	"Received SUBSCRIBE from faultline-publisher",
	"\t# (QoS 0)",
	"faultline-publisher 0 #",
	"Sending SUBACK to faultline-publisher",
}

func subscribeLines(id, filter string, qos int) []string {
	q := strconv.Itoa(qos)
	return []string{"Received SUBSCRIBE from " + id, "\t" + filter + " (QoS " + q + ")", id + " " + q + " " + filter, "Sending SUBACK to " + id}
}

func events(log *history.Log, kind string) []string {
	var out []string
	for _, e := range log.Events().Kind(kind) {
		out = append(out, brief(e))
	}
	return out
}

func wantEvents(t *testing.T, log *history.Log, kind string, want ...string) {
	t.Helper()
	if got := events(log, kind); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s events:\n%s\nwant:\n%s", kind, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Beyond mosquitto's inflight window (20) a client's messages wait for its
// PUBACKs (seen: 23 published, 20 sent, 3 more after one PUBACK).
func TestTrackerInflightWindow(t *testing.T) {
	var seqs []int64
	for i := 1; i <= 23; i++ {
		seqs = append(seqs, int64(i))
	}
	tr, log := testTracker(seqs)
	feed(tr, monitorLines...)
	feed(tr, connectLines("127.0.0.1:10", "win", true, 0)...)
	feed(tr, subscribeLines("win", "w", 1)...)
	feed(tr, connectLines("127.0.0.1:11", "pw", true, 0)...)
	for i := 1; i <= 23; i++ {
		m := strconv.Itoa(i)
		feed(tr, "Received PUBLISH from pw (d0, q1, r0, m"+m+", 'w', ... (8 bytes))")
		if i <= 20 {
			feed(tr, "Sending PUBLISH to win (d0, q1, r0, m"+m+", 'w', ... (8 bytes))")
		}
		feed(tr, "Sending PUBLISH to faultline-publisher (d0, q0, r0, m0, 'w', ... (8 bytes))",
			"Sending PUBACK to pw (m"+m+", rc0)")
	}
	feed(tr, "Received PUBACK from win (Mid: 1, RC:0)",
		"Sending PUBLISH to win (d0, q1, r0, m21, 'w', ... (9 bytes))",
		"Sending PUBLISH to win (d0, q1, r0, m22, 'w', ... (9 bytes))",
		"Sending PUBLISH to win (d0, q1, r0, m23, 'w', ... (9 bytes))")
	dl := log.Events().Kind(history.KindDeliver)
	if len(dl) != 23 {
		t.Fatalf("deliveries:\n%s", dl)
	}
	for i, d := range dl {
		if d.Seq != int64(i+1) || d.Attr("packet_id") != strconv.Itoa(i+1) {
			t.Errorf("delivery %d: %v", i, d)
		}
	}
}

// QoS 2 from a client: its deliveries follow the PUBREL.
func TestTrackerQoS2(t *testing.T) {
	tr, log := testTracker([]int64{9})
	feed(tr, monitorLines...)
	feed(tr, connectLines("127.0.0.1:10", "sub", true, 0)...)
	feed(tr, subscribeLines("sub", "t/#", 1)...)
	feed(tr, connectLines("127.0.0.1:11", "pub", true, 0)...)
	feed(tr, "Received PUBLISH from pub (d0, q2, r0, m4, 't/y', ... (8 bytes))",
		"Sending PUBREC to pub (m4, rc0)",
		"Received PUBREL from pub (Mid: 4)",
		"Sending PUBLISH to sub (d0, q1, r0, m1, 't/y', ... (8 bytes))",
		"Sending PUBLISH to faultline-publisher (d0, q0, r0, m0, 't/y', ... (8 bytes))",
		"Sending PUBCOMP to pub (m4)")
	wantEvents(t, log, history.KindReceive, "receive m1#2 m1/pub t/y seq=9 dup=false packet_id=4 qos=2")
	wantEvents(t, log, history.KindDeliver, "deliver m1#1 m1/sub t/y seq=9 dup=false packet_id=1 qos=1")
	wantEvents(t, log, KindPuback) // QoS 2 is acknowledged with PUBREC/PUBCOMP
}

// A retained message, sent again to each new subscription (retain set);
// an empty one clears the topic.
func TestTrackerRetained(t *testing.T) {
	tr, log := testTracker([]int64{3, 0})
	feed(tr, monitorLines...)
	feed(tr, connectLines("127.0.0.1:11", "pub", true, 0)...)
	feed(tr, "Received PUBLISH from pub (d0, q1, r1, m1, 'r/a', ... (8 bytes))",
		"Sending PUBLISH to faultline-publisher (d0, q0, r0, m0, 'r/a', ... (8 bytes))",
		"Sending PUBACK to pub (m1, rc0)")
	feed(tr, connectLines("127.0.0.1:10", "late", true, 0)...)
	feed(tr, subscribeLines("late", "r/#", 1)...)
	feed(tr, "Sending PUBLISH to late (d0, q1, r1, m1, 'r/a', ... (8 bytes))")
	feed(tr, "Received PUBLISH from pub (d0, q0, r1, m0, 'r/a', ... (0 bytes))",
		"Sending PUBLISH to late (d0, q0, r0, m0, 'r/a', ... (0 bytes))",
		"Sending PUBLISH to faultline-publisher (d0, q0, r0, m0, 'r/a', ... (0 bytes))")
	feed(tr, subscribeLines("late", "r/a", 1)...) // nothing retained any more
	wantEvents(t, log, history.KindDeliver,
		"deliver m1#2 m1/late r/a seq=3 dup=false packet_id=1 qos=1",
		"deliver m1#2 m1/late r/a dup=false packet_id=0 qos=0")
}

// Several connections without CONNECT: the kernel's socket table (here
// the stub) tells which closed; without it, the oldest.
func TestTrackerWaiting(t *testing.T) {
	tr, log := testTracker(nil)
	tr.d.closed = func(c []string, _ string) string {
		if len(c) == 3 {
			return c[1]
		}
		return ""
	}
	feed(tr, "New connection from 127.0.0.1:1 on port 1883.",
		"New connection from 127.0.0.1:2 on port 1883.",
		"New connection from 127.0.0.1:3 on port 1883.",
		"Client <unknown> closed its connection.",
		"Client <unknown> has exceeded timeout, disconnecting.")
	wantEvents(t, log, history.KindConnClose,
		"conn.close m1#2 reason=eof native=closed its connection",
		"conn.close m1#1 reason=keepalive native=has exceeded timeout, disconnecting")
	// A refusal of a client that gave an id.
	feed(tr, "Sending CONNACK to someone (0, 5)", "Client someone disconnected, not authorised.")
	wantEvents(t, log, history.KindHandshake, "handshake m1#3 ok=false reason=not_authorized client_id=someone code=5 session_present=false")
}

// A clean client taken over by another connection with its id: the old
// connection's will goes out before the new client is logged.
func TestTrackerTakeoverWithWill(t *testing.T) {
	tr, log := testTracker([]int64{0})
	feed(tr, monitorLines...)
	feed(tr, connectLines("127.0.0.1:10", "sub", true, 0)...)
	feed(tr, subscribeLines("sub", "wills/#", 0)...)
	feed(tr, "New connection from 127.0.0.1:11 on port 1883.",
		"New client connected from 127.0.0.1:11 as w (p1, c1, k30, u'me').",
		"Will message specified (3 bytes) (r0, q1).",
		"\twills/w",
		"Sending CONNACK to w (0, 0)",
		"New connection from 127.0.0.1:12 on port 1883.",
		"Client w already connected, closing old connection.",
		"Sending PUBLISH to sub (d0, q0, r0, m0, 'wills/w', ... (3 bytes))",
		"Sending PUBLISH to faultline-publisher (d0, q0, r0, m0, 'wills/w', ... (3 bytes))",
		"New client connected from 127.0.0.1:12 as w (p2, c1, k60).",
		"No will message specified.",
		"Sending CONNACK to w (0, 0)")
	wantEvents(t, log, KindConnect,
		"mqtt.connect m1#1 clean=true client_id=sub keepalive_s=60 level=4 protocol=MQTT username=false will=false",
		"mqtt.connect m1#2 clean=true client_id=w keepalive_s=30 level=3 protocol=MQIsdp username=true will=true will_qos=1 will_retain=false will_topic=wills/w",
		"mqtt.connect m1#3 clean=true client_id=w keepalive_s=60 level=4 protocol=MQTT username=false will=false")
	wantEvents(t, log, history.KindConnClose, "conn.close m1#2 m1/w reason=takeover native=already connected")
	wantEvents(t, log, history.KindDeliver, "deliver m1#1 m1/sub wills/w dup=false packet_id=0 qos=0")
	wantEvents(t, log, history.KindReceive)
}

// The tracker over the registry of what the harness dialled: a relayed
// client's lines map to the relay's Conn by its local address (no second
// accept), the harness's own connections and a relayed one whose close the
// relay recorded are in no event, and a close without an id is told by
// which side ended first.
func TestTrackerPeers(t *testing.T) {
	tr, log := testTracker(nil)
	var p peers
	p.m = map[string]*endpoint{}
	reg := func(addr string, ep *endpoint) *endpoint {
		ep.addr = addr
		p.m[addr] = ep
		return ep
	}
	tr.d.peer, tr.d.closed, tr.d.gone = p.lookup, p.closed, p.gone
	a := reg("127.0.0.1:1", &endpoint{role: peerClient, id: "m1#7"})
	reg("127.0.0.1:2", &endpoint{role: peerHarness})
	silent := reg("127.0.0.1:3", &endpoint{role: peerClient, id: "m1#8", recorded: true})
	b := reg("127.0.0.1:4", &endpoint{role: peerClient, id: "m1#9"})
	probe := reg("127.0.0.1:5", &endpoint{role: peerHarness, probe: make(chan struct{})})
	feed(tr, connectLines("127.0.0.1:1", "a", true, 0)...)
	feed(tr, "New connection from 127.0.0.1:2 on port 1883.",
		"New connection from 127.0.0.1:3 on port 1883.",
		"New connection from 127.0.0.1:4 on port 1883.",
		"New connection from 127.0.0.1:5 on port 1883.")
	select {
	case <-probe.probe:
	default:
		t.Fatal("the probe's line did not release it")
	}
	if !a.logged || !b.logged || silent.logged {
		t.Fatalf("logged: a %v, b %v, silent %v", a.logged, b.logged, silent.logged)
	}
	// mosquitto closes b (a protocol error): its relay saw mosquitto's end;
	// then the probe and the silent one, whose ends the harness made.
	p.ended(b, false)
	p.ended(probe, true)
	p.ended(silent, true)
	feed(tr, "Client <unknown> disconnected due to protocol error.",
		"Client <unknown> closed its connection.",
		"Client <unknown> closed its connection.", // the silent one
		"Client a closed its connection.")
	wantEvents(t, log, history.KindAccept)
	wantEvents(t, log, history.KindHandshake, "handshake m1#7 m1/a ok=true clean=true client_id=a code=0 keepalive_s=60 session_present=false")
	wantEvents(t, log, history.KindConnClose,
		"conn.close m1#9 reason=error:protocol error native=disconnected due to protocol error",
		"conn.close m1#7 m1/a reason=eof native=closed its connection")
	if len(p.m) != 1 || p.m["127.0.0.1:2"] == nil || len(tr.waiting) != 1 {
		t.Fatalf("left: registry %v, waiting %d", p.m, len(tr.waiting))
	}
}
