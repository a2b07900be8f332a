package real

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"

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
	pid := a.cur.p.cmd.Process.Pid
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

func TestKillAndRestartOnTheSameAddress(t *testing.T) {
	s, log := start(t, Options{})
	addr := s.Addr()
	r := dialRaw(t, addr)
	r.connect("keep", false, 60)
	r.subscribe("t/#", 1)
	waitEvent(t, log, "subscribe", kindIs("subscribe"))
	if err := s.Kill(context.Background()); err != nil {
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
	waitEvent(t, log, "process.kill", kindIs(history.KindKill))
	r.closedByServer()
	if c, err := net.DialTimeout("tcp", addr, wait); err == nil {
		_ = c.Close()
		t.Fatal("a killed broker accepted a connection")
	}
	if s.Publish("t/x") != 0 {
		t.Fatal("published on a killed broker")
	}
	if err := s.Kill(context.Background()); err == nil {
		t.Fatal("a second kill succeeded")
	}
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", s.Addr(), addr)
	}
	waitEvent(t, log, "process.start", kindIs(history.KindRestart))
	r2 := dialRaw(t, addr)
	if ack := r2.connect("keep", false, 60); ack.SessionPresent {
		t.Fatal("a restarted broker (persistence off) still had the session")
	}
	hs := waitEvent(t, log, "handshake", kindConn(history.KindHandshake, "m1#2"))
	if hs.Attr("session_present") != "false" {
		t.Fatalf("handshake after restart %v", hs)
	}
	if s.Publish("t/x") != 1 { // seqs are the incarnation's
		t.Fatal("publish after restart")
	}
	// A bounce: Restart on a running broker kills it first.
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cl := waitEvent(t, log, "conn.close", kindConn(history.KindConnClose, "m1#2")); cl.Reason != ReasonKilled {
		t.Fatalf("bounce: %v", cl)
	}
	r3 := dialRaw(t, addr)
	r3.connect("c3", true, 60)
	waitEvent(t, log, "accept #3", kindConn(history.KindAccept, "m1#3"))
	if n := len(log.Events().Kind(history.KindKill)); n != 2 {
		t.Fatalf("%d process.kill, want 2", n)
	}
}
