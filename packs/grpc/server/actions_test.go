package server

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/faultline/faultline/harness/history"
)

// goaway with a Subscribe stream open and a Rows call in flight: both
// GOAWAYs of grpc-go's drain are recorded on the connection, the Rows call
// finishes within the grace, a publish in the grace still reaches the open
// stream, new RPCs go to a new connection at once (the listener stayed
// open), and after the grace the old connection is closed (reason goaway,
// grace expired) and its stream ends UNAVAILABLE.
func TestGoAwayDrainsWithinGrace(t *testing.T) {
	const grace = 1500 * time.Millisecond
	s, log := start(t, Options{})
	s.PaceRows(40 * time.Millisecond)
	cc := dial(t, s.Addr(), "c0")
	hello(t, cc, "c0")
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	sub := subscribe(t, ctx, cc, "t")
	rows, err := cc.NewStream(metadata.AppendToOutgoingContext(ctx, MDRequest, "1"), rowsDesc, MethodRows)
	if err != nil {
		t.Fatal(err)
	}
	_ = rows.SendMsg(wrapperspb.UInt64(10)) // ~360 ms of rows
	_ = rows.CloseSend()
	recvSeqs(t, rows, 1) // in flight

	if n := s.GoAway(grace); n != 1 {
		t.Fatalf("GoAway sent %d connections away", n)
	}
	sent := time.Now()
	notice := waitEvent(t, log, "GOAWAY notice", func(e history.Event) bool { return e.Kind == KindGoAway && e.Attr("notice") == "true" })
	final := waitEvent(t, log, "final GOAWAY", func(e history.Event) bool { return e.Kind == KindGoAway && e.Attr("notice") == "" })
	for _, g := range []history.Event{notice, final} {
		if g.Conn != "s1#1" || g.Reason != GoAwayAction || g.Attr("code") != "NO_ERROR" || g.Attr("debug") != "graceful_stop" || g.Session == "" ||
			g.Attr("grace_ms") != "1500" {
			t.Fatalf("goaway %v", g)
		}
	}
	if notice.Attr("last_stream_id") != "2147483647" || final.Attr("last_stream_id") == "2147483647" || final.T < notice.T {
		t.Fatalf("notice %v, final %v", notice, final)
	}

	// the stream open is still served: a publish in the grace reaches it
	if s.Publish("t", nil) != 1 || !slices.Equal(recvSeqs(t, sub, 1), []uint64{1}) {
		t.Fatal("publish during the grace")
	}
	got, err := drain(rows)
	if err != nil || len(got) != 9 {
		t.Fatalf("rows after GOAWAY: %v %v", got, err)
	}
	// new RPCs: a new connection, at once
	if sess := hello(t, cc, "c0"); sess != "s1@"+s.StartID()+"/c0#2" {
		t.Fatalf("session after goaway %q", sess)
	}
	if time.Since(sent) > grace/2 {
		t.Fatalf("the new connection took %v", time.Since(sent))
	}
	_, err = drain(sub)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Subscribe after the grace: %v", err)
	}
	cl := waitEvent(t, log, "conn.close s1#1", kindOn(history.KindConnClose, "s1#1"))
	if cl.Reason != ReasonGoAway || cl.Attr("grace") != "expired" {
		t.Fatalf("close %v", cl)
	}
	if d := cl.T - notice.T; d < grace-100*time.Millisecond || d > grace+time.Second {
		t.Fatalf("closed %v after the GOAWAY, grace %v", d, grace)
	}
	if has(onConn(log, "s1#2"), KindGoAway) {
		t.Fatal("the new connection was sent away too")
	}
	waitServing(t, s, 1) // the new connection's
}

// An idle connection sent away closes when the client has seen the GOAWAY,
// long before the grace.
func TestGoAwayIdleClosesAtOnce(t *testing.T) {
	s, log := start(t, Options{})
	cc := dial(t, s.Addr(), "c0")
	hello(t, cc, "c0")
	s.GoAway(30 * time.Second)
	cl := waitEvent(t, log, "conn.close", kindOn(history.KindConnClose, "s1#1"))
	if cl.Reason != ReasonGoAway || cl.Attr("grace") != "" || cl.Attr("by") == "" {
		t.Fatalf("close %v", cl)
	}
	waitServing(t, s, 0)
	if s.GoAway(time.Second) != 0 {
		t.Fatal("GoAway with no connection sent some away")
	}
}

// waitServing waits until n connections' grpc.Servers are running.
func waitServing(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		s.mu.Lock()
		got := s.serving
		s.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d grpc.Servers running, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// close_all closes every connection at once, without GOAWAY: streams end
// UNAVAILABLE, and the server keeps accepting.
func TestCloseConnections(t *testing.T) {
	s, log := start(t, Options{})
	cc := dial(t, s.Addr(), "c0")
	hello(t, cc, "c0")
	sub := subscribe(t, ctxT(t), cc, "t")
	s.CloseConnections()
	if _, err := drain(sub); status.Code(err) != codes.Unavailable {
		t.Fatalf("stream after close_all: %v", err)
	}
	cl := waitEvent(t, log, "conn.close", kindOn(history.KindConnClose, "s1#1"))
	if cl.Reason != ReasonServerClose {
		t.Fatalf("close %v", cl)
	}
	if has(onConn(log, "s1#1"), KindGoAway) {
		t.Fatal("close_all sent GOAWAY")
	}
	hello(t, cc, "c0") // a new connection
	waitEvent(t, log, "handshake on s1#2", kindOn(history.KindHandshake, "s1#2"))
}

// accept_then_close: every connection is accepted and closed before a
// byte of HTTP/2; admit undoes it.
func TestAcceptThenClose(t *testing.T) {
	s, log := start(t, Options{})
	s.AcceptThenClose(true)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	if n, err := c.Read(make([]byte, 64)); n != 0 || !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read from an accept_then_close server: %d bytes, %v", n, err)
	}
	_ = c.Close()
	cl := waitEvent(t, log, "conn.close", kindOn(history.KindConnClose, "s1#1"))
	if cl.Reason != ReasonAcceptClose {
		t.Fatalf("close %v", cl)
	}
	if got := onConn(log, "s1#1"); !slices.Equal(got, []string{history.KindAccept, history.KindConnClose}) {
		t.Fatalf("kinds %v", got)
	}
	// a grpc-go client's attempts fail
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := dial(t, s.Addr(), "c0").Invoke(ctx, MethodHello, wrapperspb.String("c0"), &wrapperspb.StringValue{}); err == nil {
		t.Fatal("Hello through accept_then_close succeeded")
	}
	if err := s.Admit(); err != nil {
		t.Fatal(err)
	}
	hello(t, dial(t, s.Addr(), "c1"), "c1")
}

// refuse closes the listener (dials are refused) and keeps the open
// connections; admit listens again on the same address.
func TestRefuseAdmit(t *testing.T) {
	s, log := start(t, Options{})
	cc := dial(t, s.Addr(), "c0")
	hello(t, cc, "c0")
	s.Refuse()
	if c, err := net.DialTimeout("tcp", s.Addr(), wait); err == nil {
		_ = c.Close()
		t.Fatal("dial to a refusing server succeeded")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial: %v", err)
	}
	out := &wrapperspb.UInt64Value{}
	if err := cc.Invoke(ctxT(t), MethodSend, wrapperspb.Bytes([]byte("3")), out); err != nil || out.GetValue() != 3 {
		t.Fatalf("the open connection while refusing: %v", err)
	}
	if err := s.Admit(); err != nil {
		t.Fatal(err)
	}
	hello(t, dial(t, s.Addr(), "c1"), "c1")
	var states []string
	for _, e := range log.Events() {
		if e.Kind == KindListen {
			states = append(states, e.Attr("state"))
		}
	}
	if !slices.Equal(states, []string{"closed", "open"}) {
		t.Fatalf("listen states %v", states)
	}
	if n := count(log, func(e history.Event) bool { return e.Kind == history.KindConnClose }); n != 0 {
		t.Fatalf("%d closes\n%s", n, dump(log))
	}
}

// Close (the kill) ends everything promptly: streams, a call in flight, a
// connection stuck before its HTTP/2 preface (grpc-go would hold it 120 s),
// a connection being drained; every one closes with reason killed, and the
// address refuses dials.
func TestCloseEndsEverything(t *testing.T) {
	log := history.NewLog(history.NewClock())
	s, err := Start("s1", log, Options{})
	if err != nil {
		t.Fatal(err)
	}
	draining := dial(t, s.Addr(), "c0")
	hello(t, draining, "c0")
	subscribe(t, ctxT(t), draining, "t")
	s.GoAway(time.Minute)
	waitEvent(t, log, "GOAWAY", func(e history.Event) bool { return e.Kind == KindGoAway })

	cc := dial(t, s.Addr(), "c1")
	hello(t, cc, "c1")
	sub := subscribe(t, ctxT(t), cc, "t")
	s.PaceRows(time.Second)
	rows, err := cc.NewStream(ctxT(t), rowsDesc, MethodRows)
	if err != nil {
		t.Fatal(err)
	}
	_ = rows.SendMsg(wrapperspb.UInt64(100))
	_ = rows.CloseSend()
	recvSeqs(t, rows, 1)
	silent, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	waitEvent(t, log, "accept s1#3", kindOn(history.KindAccept, "s1#3"))

	begin := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 2*time.Second {
		t.Fatalf("Close took %v", took)
	}
	for _, id := range []string{"s1#1", "s1#2", "s1#3"} {
		cl := waitEvent(t, log, "conn.close "+id, kindOn(history.KindConnClose, id))
		if cl.Reason != ReasonKilled {
			t.Errorf("%s: %v\n%s", id, cl, dump(log))
		}
	}
	for _, st := range []grpc.ClientStream{sub, rows} {
		if _, err := drain(st); status.Code(err) != codes.Unavailable {
			t.Errorf("stream after the kill: %v", err)
		}
	}
	if c, err := net.DialTimeout("tcp", s.Addr(), wait); err == nil {
		_ = c.Close()
		t.Fatal("dial after Close succeeded")
	}
	if s.Publish("t", nil) != 0 {
		t.Fatal("publish on a closed server")
	}
	_ = s.Close() // twice is fine
}

// A connection still in its handshake when goaway comes does not hold the
// GOAWAY of the others; it gets its own once its transport is up, as from
// any grpc-go server, and the new connections are not sent away.
func TestGoAwayNotHeldByAHandshake(t *testing.T) {
	s, log := start(t, Options{})
	cc := dial(t, s.Addr(), "c0")
	hello(t, cc, "c0")
	silent, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	waitEvent(t, log, "accept s1#2", kindOn(history.KindAccept, "s1#2"))
	if n := s.GoAway(time.Minute); n != 2 {
		t.Fatalf("GoAway sent %d away", n)
	}
	g := waitEvent(t, log, "GOAWAY on s1#1", kindOn(KindGoAway, "s1#1"))
	if has(onConn(log, "s1#2"), KindGoAway) {
		t.Fatal("GOAWAY before a handshake")
	}
	waitEvent(t, log, "s1#1 closed", kindOn(history.KindConnClose, "s1#1"))
	// the silent one speaks now
	if _, err := silent.Write(append([]byte(clientPreface), frameBytes(frameSettings, 0, 0, nil)...)); err != nil {
		t.Fatal(err)
	}
	g2 := waitEvent(t, log, "GOAWAY on s1#2", kindOn(KindGoAway, "s1#2"))
	if g2.Reason != GoAwayAction || g2.T < g.T {
		t.Fatalf("goaway %v", g2)
	}
	inOrder(t, onConn(log, "s1#2"), []string{history.KindAccept, history.KindHandshake, KindGoAway})
	hello(t, cc, "c0") // s1#3, not sent away
	if has(onConn(log, "s1#3"), KindGoAway) {
		t.Fatal("a new connection was sent away")
	}
}

// A restart (the topology's: Close, then Start on the same address) is a
// fresh server: a new start id, so new session ids, and seqs from 1.
func TestRestartOnTheSameAddress(t *testing.T) {
	s, _ := start(t, Options{})
	cc := dial(t, s.Addr(), "c0")
	first := hello(t, cc, "c0")
	s.Publish("t", nil)
	_ = s.Close()
	s2, log2 := start(t, Options{Listen: s.Addr()})
	if s2.Addr() != s.Addr() || s2.StartID() == s.StartID() {
		t.Fatalf("restart on %s (start %s), first on %s (start %s)", s2.Addr(), s2.StartID(), s.Addr(), s.StartID())
	}
	again := hello(t, cc, "c0") // the same client reconnects
	if again == first || again != "s1@"+s2.StartID()+"/c0#1" {
		t.Fatalf("session after the restart %q, before %q", again, first)
	}
	if s2.Publish("t", nil) != 1 {
		t.Fatal("seqs go on after a restart")
	}
	waitEvent(t, log2, "handshake", kindOn(history.KindHandshake, "s1#1"))
}

// A GOAWAY grpc-go writes before its ConnBegin ran (a server draining
// already: addConn drains the transport, serveStreams' goroutine sends
// ConnBegin later) still comes after the handshake in the history: the
// GOAWAY is itself the evidence that the transport was up. Driven on the
// conn directly, the order no scheduler decides.
func TestGoAwayBeforeConnBeginRecordsTheHandshakeFirst(t *testing.T) {
	s, log := start(t, Options{})
	a, b := net.Pipe()
	defer b.Close()
	c := newConn(s, a, 9)
	go func() { _, _ = io.Copy(io.Discard, b) }()
	c.mu.Lock()
	c.goaway = true
	c.mu.Unlock()
	if _, err := c.Write(frameBytes(frameGoAway, 0, 0, goAwayPayload(0, 0, ""))); err != nil {
		t.Fatal(err)
	}
	c.begin() // ConnBegin, late
	inOrder(t, onConn(log, "s1#9"), []string{history.KindHandshake, KindGoAway})
	if n := len(onConn(log, "s1#9")); n != 2 {
		t.Fatalf("events on s1#9: %v, want one handshake and the GOAWAY", onConn(log, "s1#9"))
	}
	_ = c.Close()
}
