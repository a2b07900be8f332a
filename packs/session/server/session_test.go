package server

import (
	"bytes"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

func TestNewSessionWelcome(t *testing.T) {
	s, log := startServer(t, Options{MaxRetention: 2 * time.Second})
	cases := []struct{ requested, granted int64 }{{0, 2000}, {500, 500}, {5000, 2000}}
	seen := map[string]bool{}
	for i, tc := range cases {
		c := dial(t, s)
		w := c.create(tc.requested)
		if w.Session == "" || w.Token == "" || w.PingMS != 100 || w.RetentionMS != tc.granted {
			t.Fatalf("requested %d: welcome %+v, want ping 100, retention %d", tc.requested, w, tc.granted)
		}
		if seen[w.Session] || seen[w.Token] || w.Session == w.Token {
			t.Fatalf("session ids and tokens must be unique: %+v", w)
		}
		seen[w.Session], seen[w.Token] = true, true

		conn := "s1#" + string(rune('1'+i))
		h := log.Events()
		acc := index(h, func(e history.Event) bool { return e.Kind == history.KindAccept && e.Conn == conn })
		hs := index(h, func(e history.Event) bool {
			return e.Kind == history.KindHandshake && e.Conn == conn && e.OK && e.Session == w.Session &&
				e.Attr("principal") == DefaultPrincipal && e.Attr("resume") == ""
		})
		cr := index(h, func(e history.Event) bool {
			return e.Kind == history.KindSessionCreate && e.Conn == conn && e.Session == w.Session &&
				e.Attr("retention_ms") == itoa(tc.granted) && e.Attr("ping_ms") == "100"
		})
		if acc < 0 || hs < 0 || cr < 0 || !(acc < hs && hs < cr) {
			t.Fatalf("want accept < handshake < session.create for %s, got %d %d %d in\n%s", conn, acc, hs, cr, h)
		}
		if h[acc].Source != history.SrcServer || h[acc].Server != "s1" {
			t.Fatalf("server events must name their source and server: %+v", h[acc])
		}
	}
}

func TestBadCredentialsRefused(t *testing.T) {
	s, log := startServer(t, Options{})
	for _, hello := range []wire.Frame{
		{T: wire.THello, Principal: DefaultPrincipal, Credentials: "wrong"},
		{T: wire.THello, Principal: "intruder", Credentials: DefaultCredentials},
	} {
		c := dial(t, s)
		c.send(hello)
		if f := c.expect(wire.TRefused); f.Reason != wire.ReasonAccessDenied {
			t.Fatalf("refused %+v, want access_denied", f)
		}
		if err := c.ended(2 * time.Second); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
			t.Fatalf("server should close after refusing, got %v", err)
		}
	}
	h := log.Events()
	if n := count(h, func(e history.Event) bool {
		return e.Kind == history.KindHandshake && !e.OK && e.Reason == wire.ReasonAccessDenied && e.Session == ""
	}); n != 2 {
		t.Fatalf("want 2 refused handshakes, got %d in\n%s", n, h)
	}
	if count(h, kindOf(history.KindSessionCreate)) != 0 {
		t.Fatalf("refused hello created a session:\n%s", h)
	}
	waitEvent(t, log, func(e history.Event) bool {
		return e.Kind == history.KindConnClose && e.Conn == "s1#2" && e.Reason == wire.ReasonAccessDenied
	})
}

func TestHandshakeRejected(t *testing.T) {
	s, log := startServer(t, Options{})
	c := dial(t, s)
	c.send(wire.Frame{T: wire.TSub, Topic: "a"}) // not a hello
	if f := c.expect(wire.TRefused); f.Reason != wire.ReasonBadHandshake {
		t.Fatalf("refused %+v, want handshake_rejected", f)
	}
	waitEvent(t, log, func(e history.Event) bool {
		return e.Kind == history.KindHandshake && e.Conn == "s1#1" && !e.OK && e.Reason == wire.ReasonBadHandshake
	})

	// Silence is bounded too: no hello within helloTimeout ends the connection.
	start := time.Now()
	c2 := dial(t, s)
	c2.ended(helloTimeout + time.Second)
	if el := time.Since(start); el < helloTimeout-100*time.Millisecond {
		t.Fatalf("closed after %v, before the hello bound %v", el, helloTimeout)
	}
	waitEvent(t, log, func(e history.Event) bool {
		return e.Kind == history.KindHandshake && e.Conn == "s1#2" && !e.OK && e.Reason == wire.ReasonBadHandshake
	})
	waitEvent(t, log, func(e history.Event) bool { return e.Kind == history.KindConnClose && e.Conn == "s1#2" })
}

func TestSubscribePublishDeliver(t *testing.T) {
	s, log := startServer(t, Options{})
	c := dial(t, s)
	w := c.create(0)
	if seq := s.Publish("a", data(0)); seq != 1 {
		t.Fatalf("first seq %d, want 1", seq) // before the sub: never delivered
	}
	c.subscribe(log, w.Session, "a")
	for i := 2; i <= 6; i++ {
		if seq := s.Publish("a", data(i)); seq != int64(i) {
			t.Fatalf("seq %d, want %d", seq, i)
		}
		if i%2 == 0 {
			s.Publish("b", data(i)) // not subscribed
		}
	}
	for i := 2; i <= 6; i++ {
		f := c.expect(wire.TMsg)
		if f.Topic != "a" || f.Seq != int64(i) || !bytes.Equal(f.Data, data(i)) {
			t.Fatalf("msg %+v, want a/%d %s", f, i, data(i))
		}
	}
	c.quiet(100 * time.Millisecond)

	h := log.Events()
	pubs := h.Kind(history.KindPublish)
	if len(pubs) != 9 || count(pubs, func(e history.Event) bool { return e.Topic == "b" }) != 3 {
		t.Fatalf("want 6 publishes on a and 3 on b:\n%s", pubs)
	}
	dels := h.Kind(history.KindDeliver)
	if len(dels) != 5 {
		t.Fatalf("want 5 deliveries, got\n%s", dels)
	}
	for i, e := range dels {
		if e.Session != w.Session || e.Conn != "s1#1" || e.Topic != "a" || e.Seq != int64(i+2) || e.Attr("replay") != "" {
			t.Fatalf("delivery %d: %s", i, e)
		}
	}
	order := []int{
		index(h, kindOf(history.KindAccept)),
		index(h, kindOf(history.KindHandshake)),
		index(h, kindOf(history.KindSessionCreate)),
		index(h, kindOf(history.KindSubscribe)),
		index(h, kindOf(history.KindDeliver)),
	}
	for i := 1; i < len(order); i++ {
		if order[i-1] < 0 || order[i-1] >= order[i] {
			t.Fatalf("causal order broken %v:\n%s", order, h)
		}
	}
}

func TestSendsAckedAndCounted(t *testing.T) {
	s, log := startServer(t, Options{})
	c := dial(t, s)
	w := c.create(0)
	for _, n := range []int64{1, 2, 3, 2} {
		c.send(wire.Frame{T: wire.TSend, N: n, Data: data(int(n))})
		if f := c.expect(wire.TAck); f.N != n {
			t.Fatalf("ack %+v, want n=%d", f, n)
		}
	}
	recv := log.Events().Kind(history.KindReceive)
	want := []struct {
		n   int64
		dup string
	}{{1, ""}, {2, ""}, {3, ""}, {2, "true"}}
	if len(recv) != len(want) {
		t.Fatalf("receive events:\n%s", recv)
	}
	for i, e := range recv {
		if e.Seq != want[i].n || e.Attr("dup") != want[i].dup || e.Session != w.Session || e.Conn != "s1#1" {
			t.Fatalf("receive %d: %s", i, e)
		}
	}

	c.drop()
	waitEvent(t, log, kindSess(history.KindSessionDisconn, w.Session))
	c2 := dial(t, s)
	c2.send(resumeHello(w, nil))
	if r := c2.expect(wire.TResumed); r.Session != w.Session || r.Received != 3 || r.PingMS != 100 {
		t.Fatalf("resumed %+v, want received 3", r)
	}
	e := waitEvent(t, log, kindSess(history.KindSessionResume, w.Session))
	if e.Attr("received") != "3" || e.Attr("replay") != "0" || e.Conn != "s1#2" {
		t.Fatalf("resume event %s", e)
	}
	// The count survives the resume: a resent 3 is a duplicate, 4 is new.
	c2.send(wire.Frame{T: wire.TSend, N: 3})
	c2.expect(wire.TAck)
	c2.send(wire.Frame{T: wire.TSend, N: 4})
	c2.expect(wire.TAck)
	recv = log.Events().Kind(history.KindReceive)
	if len(recv) != 6 || recv[4].Attr("dup") != "true" || recv[5].Attr("dup") != "" || recv[5].Conn != "s1#2" {
		t.Fatalf("receives after resume:\n%s", recv)
	}
}

func TestClientClose(t *testing.T) {
	s, log := startServer(t, Options{})
	c := dial(t, s)
	w := c.create(0)
	c.send(wire.Frame{T: wire.TClose})
	if err := c.ended(2 * time.Second); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("want a normal closure, got %v", err)
	}
	e := waitEvent(t, log, kindSess(history.KindSessionClose, w.Session))
	if e.Reason != wire.ReasonByClient {
		t.Fatalf("close event %s", e)
	}
	waitEvent(t, log, func(e history.Event) bool {
		return e.Kind == history.KindConnClose && e.Conn == "s1#1" && e.Reason == wire.ReasonByClient
	})
	if n := count(log.Events(), kindSess(history.KindSessionDisconn, w.Session)); n != 0 {
		t.Fatalf("a deliberate close is not a disconnect:\n%s", log.Events())
	}
	c2 := dial(t, s)
	c2.send(resumeHello(w, nil))
	if f := c2.expect(wire.TRefused); f.Reason != wire.ReasonUnknownSession {
		t.Fatalf("resume of a closed session: %+v", f)
	}
}

func TestServerCloseSessions(t *testing.T) {
	s, log := startServer(t, Options{MaxRetention: 150 * time.Millisecond})
	live := dial(t, s)
	wl := live.create(0)
	gone := dial(t, s)
	wr := gone.create(0)
	gone.drop()
	waitEvent(t, log, kindSess(history.KindSessionDisconn, wr.Session))

	s.CloseSessions()
	if f := live.expect(wire.TClosed); f.Reason != wire.ReasonByServer {
		t.Fatalf("closed %+v", f)
	}
	if err := live.ended(2 * time.Second); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("want a normal closure, got %v", err)
	}
	for _, id := range []string{wl.Session, wr.Session} {
		e := waitEvent(t, log, kindSess(history.KindSessionClose, id))
		if e.Reason != wire.ReasonByServer {
			t.Fatalf("close event %s", e)
		}
	}
	waitEvent(t, log, func(e history.Event) bool {
		return e.Kind == history.KindConnClose && e.Conn == "s1#1" && e.Reason == wire.ReasonByServer
	})
	time.Sleep(250 * time.Millisecond) // past the retention the closed session had
	h := log.Events()
	if count(h, kindOf(history.KindSessionExpire)) != 0 || count(h, kindSess(history.KindSessionDisconn, wl.Session)) != 0 {
		t.Fatalf("a server close is neither expiry nor disconnect:\n%s", h)
	}
	for _, w := range []wire.Frame{wl, wr} {
		c := dial(t, s)
		c.send(resumeHello(w, nil))
		if f := c.expect(wire.TRefused); f.Reason != wire.ReasonUnknownSession {
			t.Fatalf("resume of a server-closed session: %+v", f)
		}
	}
}

func TestNoReconnect(t *testing.T) {
	s, log := startServer(t, Options{})
	c := dial(t, s)
	c.send(wire.Frame{T: wire.THello, Principal: DefaultPrincipal, Credentials: DefaultCredentials, RetentionMS: 5000, NoReconnect: true})
	w := c.expect(wire.TWelcome)
	if w.RetentionMS != 0 {
		t.Fatalf("an opted-out session is retained for nothing: %+v", w)
	}
	if e := waitEvent(t, log, kindOf(history.KindSessionCreate)); e.Attr("retention_ms") != "0" {
		t.Fatalf("create %s", e)
	}
	c.drop()
	e := waitEvent(t, log, kindSess(history.KindSessionClose, w.Session))
	if e.Reason != "no_reconnect" {
		t.Fatalf("close event %s", e)
	}
	h := log.Events()
	if d := index(h, kindSess(history.KindSessionDisconn, w.Session)); d < 0 || h[d].Reason != "transport" || d > index(h, kindSess(history.KindSessionClose, w.Session)) {
		t.Fatalf("want the loss (transport) then the close:\n%s", h)
	}
	c2 := dial(t, s)
	c2.send(resumeHello(w, nil))
	if f := c2.expect(wire.TRefused); f.Reason != wire.ReasonUnknownSession {
		t.Fatalf("resume of an opted-out session: %+v", f)
	}
	if count(log.Events(), kindOf(history.KindSessionExpire)) != 0 {
		t.Fatalf("nothing was retained, so nothing expires:\n%s", log.Events())
	}
}

func itoa(n int64) string { return ms(time.Duration(n) * time.Millisecond) }
