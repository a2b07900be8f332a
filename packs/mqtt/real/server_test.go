package real

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func TestStartEphemeralPortsAndClose(t *testing.T) {
	a, _ := start(t, Options{})
	b, _ := start(t, Options{})
	if a.Addr() == b.Addr() || !strings.HasPrefix(a.Addr(), "127.0.0.1:") || strings.HasSuffix(a.Addr(), ":0") {
		t.Fatalf("addresses %s and %s: want two ephemeral ports on 127.0.0.1", a.Addr(), b.Addr())
	}
	if got, want := a.URL(), "mqtt://"+a.Addr(); got != want {
		t.Fatalf("URL %q, want %q", got, want)
	}
	r := dialRaw(t, a.Addr())
	if ack := r.connect("c1", true, 60); ack.ReturnCode != 0 {
		t.Fatalf("CONNACK %d", ack.ReturnCode)
	}
	pid := a.inc.p.cmd.Process.Pid
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	r.closedByServer()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("mosquitto %d still there after Close: %v", pid, err)
	}
	if c, err := net.DialTimeout("tcp", a.Addr(), wait); err == nil {
		_ = c.Close()
		t.Fatal("a closed broker accepted a connection")
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start("x", history.Nop{}, Options{Binary: "/nonexistent/mosquitto"}); err == nil ||
		!strings.Contains(err.Error(), "make deps") {
		t.Fatalf("a missing mosquitto: %v, want an error that says make deps installs it", err)
	}
	if _, err := Start("x", history.Nop{}, Options{Listen: "localhost:1"}); err == nil {
		t.Fatal("a host name was accepted")
	}
	s, _ := start(t, Options{})
	// The same port while it is taken: an error within the start deadline.
	if _, err := Start("dup", history.Nop{}, Options{Listen: s.Addr()}); err == nil ||
		!strings.Contains(err.Error(), "in use") {
		t.Fatalf("a second broker on a taken port: %v", err)
	}
}

// Close then Start on the same address (the topology's kill and restart):
// Close kills the process (every connection killed, every persistent
// session expired) and records no process event; dials are refused until
// the new start, which holds none of the old broker's sessions (persistence
// is off), numbers its connections from m1#1 (the topology renumbers them
// across starts) and its publish seqs from 1.
func TestCloseThenStartAgainOnTheSameAddress(t *testing.T) {
	s, log := start(t, Options{})
	addr := s.Addr()
	r := dialRaw(t, addr)
	r.connect("keep", false, 60)
	r.subscribe("t/#", 1)
	waitEvent(t, log, "subscribe", kindIs("subscribe"))
	if s.Publish("t/x") != 1 {
		t.Fatal("publish")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cl := waitEvent(t, log, "conn.close", kindConn(history.KindConnClose, "m1#1"))
	if cl.Reason != ReasonKilled || cl.Session != "m1/keep" {
		t.Fatalf("conn.close %v, want killed in session m1/keep", cl)
	}
	ex := waitEvent(t, log, "session.expire", kindIs(history.KindSessionExpire))
	if ex.Session != "m1/keep" || ex.Attr("why") != "killed" {
		t.Fatalf("session.expire %v", ex)
	}
	if h := log.Events().Filter(func(e history.Event) bool {
		return e.Kind == history.KindKill || e.Kind == history.KindRestart
	}); len(h) != 0 {
		t.Fatalf("Close recorded process events:\n%s", h)
	}
	r.closedByServer()
	if c, err := net.DialTimeout("tcp", addr, wait); err == nil {
		_ = c.Close()
		t.Fatal("a closed broker accepted a connection")
	}
	if s.Publish("t/x") != 0 {
		t.Fatal("published on a closed broker")
	}

	mark := len(log.Events())
	s2, err := Start("m1", log, Options{Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	if s2.Addr() != addr {
		t.Fatalf("started on %s, want %s", s2.Addr(), addr)
	}
	r2 := dialRaw(t, addr)
	if ack := r2.connect("keep", false, 60); ack.SessionPresent {
		t.Fatal("a new broker (persistence off) still had the session")
	}
	// The new broker's events: its Conn ids are the old one's again.
	since := func(what string, keep func(history.Event) bool) history.Event {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			if h := log.Events()[mark:].Filter(keep); len(h) > 0 {
				return h[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s of the new broker within %v; history:\n%s", what, wait, log.Events())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	hs := since("handshake", kindConn(history.KindHandshake, "m1#1"))
	if hs.Attr("session_present") != "false" || hs.Session != "m1/keep" {
		t.Fatalf("handshake after the new start %v", hs)
	}
	if s2.Publish("t/x") != 1 { // seqs are the broker's
		t.Fatal("publish after the new start")
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if cl := since("conn.close", kindConn(history.KindConnClose, "m1#1")); cl.Reason != ReasonKilled {
		t.Fatalf("the new broker's close: %v", cl)
	}
}
