package check

import (
	"fmt"
	"strconv"
	"testing"
)

// pfStory builds a NATS-like history: sessions are connections
// (session.create scope connection), sends are harness ops with replies,
// the server records receive with the send number as Seq.
type pfStory struct {
	story
	id int
}

// pfContract is a connect reply's contract with the given delivery and
// buffer terms ("" leaves a term out).
func pfContract(delivery, buffer string) string {
	s := `{"liveness":{"value":"ping","cite":"x"}`
	if delivery != "" {
		s += fmt.Sprintf(`,"delivery":{"value":%q,"cite":"lib flush()"}`, delivery)
	}
	if buffer != "" {
		s += fmt.Sprintf(`,"buffer":{"value":%q,"cite":"lib publish()"}`, buffer)
	}
	return s + "}"
}

// newPF: the client connects at 5 on session S1/1 (conn s1#1), with the
// contract given ("" for none: faultline's own engine).
func newPF(contract string) *pfStory {
	s := &pfStory{}
	s.id = 1
	s.conn = 1
	reply := []string{"op=connect", "ok=true", "id=1"}
	if contract != "" {
		reply = append(reply, "contract="+contract)
	}
	s.add(
		ev(1, "op", "op=connect", "id=1"),
		ev(5, "accept", "server=s1", "conn=s1#1"),
		ev(5.5, "handshake", "server=s1", "conn=s1#1", "ok=true", "session=S1/1"),
		ev(5.5, "session.create", "server=s1", "conn=s1#1", "session=S1/1", "retention_ms=0", "scope=connection"),
		state(6, cg, cA, "S1/1"),
		ev(7, "reply", reply...),
	)
	return s
}

// send: a send op at ms answered 0.5ms later (ok, or refused with reason).
func (s *pfStory) send(ms float64, ok bool, reason ...string) *pfStory {
	s.id++
	id := "id=" + strconv.Itoa(s.id)
	r := []string{"op=send", id, "ok=" + strconv.FormatBool(ok)}
	for _, x := range reason {
		r = append(r, "reason="+x)
	}
	s.add(ev(ms, "op", "op=send", id), ev(ms+0.5, "reply", r...))
	return s
}

// recv: the server receives send n at ms on session sess (conn s1#k).
func (s *pfStory) recv(ms float64, n int, sess string) *pfStory {
	conn := "s1#1"
	if sess != "S1/1" {
		conn = "s1#2"
	}
	s.add(ev(ms, "receive", "server=s1", "conn="+conn, "session="+sess, "topic=faultline", "seq="+strconv.Itoa(n)))
	return s
}

// reconnect: the client is back at ms on session S1/2 (conn s1#2).
func (s *pfStory) reconnect(ms float64) *pfStory {
	s.add(
		ev(ms, "accept", "server=s1", "conn=s1#2"),
		ev(ms+0.5, "handshake", "server=s1", "conn=s1#2", "ok=true", "session=S1/2"),
		ev(ms+0.5, "session.create", "server=s1", "conn=s1#2", "session=S1/2", "retention_ms=0", "scope=connection"),
		state(ms+2, rR, cA, "S1/2"),
	)
	return s
}

const (
	natsAMO = "at_most_once"
	natsBuf = "while_reconnecting"
)

// pfCut: sends 1–3 delivered; a cut at 260 (the server sees eof at once,
// the client 1ms later); sends 4–5 while recovering, buffered; back at 400
// with 4 and 5 flushed on S1/2; send 6 after the reconnect delivered.
func pfCut(contract string, flushed ...int) *pfStory {
	s := newPF(contract)
	s.send(100, true).recv(100.6, 1, "S1/1")
	s.send(150, true).recv(150.6, 2, "S1/1")
	s.send(200, true).recv(200.6, 3, "S1/1")
	s.add(
		ev(260, "fault.on", "link=s1", "verb=cut"),
		ev(260.2, "conn.close", "server=s1", "conn=s1#1", "session=S1/1", "reason=eof"),
		ev(260.2, "session.disconnect", "server=s1", "conn=s1#1", "session=S1/1", "reason=transport"),
		state(261, cA, rR, "S1/1"),
		ev(380, "fault.off", "link=s1", "verb=cut"),
	)
	s.send(300, true).send(350, true)
	s.reconnect(400)
	for _, n := range flushed {
		s.recv(401, n, "S1/2")
	}
	s.send(450, true).recv(450.6, 6, "S1/2")
	return s
}

// pfBlackhole: sends 1–3 delivered; a blackhole at 230; sends 4–5 taken
// while the client still claims CONNECTED_ACTIVE, never received; the ping
// timer finds it at 410 (the server sees eof when the client closes);
// back at 500 on S1/2, send 6 delivered.
func pfBlackhole(contract string) *pfStory {
	s := newPF(contract)
	s.send(100, true).recv(100.6, 1, "S1/1")
	s.send(150, true).recv(150.6, 2, "S1/1")
	s.send(200, true).recv(200.6, 3, "S1/1")
	s.add(ev(230, "fault.on", "link=s1", "verb=blackhole"))
	s.send(250, true).send(300, true)
	s.add(
		state(410, cA, rR, "S1/1"),
		ev(410.5, "conn.close", "server=s1", "conn=s1#1", "session=S1/1", "reason=eof"),
		ev(480, "fault.off", "link=s1", "verb=blackhole"),
	)
	s.reconnect(500)
	s.send(550, true).recv(550.6, 6, "S1/2")
	return s
}

func TestPublishFate(t *testing.T) {
	amo := pfContract(natsAMO, natsBuf)

	refused := pfCut(amo, 4, 5)
	refused.send(370, false, "nats.go Publish: nats: outbound buffer limit exceeded")

	dup := pfCut(amo, 4, 5)
	dup.recv(402, 5, "S1/2")
	dupFree := pfCut(pfContract("", ""), 4, 5)
	dupFree.recv(402, 5, "S1/2")

	discarded := newPF(amo)
	discarded.send(100, true).recv(100.6, 1, "S1/1")
	discarded.add(ev(260, "fault.on", "link=s1", "verb=cut"), ev(260.2, "conn.close", "server=s1", "conn=s1#1", "session=S1/1", "reason=eof"),
		state(261, cA, rR, "S1/1"))
	discarded.send(300, true)
	discarded.add(state(900, rR, cF, "S1/1", "reason=reconnect_timeout"))

	hole := newPF(amo)
	hole.send(100, true).recv(100.6, 1, "S1/1").send(150, true).send(200, true).recv(200.6, 3, "S1/1")
	holeSilent := newPF(pfContract("", ""))
	holeSilent.send(100, true).recv(100.6, 1, "S1/1").send(150, true).send(200, true).recv(200.6, 3, "S1/1")

	unexplained := newPF(amo)
	unexplained.send(100, true).recv(100.6, 1, "S1/1").send(150, true)

	unnumbered := newPF(amo)
	unnumbered.send(100, true).recv(100.6, 0, "S1/1")

	beyond := newPF(amo)
	beyond.send(100, true).recv(100.6, 1, "S1/1").recv(101, 2, "S1/1")

	noReply := newPF(amo)
	noReply.send(100, true).recv(100.6, 1, "S1/1")
	noReply.add(ev(150, "op", "op=send", "id=99"))

	// A buffered send flushed into a new connection that died at once: lost
	// in flight on the new connection, not dropped.
	flushedIntoDead := newPF(amo)
	flushedIntoDead.send(100, true).recv(100.6, 1, "S1/1")
	flushedIntoDead.add(ev(260, "fault.on", "link=s1", "verb=cut"), ev(260.2, "conn.close", "server=s1", "conn=s1#1", "session=S1/1", "reason=eof"),
		state(261, cA, rR, "S1/1"), ev(380, "fault.off", "link=s1", "verb=cut"))
	flushedIntoDead.send(300, true)
	flushedIntoDead.reconnect(400)
	flushedIntoDead.add(ev(401, "fault.on", "link=s1", "verb=reset"), ev(401.2, "conn.close", "server=s1", "conn=s1#2", "session=S1/2", "reason=eof"),
		state(402, cA, rR, "S1/2"))

	// Send 5, taken on the dead connection, was still unsent when the loss
	// was detected: flushed on the new connection.
	rescued := pfBlackhole(amo)
	rescued.recv(501, 5, "S1/2")

	runCases(t, []tcase{
		{name: "taken on the dead connection, sent after the reconnect", cfg: &PublishFate{}, h: rescued.hist(), verdict: Informational,
			detail: []string{`1 publish(es) lost in flight on session "S1/1": n=4`, "1 buffered while reconnecting and received after the reconnect (on \"S1/2\"), 1 of them taken on the dead connection",
				"(delivery: at_most_once; buffer: while_reconnecting)"}},
		{name: "buffered while reconnecting, delivered after", cfg: &PublishFate{}, h: pfCut(amo, 4, 5).hist(), verdict: OK,
			detail: []string{"every send accounted for: 4 delivered on their connection, 2 buffered while reconnecting and received after the reconnect (on \"S1/2\")",
				"delivery: at_most_once (lib flush())", "buffer: while_reconnecting (lib publish())"}},
		{name: "no contract, all delivered", cfg: &PublishFate{}, h: pfCut("", 4, 5).hist(), verdict: OK},
		{name: "refused when the buffer is full", cfg: &PublishFate{}, h: refused.hist(), verdict: OK,
			detail: []string{"1 refused by the library: client 0 at 370.5ms (nats.go Publish: nats: outbound buffer limit exceeded)"}},
		{name: "lost in flight after a silent death", cfg: &PublishFate{}, h: pfBlackhole(amo).hist(), verdict: Informational,
			detail: []string{`client 0: 2 publish(es) lost in flight on session "S1/1": n=4,5 taken at 250.5ms,300.5ms (2 of them after the connection died at 230.0ms (blackhole on link s1 (link fault.on))`,
				"detected by the client at 410.0ms, 180.0ms later", "delivery: at_most_once", "4 delivered on their connection"}},
		{name: "lost in flight, contract silent", cfg: &PublishFate{}, h: pfBlackhole("").hist(), verdict: Informational,
			detail: []string{"lost in flight", "delivery: not declared"}},
		{name: "lost in flight under at_least_once", cfg: &PublishFate{}, h: pfBlackhole(pfContract("at_least_once", natsBuf)).hist(), verdict: Failed,
			detail: []string{"2 publish(es) lost in flight", "which delivery: at_least_once (lib flush()) forbids"}},
		{name: "duplicate under at_most_once", cfg: &PublishFate{}, h: dup.hist(), verdict: Failed,
			detail: []string{"send n=5 (taken at 350.5ms) was received 2 times (again by s1 at 402.0ms on session \"S1/2\"), which delivery: at_most_once (lib flush()) forbids"}},
		{name: "duplicate, contract silent", cfg: &PublishFate{}, h: dupFree.hist(), verdict: Informational,
			detail: []string{"was received 2 times", "delivery: not declared"}},
		{name: "buffered send never flushed after the reconnect", cfg: &PublishFate{}, h: pfCut(amo, 4).hist(), verdict: Failed,
			detail: []string{`send n=5, taken at 350.5ms while RECOVERING_RECONNECT on session "S1/1", never reached a server although the connection it would be sent on once back (session "S1/2") lived on and later sends arrived on it: the reconnection succeeded, and buffer: while_reconnecting (lib publish()) says it buffers while reconnecting`}},
		{name: "buffered send lost, contract says no buffer", cfg: &PublishFate{}, h: pfCut(pfContract(natsAMO, "none"), 4).hist(), verdict: Informational,
			detail: []string{"send n=5", "buffer: none"}},
		{name: "buffer discarded, never reconnected", cfg: &PublishFate{}, h: discarded.hist(), verdict: Informational,
			detail: []string{"send n=2 was taken at 300.5ms while RECOVERING_RECONNECT and never sent: the client never reconnected (last state CLOSED_FAILED"}},
		{name: "dropped on a live connection", cfg: &PublishFate{}, h: hole.hist(), verdict: Failed,
			detail: []string{"send n=2, taken at 150.5ms while CONNECTED_ACTIVE", "later sends arrived on it: delivery: at_most_once (lib flush()) loses a publish only with its connection"}},
		{name: "dropped on a live connection, contract silent", cfg: &PublishFate{}, h: holeSilent.hist(), verdict: Informational,
			detail: []string{"send n=2"}},
		{name: "flushed into a connection that died", cfg: &PublishFate{}, h: flushedIntoDead.hist(), verdict: Informational,
			detail: []string{`1 publish(es) lost in flight on session "S1/2": n=2 taken at 300.5ms (0 of them after the connection died at 401.0ms (reset on link s1`}},
		{name: "not received, nothing explains it", cfg: &PublishFate{}, h: unexplained.hist(), verdict: Unknown,
			detail: []string{"send n=2, taken at 150.5ms while CONNECTED_ACTIVE on session \"S1/1\", never reached a server, and nothing in the history explains it"}},
		{name: "no reply", cfg: &PublishFate{}, h: noReply.hist(), verdict: Unknown, detail: []string{"the send op at 150.0ms got no reply"}},
		{name: "receives carry no send number", cfg: &PublishFate{}, h: unnumbered.hist(), verdict: Unknown,
			detail: []string{"carry no send number"}},
		{name: "received beyond the sends taken", cfg: &PublishFate{}, h: beyond.hist(), verdict: Unknown,
			detail: []string{"received send n=2 at 101.0ms, beyond the 1 send(s) its library took"}},
		{name: "no server records receives", cfg: &PublishFate{}, h: newPF(amo).send(100, true).send(150, true).hist(), verdict: Unknown,
			detail: []string{"nothing to judge: the library took 2 send(s) but no server recorded a receive"}},
		{name: "no sends", cfg: &PublishFate{}, h: newPF(amo).hist(), verdict: Unknown, detail: []string{"nothing to judge: no client sent"}},
	})
}

// The measurements of a silent loss: the count, the death → detection
// window (with its span) and when the lost sends were taken.
func TestPublishFateMeasures(t *testing.T) {
	r := (&PublishFate{}).Check(Input{History: pfBlackhole(pfContract(natsAMO, natsBuf)).hist(), Scenario: scen(), Requirement: "R3"})
	want := map[string]float64{
		`client 0 session "S1/1": lost in flight`:    2,
		`client 0 session "S1/1": death → detection`: 180,
		`client 0 session "S1/1": lost sends taken`:  50,
		"lost after the silent death":                2,
		"delivered":                                  4,
		"lost in flight":                             2,
		"sends":                                      6,
	}
	got := map[string]Measurement{}
	for _, m := range r.Measurements {
		got[m.Name] = m
	}
	for k, v := range want {
		if m, ok := got[k]; !ok || m.Value != v {
			t.Errorf("measurement %q = %v (present %v), want %v", k, m.Value, ok, v)
		}
	}
	if s := got[`client 0 session "S1/1": death → detection`].Span; s == nil || s.From != msd(230) || s.To != msd(410) {
		t.Errorf("death → detection span %v", s)
	}
}
