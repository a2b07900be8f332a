package fake

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func TestWithholdPongs(t *testing.T) {
	s, log := start(t, Options{})
	s.WithholdPongs(true)
	c := dial(t, s)
	c.handshake("c") // the handshake's PING is answered all the same
	c.send("PING\r\n")
	c.silent(200 * time.Millisecond)
	var withheld history.Event
	for _, e := range log.Events().Kind(KindPing) {
		if e.Attr("answered") == "false" {
			withheld = e
		}
	}
	if withheld.Conn != "s1#1" {
		t.Fatalf("no nats.ping answered=false:\n%s", log.Events())
	}
	s.WithholdPongs(false)
	c.send("PING\r\n")
	c.expect("PONG")
	if n := len(log.Events().Kind(KindPing)); n != 3 {
		t.Fatalf("%d nats.ping events, want 3", n)
	}
}

// A client that answers nothing is closed as stale after MaxPingsOut
// unanswered PINGs, with -ERR 'Stale Connection' first.
func TestServerPingsStale(t *testing.T) {
	s, log := start(t, Options{PingInterval: 40 * time.Millisecond, MaxPingsOut: 2})
	c := dial(t, s)
	c.handshake("c")
	lines := c.closed()
	want := []string{"PING", "PING", "-ERR 'Stale Connection'"}
	if len(lines) != len(want) {
		t.Fatalf("got %q, want %q", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("got %q, want %q", lines, want)
		}
	}
	e := waitEvent(t, log, "nats.err", kind(KindErr, "s1#1"))
	if e.Reason != "Stale Connection" {
		t.Fatalf("nats.err %v", e)
	}
	cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1"))
	if cl.Reason != ReasonStale || cl.Session != s.ServerID()+"/1" {
		t.Fatalf("conn.close %v", cl)
	}
}

// A client that answers the server's PINGs stays.
func TestServerPingsAnswered(t *testing.T) {
	s, log := start(t, Options{PingInterval: 20 * time.Millisecond, MaxPingsOut: 1})
	c := dial(t, s)
	c.handshake("c")
	for i := 0; i < 8; i++ {
		c.expect("PING")
		c.send("PONG\r\n")
	}
	if cl := log.Events().Kind(history.KindConnClose); len(cl) != 0 {
		t.Fatalf("closed: %v", cl)
	}
}
