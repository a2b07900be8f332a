package server

import (
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/faultline/faultline/harness/history"
)

// The enforcement policy lets a client ping as often as it likes: a burst
// of PINGs 10 ms apart with no stream open, which grpc-go's default policy
// (MinTime 5 min, PermitWithoutStream false) punishes after three, is
// answered PING for PING, and each is recorded.
func TestPingsAreNeverTooMany(t *testing.T) {
	if DefaultKeepaliveMinTime <= 0 || DefaultKeepaliveMinTime > 10*time.Millisecond {
		t.Fatalf("DefaultKeepaliveMinTime %v", DefaultKeepaliveMinTime)
	}
	s, log := start(t, Options{})
	r := rawClient(t, s.Addr())
	waitEvent(t, log, "handshake", kindOn(history.KindHandshake, "s1#1"))
	for i := range 6 {
		r.ping(t, [8]byte{0, 0, 0, 0, 0, 0, 0, byte(i)})
		if f, ok := r.next(framePing, wait); !ok || f.flags&flagAck == 0 || f.pingData()[7] != byte(i) {
			t.Fatalf("ping %d: answer %+v %v", i, f, ok)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if f, ok := r.next(frameGoAway, 100*time.Millisecond); ok {
		t.Fatalf("GOAWAY %+v", f)
	}
	waitEvent(t, log, "the sixth ping", func(e history.Event) bool { return e.Kind == KindPing && e.Attr("data") == "0000000000000005" })
	if n := count(log, func(e history.Event) bool { return e.Kind == KindPing && e.Conn == "s1#1" }); n != 6 {
		t.Fatalf("%d pings recorded", n)
	}
	if n := count(log, func(e history.Event) bool { return e.Kind == KindGoAway || e.Kind == history.KindConnClose }); n != 0 {
		t.Fatalf("%d GOAWAYs/closes\n%s", n, dump(log))
	}
}

// The same burst against grpc-go's default MinTime must end in GOAWAY
// ENHANCE_YOUR_CALM "too_many_pings": what the policy above prevents, and
// what the server records when it happens.
func TestTooManyPingsUnderTheDefaultPolicy(t *testing.T) {
	s, log := start(t, Options{KeepaliveMinTime: 5 * time.Minute})
	r := rawClient(t, s.Addr())
	waitEvent(t, log, "handshake", kindOn(history.KindHandshake, "s1#1"))
	for i := range 6 {
		r.ping(t, [8]byte{byte(i)})
	}
	f, ok := r.next(frameGoAway, wait)
	if !ok {
		t.Fatal("no GOAWAY after a burst of pings")
	}
	if _, code, debug := f.goAway(); code != 0xb || debug != "too_many_pings" {
		t.Fatalf("GOAWAY code %d %q", code, debug)
	}
	g := waitEvent(t, log, "grpc.goaway", kindOn(KindGoAway, "s1#1"))
	if g.Reason != GoAwayTooManyPings || g.Attr("code") != "ENHANCE_YOUR_CALM" {
		t.Fatalf("goaway %v", g)
	}
	cl := waitEvent(t, log, "conn.close", kindOn(history.KindConnClose, "s1#1"))
	if cl.Reason != ReasonKeepalive || cl.Attr("goaway") != GoAwayTooManyPings {
		t.Fatalf("close %v", cl)
	}
}

// A real grpc-go client with keepalive Time 10 s (its minimum) pings an
// idle connection, and is never told too_many_pings.
func TestClientKeepaliveIsAnswered(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a 10 s keepalive")
	}
	s, log := start(t, Options{})
	cc := dial(t, s.Addr(), "c0", grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}))
	hello(t, cc, "c0")
	deadline := time.Now().Add(10*time.Second + wait)
	for count(log, func(e history.Event) bool { return e.Kind == KindPing }) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no keepalive ping\n%s", dump(log))
		}
		time.Sleep(50 * time.Millisecond)
	}
	p := waitEvent(t, log, "ping", func(e history.Event) bool { return e.Kind == KindPing })
	if p.Conn != "s1#1" || p.Attr("data") != "0000000000000000" || p.Session == "" {
		t.Fatalf("ping %v", p)
	}
	hello(t, cc, "c0") // the same connection still
	if n := count(log, func(e history.Event) bool { return e.Kind == KindGoAway || e.Kind == history.KindConnClose }); n != 0 {
		t.Fatalf("%d GOAWAYs/closes\n%s", n, dump(log))
	}
}

// With the ping option the server pings an idle connection, and closes it
// (reason keepalive) when nothing comes back.
func TestServerKeepaliveClosesASilentClient(t *testing.T) {
	s, log := start(t, Options{Ping: time.Second})
	r := rawClient(t, s.Addr())
	hs := waitEvent(t, log, "handshake", kindOn(history.KindHandshake, "s1#1"))
	if f, ok := r.next(framePing, 3*time.Second); !ok || f.flags&flagAck != 0 || f.pingData() != [8]byte{} {
		t.Fatalf("server keepalive ping: %+v %v", f, ok)
	}
	// not answered
	cl := history.Event{}
	deadline := time.Now().Add(2*time.Second + wait)
	for cl.Kind == "" {
		for _, e := range log.Events() {
			if e.Kind == history.KindConnClose {
				cl = e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no close\n%s", dump(log))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if cl.Reason != ReasonKeepalive {
		t.Fatalf("close %v", cl)
	}
	if d := cl.T - hs.T; d < 1900*time.Millisecond {
		t.Fatalf("closed %v after the handshake: before Time + Timeout", d)
	}
}
