package server

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

func TestIdleClientDisconnected(t *testing.T) {
	s, log := startServer(t, Options{Ping: 200 * time.Millisecond}) // idle after 400ms
	c := dial(t, s)
	c.pong.Store(false) // a client gone silent, as behind a blackhole
	w := c.create(0)
	hs := waitEvent(t, log, kindOf(history.KindHandshake))
	d := waitEvent(t, log, kindSess(history.KindSessionDisconn, w.Session))
	if d.Reason != "idle" || d.Conn != "s1#1" {
		t.Fatalf("disconnect %s", d)
	}
	if el := d.T - hs.T; el < 390*time.Millisecond || el > 560*time.Millisecond {
		t.Fatalf("idle after %v, want 2 x ping = 400ms", el)
	}
	if c.pings.Load() < 1 {
		t.Fatal("the server sent no ping before declaring the client idle")
	}
	c.ended(time.Second)
	waitEvent(t, log, func(e history.Event) bool {
		return e.Kind == history.KindConnClose && e.Conn == "s1#1" && e.Reason == "idle"
	})
	// Idle is recoverable: the session is retained.
	c2 := dial(t, s)
	c2.send(resumeHello(w, nil))
	c2.expect(wire.TResumed)
}

func TestAnsweringClientStaysConnected(t *testing.T) {
	s, log := startServer(t, Options{})
	c := dial(t, s)
	c.create(0)
	time.Sleep(600 * time.Millisecond)
	if n := count(log.Events(), kindOf(history.KindSessionDisconn)); n != 0 {
		t.Fatalf("a client answering pings was dropped:\n%s", log.Events())
	}
	if p := c.pings.Load(); p < 4 || p > 7 {
		t.Fatalf("%d pings in 600ms, want about one per 100ms", p)
	}
}

func TestEveryTCPConnectionRecorded(t *testing.T) {
	s, log := startServer(t, Options{})
	raw, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := raw.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	_ = raw.Close()
	if resp.StatusCode/100 != 4 {
		t.Fatalf("a plain GET got %s", resp.Status)
	}
	if e := waitEvent(t, log, kindOf(history.KindAccept)); e.Conn != "s1#1" {
		t.Fatalf("accept %s", e)
	}
	waitEvent(t, log, func(e history.Event) bool {
		return e.Kind == history.KindConnClose && e.Conn == "s1#1" && e.Reason == "not_upgraded"
	})
	if count(log.Events(), kindOf(history.KindHandshake)) != 0 {
		t.Fatalf("no hello, no handshake:\n%s", log.Events())
	}
}

func TestCloseStopsEverything(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	log := history.NewLog(history.NewClock())
	s, err := Start("s1", log, Options{})
	if err != nil {
		t.Fatal(err)
	}
	live := dial(t, s)
	w := live.create(0)
	live.subscribe(log, w.Session, "a")
	retained := dial(t, s)
	retained.create(0)
	retained.drop()
	waitEvent(t, log, kindOf(history.KindSessionDisconn))
	silent := dial(t, s) // upgraded, never says hello
	raw, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	waitEvent(t, log, func(e history.Event) bool { return e.Kind == history.KindAccept && e.Conn == "s1#4" })

	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	h := log.Events() // Close returns only once every connection has ended and said so
	if el := time.Since(start); el > time.Second {
		t.Fatalf("Close took %v", el)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, id := range []string{"s1#1", "s1#3", "s1#4"} {
		if i := index(h, func(e history.Event) bool { return e.Kind == history.KindConnClose && e.Conn == id }); i < 0 || h[i].Reason != "shutdown" {
			t.Fatalf("conn.close for %s should say shutdown:\n%s", id, h)
		}
	}
	live.ended(time.Second)
	silent.ended(time.Second)
	if s.Publish("a", data(1)) != 0 {
		t.Fatal("Publish after Close")
	}
	s.CloseSessions()
	time.Sleep(100 * time.Millisecond)
	if after := log.Events(); len(after) != len(h) {
		t.Fatalf("recorded after Close:\n%s", after[len(h):])
	}
	if c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond); err == nil {
		c.Close()
		t.Fatal("listener still open after Close")
	}
}
