package server

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

func TestResumeReplaysMissedOnce(t *testing.T) {
	s, log := startServer(t, Options{})
	c := dial(t, s)
	w := c.create(0)
	c.subscribe(log, w.Session, "a")
	for i := 1; i <= 3; i++ {
		s.Publish("a", data(i))
		c.expect(wire.TMsg)
	}
	c.drop()
	if e := waitEvent(t, log, kindSess(history.KindSessionDisconn, w.Session)); e.Reason != "transport" || e.Conn != "s1#1" {
		t.Fatalf("disconnect %s", e)
	}
	for i := 4; i <= 6; i++ {
		s.Publish("a", data(i))
	}
	if n := count(log.Events(), kindOf(history.KindDeliver)); n != 3 {
		t.Fatalf("nothing is delivered while disconnected:\n%s", log.Events())
	}

	c2 := dial(t, s)
	c2.send(resumeHello(w, map[string]int64{"a": 3}))
	if r := c2.expect(wire.TResumed); r.Session != w.Session {
		t.Fatalf("resumed %+v", r)
	}
	for i := 4; i <= 6; i++ {
		if f := c2.expect(wire.TMsg); f.Seq != int64(i) || string(f.Data) != string(data(i)) {
			t.Fatalf("replayed %+v, want seq %d", f, i)
		}
	}
	s.Publish("a", data(7))
	if f := c2.expect(wire.TMsg); f.Seq != 7 {
		t.Fatalf("live after replay %+v", f)
	}
	c2.quiet(100 * time.Millisecond)

	h := log.Events()
	if e := h[index(h, kindOf(history.KindSessionResume))]; e.Attr("replay") != "3" || e.Attr("received") != "0" || e.Conn != "s1#2" {
		t.Fatalf("resume event %s", e)
	}
	if hs := h[index(h, func(e history.Event) bool { return e.Kind == history.KindHandshake && e.Conn == "s1#2" })]; !hs.OK || hs.Attr("resume") != "true" || hs.Session != w.Session {
		t.Fatalf("resume handshake %s", hs)
	}
	dels := h.Kind(history.KindDeliver)
	if len(dels) != 7 {
		t.Fatalf("want each of 7 delivered exactly once:\n%s", dels)
	}
	for i, e := range dels {
		replay, conn := "", "s1#1"
		if i >= 3 {
			conn = "s1#2"
		}
		if i >= 3 && i < 6 {
			replay = "true"
		}
		if e.Seq != int64(i+1) || e.Attr("replay") != replay || e.Conn != conn {
			t.Fatalf("delivery %d: %s", i, e)
		}
	}
	if r, d := index(h, kindOf(history.KindSessionResume)), index(h, func(e history.Event) bool { return e.Kind == history.KindDeliver && e.Seq == 4 }); r > d {
		t.Fatalf("replay recorded before the resume:\n%s", h)
	}
}

func TestResumeAfterExpiryUnknown(t *testing.T) {
	s, log := startServer(t, Options{MaxRetention: time.Second})
	c := dial(t, s)
	w := c.create(200) // below the server maximum: the request wins
	c.drop()
	d := waitEvent(t, log, kindSess(history.KindSessionDisconn, w.Session))
	x := waitEvent(t, log, kindSess(history.KindSessionExpire, w.Session))
	if el := x.T - d.T; el < 200*time.Millisecond || el > 350*time.Millisecond {
		t.Fatalf("expired %v after the loss, want the granted 200ms", el)
	}
	c2 := dial(t, s)
	c2.send(resumeHello(w, nil))
	if f := c2.expect(wire.TRefused); f.Reason != wire.ReasonUnknownSession {
		t.Fatalf("refused %+v", f)
	}
	h := log.Events()
	hs := index(h, func(e history.Event) bool {
		return e.Kind == history.KindHandshake && e.Conn == "s1#2" && !e.OK && e.Reason == wire.ReasonUnknownSession && e.Session == w.Session
	})
	un := index(h, func(e history.Event) bool {
		return e.Kind == history.KindSessionUnknown && e.Conn == "s1#2" && e.Session == w.Session
	})
	if hs < 0 || un < 0 || count(h, kindOf(history.KindSessionResume)) != 0 {
		t.Fatalf("want a refused handshake and session.unknown:\n%s", h)
	}
}

func TestResumeWrongTokenUnknown(t *testing.T) {
	s, log := startServer(t, Options{})
	c := dial(t, s)
	w := c.create(0)
	c.drop()
	waitEvent(t, log, kindSess(history.KindSessionDisconn, w.Session))
	bad := w
	bad.Token = "guess"
	c2 := dial(t, s)
	c2.send(resumeHello(bad, nil))
	if f := c2.expect(wire.TRefused); f.Reason != wire.ReasonUnknownSession {
		t.Fatalf("refused %+v", f)
	}
	// A wrong guess does not harm the real owner.
	c3 := dial(t, s)
	c3.send(resumeHello(w, nil))
	c3.expect(wire.TResumed)
}

func TestResumeBufferTooSmall(t *testing.T) {
	t.Run("gap evicted: lost_messages", func(t *testing.T) {
		s, log := startServer(t, Options{Buffer: 3})
		c := dial(t, s)
		w := c.create(0)
		c.subscribe(log, w.Session, "a")
		s.Publish("a", data(1))
		c.expect(wire.TMsg)
		c.drop()
		waitEvent(t, log, kindSess(history.KindSessionDisconn, w.Session))
		for i := 2; i <= 5; i++ { // the buffer keeps 3..5: 2 is gone
			s.Publish("a", data(i))
		}
		c2 := dial(t, s)
		c2.send(resumeHello(w, map[string]int64{"a": 1}))
		if f := c2.expect(wire.TRefused); f.Reason != wire.ReasonLostMessages {
			t.Fatalf("refused %+v", f)
		}
		h := log.Events()
		hs := index(h, func(e history.Event) bool {
			return e.Kind == history.KindHandshake && e.Conn == "s1#2" && !e.OK && e.Reason == wire.ReasonLostMessages
		})
		lost := index(h, func(e history.Event) bool {
			return e.Kind == history.KindSessionLost && e.Session == w.Session && e.Conn == "s1#2"
		})
		cl := index(h, func(e history.Event) bool {
			return e.Kind == history.KindSessionClose && e.Session == w.Session && e.Reason == wire.ReasonLostMessages
		})
		if hs < 0 || lost < 0 || cl < lost || count(h, kindOf(history.KindSessionResume)) != 0 {
			t.Fatalf("want handshake refused, session.lost, session.close:\n%s", h)
		}
		c3 := dial(t, s)
		c3.send(resumeHello(w, map[string]int64{"a": 1}))
		if f := c3.expect(wire.TRefused); f.Reason != wire.ReasonUnknownSession {
			t.Fatalf("a lost session is closed, got %+v", f)
		}
	})
	t.Run("gap just covered: resumed", func(t *testing.T) {
		s, log := startServer(t, Options{Buffer: 3})
		c := dial(t, s)
		w := c.create(0)
		c.subscribe(log, w.Session, "a")
		for i := 1; i <= 2; i++ {
			s.Publish("a", data(i))
			c.expect(wire.TMsg)
		}
		c.drop()
		waitEvent(t, log, kindSess(history.KindSessionDisconn, w.Session))
		for i := 3; i <= 5; i++ { // evicts 1 and 2, which the client has
			s.Publish("a", data(i))
		}
		c2 := dial(t, s)
		c2.send(resumeHello(w, map[string]int64{"a": 2}))
		c2.expect(wire.TResumed)
		for i := 3; i <= 5; i++ {
			if f := c2.expect(wire.TMsg); f.Seq != int64(i) {
				t.Fatalf("replayed %+v, want %d", f, i)
			}
		}
	})
}

func TestResumeSupersedesLiveConnection(t *testing.T) {
	s, log := startServer(t, Options{})
	old := dial(t, s)
	w := old.create(0)
	old.subscribe(log, w.Session, "a")
	// The old connection is alive as far as the server knows.
	c := dial(t, s)
	c.send(resumeHello(w, nil))
	c.expect(wire.TResumed)
	old.ended(2 * time.Second)
	e := waitEvent(t, log, kindSess(history.KindSessionDisconn, w.Session))
	if e.Reason != "superseded" || e.Conn != "s1#1" {
		t.Fatalf("disconnect %s", e)
	}
	waitEvent(t, log, func(e history.Event) bool {
		return e.Kind == history.KindConnClose && e.Conn == "s1#1" && e.Reason == "superseded"
	})
	s.Publish("a", data(1))
	if f := c.expect(wire.TMsg); f.Seq != 1 {
		t.Fatalf("msg %+v", f)
	}
	dels := log.Events().Kind(history.KindDeliver)
	if len(dels) != 1 || dels[0].Conn != "s1#2" {
		t.Fatalf("deliveries go to the new connection only:\n%s", dels)
	}
}

// Publishing never stops while the client drops and resumes again and again:
// what the client reads must still be every message once, in order.
func TestResumeUnderConcurrentPublish(t *testing.T) {
	s, log := startServer(t, Options{})
	const total = 300
	c := dial(t, s)
	w := c.create(0)
	c.subscribe(log, w.Session, "a")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= total; i++ {
			s.Publish("a", json.RawMessage(data(i)))
			time.Sleep(500 * time.Microsecond)
		}
	}()
	defer wg.Wait()
	var last int64
	for last < total {
		f := c.next(3 * time.Second)
		if f.T != wire.TMsg && f.T != wire.TResumed {
			t.Fatalf("unexpected %+v", f)
		}
		if f.T == wire.TResumed {
			continue
		}
		if f.Seq != last+1 {
			t.Fatalf("got seq %d after %d", f.Seq, last)
		}
		last = f.Seq
		if last%60 == 0 && last < total {
			c.drop()
			c = dial(t, s)
			c.send(resumeHello(w, map[string]int64{"a": last}))
		}
	}
	c.quiet(50 * time.Millisecond)
	if n := count(log.Events(), kindOf(history.KindSessionResume)); n != total/60-1 {
		t.Fatalf("%d resumes", n)
	}
}
