package server

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Garbage instead of the HTTP/2 preface: the handshake fails (OK=false,
// the bytes quoted), the connection closes with an error reason, and the
// server goes on serving.
func TestBadPreface(t *testing.T) {
	s, log := start(t, Options{})
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	hs := waitEvent(t, log, "handshake", kindOn(history.KindHandshake, "s1#1"))
	want := `bad HTTP/2 preface "GET / HTTP/1.1\r\nHost: x\r"` // its first 24 bytes
	if hs.OK || hs.Reason != want {
		t.Fatalf("handshake %v", hs)
	}
	cl := waitEvent(t, log, "conn.close", kindOn(history.KindConnClose, "s1#1"))
	if cl.Reason != "error:"+want {
		t.Fatalf("close %v", cl)
	}
	hello(t, dial(t, s.Addr(), "c0"), "c0")
	if e := waitEvent(t, log, "handshake s1#2", kindOn(history.KindHandshake, "s1#2")); !e.OK {
		t.Fatalf("handshake %v", e)
	}
}

// A right preface followed by a frame other than SETTINGS fails the
// handshake as grpc-go judges it (NewServerTransport).
func TestFirstFrameNotSettings(t *testing.T) {
	s, log := start(t, Options{})
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(append([]byte(clientPreface), frameBytes(framePing, 0, 0, make([]byte, 8))...)); err != nil {
		t.Fatal(err)
	}
	hs := waitEvent(t, log, "handshake", kindOn(history.KindHandshake, "s1#1"))
	if hs.OK || hs.Reason != "first frame PING, not SETTINGS" {
		t.Fatalf("handshake %v", hs)
	}
	if cl := waitEvent(t, log, "conn.close", kindOn(history.KindConnClose, "s1#1")); !strings.HasPrefix(cl.Reason, "error:first frame PING") {
		t.Fatalf("close %v", cl)
	}
}

// A client that goes away before its preface (a prober, a link giving up)
// closes with eof and no handshake: the server judged nothing.
func TestGoneBeforePreface(t *testing.T) {
	s, log := start(t, Options{})
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, log, "accept", kindOn(history.KindAccept, "s1#1"))
	time.Sleep(10 * time.Millisecond) // let grpc-go wait in its preface read
	_ = c.Close()
	if cl := waitEvent(t, log, "conn.close", kindOn(history.KindConnClose, "s1#1")); cl.Reason != ReasonEOF {
		t.Fatalf("close %v", cl)
	}
	if has(onConn(log, "s1#1"), history.KindHandshake) {
		t.Fatalf("a handshake without a preface\n%s", dump(log))
	}
}
