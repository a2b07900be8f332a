package fake

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func TestSubPubDelivery(t *testing.T) {
	s, log := start(t, Options{})
	sub, pub := dial(t, s), dial(t, s)
	sub.handshake("sub")
	pub.handshake("pub")
	sub.send("SUB foo 7\r\nPING\r\n")
	sub.expect("PONG") // the SUB is in
	pub.send("PUB foo _INBOX.r 7\r\n{\"n\":3}\r\n")
	sub.expect("MSG foo 7 _INBOX.r 7")
	sub.expect(`{"n":3}`)

	se := waitEvent(t, log, "subscribe", kind(history.KindSubscribe, "s1#1"))
	if se.Topic != "foo" || se.Attr("sid") != "7" || se.Session != s.ServerID()+"/1" {
		t.Fatalf("subscribe %v", se)
	}
	re := waitEvent(t, log, "receive", kind(history.KindReceive, "s1#2"))
	if re.Topic != "foo" || re.Seq != 3 || re.Attr("bytes") != "7" || re.Session != s.ServerID()+"/2" {
		t.Fatalf("receive %v", re)
	}
	de := waitEvent(t, log, "deliver", kind(history.KindDeliver, "s1#1"))
	if de.Topic != "foo" || de.Seq != 3 || de.Session != s.ServerID()+"/1" {
		t.Fatalf("deliver %v", de)
	}
	assertOrder(t, log, history.KindSubscribe, history.KindReceive, history.KindDeliver)
}

func TestPublishAction(t *testing.T) {
	s, log := start(t, Options{})
	c := dial(t, s)
	c.handshake("c")
	c.send("SUB news.* 1\r\nPING\r\n")
	c.expect("PONG")
	if seq := s.Publish("news.a", []byte(`{"seq":1}`)); seq != 1 {
		t.Fatalf("seq %d", seq)
	}
	if seq := s.Publish("news.a", []byte("x")); seq != 2 {
		t.Fatalf("seq %d", seq)
	}
	if seq := s.Publish("other", nil); seq != 1 { // per subject
		t.Fatalf("seq %d", seq)
	}
	for _, want := range []string{`{"seq":1}`, "x"} {
		if subj, sid, p := c.msg(); subj != "news.a" || sid != "1" || p != want {
			t.Fatalf("MSG %s %s %q", subj, sid, p)
		}
	}
	pe := waitEvent(t, log, "publish", kind(history.KindPublish, ""))
	if pe.Topic != "news.a" || pe.Seq != 1 {
		t.Fatalf("publish %v", pe)
	}
	waitEvent(t, log, "deliver seq 2", func(e history.Event) bool {
		return e.Kind == history.KindDeliver && e.Conn == "s1#1" && e.Seq == 2 && e.Topic == "news.a"
	})
}

// echo:false keeps a client's own messages from it; a queue group gets each
// message once; UNSUB with a max ends the subscription after max.
func TestEchoQueueAndUnsubMax(t *testing.T) {
	s, _ := start(t, Options{})
	a, b := dial(t, s), dial(t, s)
	a.send(`CONNECT {"verbose":false,"echo":false,"protocol":1}` + "\r\nPING\r\n")
	a.expect("PONG")
	b.handshake("b")
	a.send("SUB x 1\r\nSUB q.1 g 2\r\nPING\r\n")
	a.expect("PONG")
	b.send("SUB q.1 g 2\r\nSUB x 3\r\nUNSUB 3 1\r\nPING\r\n")
	b.expect("PONG")

	a.send("PUB x 1\r\na\r\n") // a's own: not echoed to a, delivered to b
	if _, sid, p := b.msg(); sid != "3" || p != "a" {
		t.Fatalf("b got %s %q", sid, p)
	}
	s.Publish("x", []byte("b")) // b's sid 3 has had its one message
	if _, sid, p := a.msg(); sid != "1" || p != "b" {
		t.Fatalf("a got %s %q", sid, p)
	}
	b.send("PING\r\n")
	b.expect("PONG") // not a MSG: sid 3 is gone

	for i := 0; i < 10; i++ {
		s.Publish("q.1", []byte("q"))
	}
	got := 0
	for _, c := range []*client{a, b} {
		c.send("PING\r\n")
		for {
			l := c.line()
			if l == "PONG" {
				break
			}
			if strings.HasPrefix(l, "MSG q.1 2 ") {
				got++
				c.line()
			}
		}
	}
	if got != 10 {
		t.Fatalf("queue group got %d messages, want 10", got)
	}
}

// HPUB reaches a headers client as HMSG and a client without headers as
// MSG with the payload alone.
func TestHeaders(t *testing.T) {
	s, _ := start(t, Options{})
	h, plain := dial(t, s), dial(t, s)
	h.handshake("h")
	plain.send(`CONNECT {"verbose":false,"protocol":1}` + "\r\nPING\r\n")
	plain.expect("PONG")
	h.send("SUB a 1\r\nPING\r\n")
	h.expect("PONG")
	plain.send("SUB a 2\r\nPING\r\n")
	plain.expect("PONG")
	h.send("HPUB a 12 14\r\nNATS/1.0\r\n\r\nhi\r\n")
	h.expect("HMSG a 1 12 14")
	h.expect("NATS/1.0")
	h.expect("")
	h.expect("hi")
	plain.expect("MSG a 2 2")
	plain.expect("hi")

	plain.send("HPUB a 12 12\r\nNATS/1.0\r\n\r\n\r\n") // it said no headers: dropped, without -ERR
	if lines := plain.closed(); len(lines) != 0 {
		t.Fatalf("got %q", lines)
	}
}

// A client that never reads delays no one: publishing only queues, the
// others get everything at once, and the stalled one is dropped when its
// writes time out.
func TestStalledClientDoesNotDelayOthers(t *testing.T) {
	s, log := start(t, Options{MaxPending: 32 << 20, WriteDeadline: 300 * time.Millisecond})
	stalled, fast := dial(t, s), dial(t, s)
	stalled.handshake("stalled")
	stalled.send("SUB big 1\r\nPING\r\n")
	stalled.expect("PONG") // and never reads again
	fast.handshake("fast")
	fast.send("SUB big 1\r\nPING\r\n")
	fast.expect("PONG")

	const n, size = 600, 16 << 10 // 9.6 MB: more than the stalled client's socket buffers take
	received := readMsgs(fast, n)
	begin := time.Now()
	for i := 0; i < n; i++ {
		s.Publish("big", make([]byte, size))
	}
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("publishing took %v: a stalled subscriber held the publisher", d)
	}
	select {
	case err := <-received:
		if err != nil {
			t.Fatalf("fast client: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("fast client did not get everything")
	}
	cl := waitEvent(t, log, "conn.close of the stalled client", kind(history.KindConnClose, "s1#1"))
	if !strings.HasPrefix(cl.Reason, ReasonErrorPrefix+"write timeout") {
		t.Fatalf("stalled client closed with %q", cl.Reason)
	}
	if fe := log.Events().Filter(kind(history.KindConnClose, "s1#2")); len(fe) != 0 {
		t.Fatalf("fast client closed: %v", fe)
	}
}

// A client whose queue passes MaxPending is dropped as a slow consumer at
// once, without waiting for a write to time out.
func TestSlowConsumerDropped(t *testing.T) {
	s, log := start(t, Options{MaxPending: 64 << 10, WriteDeadline: time.Minute})
	stalled := dial(t, s)
	stalled.handshake("stalled")
	stalled.send("SUB big 1\r\nPING\r\n")
	stalled.expect("PONG")
	for i := 0; i < 2500; i++ { // 40 MB: more than any socket buffers
		s.Publish("big", make([]byte, 16<<10))
	}
	cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1"))
	if !strings.HasPrefix(cl.Reason, ReasonErrorPrefix+"slow consumer") {
		t.Fatalf("closed with %q", cl.Reason)
	}
}

// readMsgs reads n MSGs in the background (a test's goroutine may not
// call Fatal) and reports how it went.
func readMsgs(c *client, n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		_ = c.nc.SetReadDeadline(time.Now().Add(wait))
		for i := 0; i < n; i++ {
			l, err := c.r.ReadString('\n')
			if err != nil {
				done <- fmt.Errorf("after %d messages: %w", i, err)
				return
			}
			f := strings.Fields(l)
			size, _ := strconv.Atoi(f[len(f)-1])
			if _, err := io.ReadFull(c.r, make([]byte, size+2)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}
