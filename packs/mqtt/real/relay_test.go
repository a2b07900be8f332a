package real

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/faultline/faultline/harness/history"
)

// Connections reset right after connect (a link's cut or reset fault):
// mosquitto logs nothing of most of them, the front listener records each
// as accept and conn.close eof, once.
func TestResetRightAfterConnect(t *testing.T) {
	s, log := start(t, Options{})
	const n = 10
	for range n {
		c, err := net.DialTimeout("tcp", s.Addr(), wait)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.(*net.TCPConn).SetLinger(0)
		_ = c.Close()
	}
	closes := waitN(t, log, "conn.close", n, kindIs(history.KindConnClose))
	// A client after them is m1#(n+1): the resets took no numbers twice.
	r := dialRaw(t, s.Addr())
	r.connect("after", true, 60)
	waitEvent(t, log, "handshake", kindConn(history.KindHandshake, "m1#"+strconv.Itoa(n+1)))
	for _, cl := range closes {
		if cl.Reason != ReasonEOF || cl.Session != "" {
			t.Errorf("conn.close %v, want eof", cl)
		}
	}
	time.Sleep(100 * time.Millisecond) // a late line would show now
	ev := log.Events()
	accepts, perConn := ev.Kind(history.KindAccept), map[string]int{}
	for _, e := range ev.Kind(history.KindConnClose) {
		perConn[e.Conn]++
	}
	if len(accepts) != n+1 {
		t.Fatalf("%d accepts, want %d:\n%s", len(accepts), n+1, ev)
	}
	for i := 1; i <= n; i++ {
		if c := "m1#" + strconv.Itoa(i); perConn[c] != 1 {
			t.Errorf("%s: %d conn.close, want 1:\n%s", c, perConn[c], ev)
		}
	}
	if h := ev.Filter(func(e history.Event) bool {
		return e.Kind != history.KindAccept && e.Kind != history.KindConnClose && e.Conn != "m1#"+strconv.Itoa(n+1)
	}); len(h) != 0 {
		t.Fatalf("more than accepts and closes of the reset connections:\n%s", h)
	}
	// Among them, those mosquitto never logged were closed by the relay.
	unlogged := 0
	for _, cl := range closes {
		if strings.HasPrefix(cl.Attr("native"), "not logged by mosquitto") {
			unlogged++
		}
	}
	t.Logf("%d of %d resets not logged by mosquitto", unlogged, n)
}

// A client's session through the front listener: one accept (the front
// listener's, remote = the client's address), the log's lines on the same
// Conn, and the close with mosquitto's own reason.
func TestRelayedSessionMapsByAddress(t *testing.T) {
	s, log := start(t, Options{})
	a := dialRaw(t, s.Addr())
	a.connect("a", true, 60)
	b := dialRaw(t, s.Addr())
	b.connect("b", false, 60)
	acc := waitEvent(t, log, "accept", kindConn(history.KindAccept, "m1#1"))
	if acc.Attr("remote") != a.c.LocalAddr().String() {
		t.Fatalf("accept %v, want remote %s", acc, a.c.LocalAddr())
	}
	if hs := waitEvent(t, log, "handshake #2", kindConn(history.KindHandshake, "m1#2")); hs.Session != "m1/b" {
		t.Fatalf("handshake %v", hs)
	}
	b.send(packets.NewControlPacket(packets.Disconnect))
	_ = a.c.Close()
	if cl := waitEvent(t, log, "conn.close #1", kindConn(history.KindConnClose, "m1#1")); cl.Reason != ReasonEOF ||
		cl.Attr("native") != "closed its connection" || cl.Session != "m1/a" {
		t.Fatalf("conn.close %v, want mosquitto's eof", cl)
	}
	if cl := waitEvent(t, log, "conn.close #2", kindConn(history.KindConnClose, "m1#2")); cl.Reason != ReasonDisconnect {
		t.Fatalf("conn.close %v, want disconnect", cl)
	}
	time.Sleep(50 * time.Millisecond)
	ev := log.Events()
	if h := ev.Kind(history.KindAccept); len(h) != 2 {
		t.Fatalf("accepts:\n%s", h)
	}
	if h := ev.Kind(history.KindConnClose); len(h) != 2 {
		t.Fatalf("closes:\n%s", h)
	}
}

// A reset after the CONNECT, and a half-close, through to mosquitto: its
// own close lines; mosquitto answers the half-close by closing, which
// reaches the client as an EOF.
func TestRelayPassesResetsAndHalfCloses(t *testing.T) {
	s, log := start(t, Options{})
	rst := dialRaw(t, s.Addr())
	rst.connect("rst", true, 60)
	half := dialRaw(t, s.Addr())
	half.connect("half", true, 60)
	waitN(t, log, "handshakes", 2, kindIs(history.KindHandshake))

	_ = rst.c.(*net.TCPConn).SetLinger(0)
	_ = rst.c.Close()
	// mosquitto 2.0.11 logs a reset as it logs an EOF.
	if cl := waitEvent(t, log, "conn.close #1", kindConn(history.KindConnClose, "m1#1")); cl.Reason != ReasonEOF ||
		cl.Attr("native") != "closed its connection" {
		t.Fatalf("conn.close %v, want mosquitto's eof", cl)
	}

	if err := half.c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = half.c.SetReadDeadline(time.Now().Add(wait))
	if n, err := half.c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("after the half-close: %d, %v; want EOF", n, err)
	}
	if cl := waitEvent(t, log, "conn.close #2", kindConn(history.KindConnClose, "m1#2")); cl.Reason != ReasonEOF ||
		cl.Attr("native") != "closed its connection" {
		t.Fatalf("conn.close %v, want mosquitto's eof", cl)
	}
}

// Bytes pass both ways intact, a payload far larger than the relay's
// buffer included.
func TestRelayBytesBothWays(t *testing.T) {
	s, log := start(t, Options{})
	sub := dialRaw(t, s.Addr())
	sub.connect("sub", true, 60)
	sub.subscribe("big", 1)
	pub := dialRaw(t, s.Addr())
	pub.connect("pub", true, 60)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320 kB
	copy(payload, `{"n":7}`)
	pub.publish("big", string(payload), 1, 1)
	if _, ok := pub.read().(*packets.PubackPacket); !ok {
		t.Fatal("no PUBACK")
	}
	p := sub.publishes(1)[0]
	if !bytes.Equal(p.Payload, payload) {
		t.Fatalf("payload of %d bytes arrived as %d bytes, or changed", len(payload), len(p.Payload))
	}
	if rc := waitEvent(t, log, "receive", kindIs(history.KindReceive)); rc.Conn != "m1#2" {
		t.Fatalf("receive %v", rc)
	}
	if d := waitEvent(t, log, "deliver", kindIs(history.KindDeliver)); d.Conn != "m1#1" || d.Topic != "big" {
		t.Fatalf("deliver %v", d)
	}
}

// Close with a client that neither reads nor closes: it returns within
// its grace, the client sees the broker's end, every relay goroutine ends
// (goleak), and the connection closes once, killed.
func TestCloseEndsTheRelays(t *testing.T) {
	s, log := start(t, Options{})
	idle := dialRaw(t, s.Addr())
	idle.connect("idle", true, 60)
	bare := dialRaw(t, s.Addr()) // no CONNECT
	waitN(t, log, "accepts", 2, kindIs(history.KindAccept))
	began := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Fatalf("Close took %v", d)
	}
	idle.closedByServer()
	bare.closedByServer()
	ev := log.Events().Kind(history.KindConnClose)
	if len(ev) != 2 || ev[0].Reason != ReasonKilled || ev[1].Reason != ReasonKilled {
		t.Fatalf("closes:\n%s", ev)
	}
}

// A reset passed on is an RST to the other side: mosquitto closes a
// client that sent a bad packet while the client still sends, and the
// client's further writes meet a reset, as they would without the relay.
func TestRelayPassesMosquittosClose(t *testing.T) {
	s, log := start(t, Options{})
	r := dialRaw(t, s.Addr())
	r.send(packets.NewControlPacket(packets.Pingreq)) // no CONNECT first: mosquitto closes it
	r.closedByServer()
	waitEvent(t, log, "conn.close", kindConn(history.KindConnClose, "m1#1"))
	var err error
	deadline := time.Now().Add(wait)
	for err == nil && time.Now().Before(deadline) {
		_ = r.c.SetWriteDeadline(time.Now().Add(wait))
		_, err = r.c.Write([]byte{0xc0, 0})
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("writes after the broker's close: %v, want a reset", err)
	}
}

// tcpPair is a connected pair of TCP sockets on loopback.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	a, err := net.DialTimeout("tcp", ln.Addr().String(), wait)
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(wait))
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

// piped is a relay between two sockets: client is the client's end,
// broker the broker's; done is closed when the relay has ended.
func piped(t *testing.T) (client, broker *net.TCPConn, r *relay, done chan struct{}) {
	t.Helper()
	client, ci := tcpPair(t)
	uo, broker := tcpPair(t)
	r = &relay{f: &front{s: &Server{}}, client: ci, up: uo, ep: &endpoint{}, downEnd: make(chan struct{})}
	done = make(chan struct{})
	go func() {
		defer close(done)
		r.copyBoth()
	}()
	return client, broker, r, done
}

func waitDone(t *testing.T, done chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("the relay did not end")
	}
}

// readErr reads c until it fails: the error (io.EOF for a FIN).
func readErr(t *testing.T, c net.Conn) error {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return err
		}
	}
}

func echoOnce(t *testing.T, from, to net.Conn, msg string) {
	t.Helper()
	_ = from.SetWriteDeadline(time.Now().Add(wait))
	if _, err := from.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = to.SetReadDeadline(time.Now().Add(wait))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(to, got); err != nil || string(got) != msg {
		t.Fatalf("relayed %q (%v), want %q", got, err, msg)
	}
}

// The relay alone: what one side does, the other side sees.
func TestRelayFaithful(t *testing.T) {
	t.Run("client reset", func(t *testing.T) {
		client, broker, r, done := piped(t)
		echoOnce(t, client, broker, "ping")
		_ = client.SetLinger(0)
		_ = client.Close()
		if err := readErr(t, broker); !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("the broker read %v, want a reset", err)
		}
		waitDone(t, done)
		if r.how != "client reset" || r.ep.ourEnd.IsZero() {
			t.Fatalf("how %q, our end %v", r.how, r.ep.ourEnd)
		}
	})
	t.Run("broker reset", func(t *testing.T) {
		client, broker, r, done := piped(t)
		echoOnce(t, broker, client, "pong")
		_ = broker.SetLinger(0)
		_ = broker.Close()
		if err := readErr(t, client); !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("the client read %v, want a reset", err)
		}
		waitDone(t, done)
		if r.ep.theirEnd.IsZero() || !r.ep.ourEnd.IsZero() {
			t.Fatalf("ends: ours %v, theirs %v", r.ep.ourEnd, r.ep.theirEnd)
		}
	})
	t.Run("client half-close", func(t *testing.T) {
		client, broker, r, done := piped(t)
		_ = client.CloseWrite()
		if err := readErr(t, broker); !errors.Is(err, io.EOF) {
			t.Fatalf("the broker read %v, want EOF", err)
		}
		echoOnce(t, broker, client, "still open the other way") // a half-close only
		_ = broker.CloseWrite()
		if err := readErr(t, client); !errors.Is(err, io.EOF) {
			t.Fatalf("the client read %v, want EOF", err)
		}
		waitDone(t, done)
		if r.how != "client closed" {
			t.Fatalf("how %q", r.how)
		}
	})
	t.Run("broker half-close", func(t *testing.T) {
		client, broker, _, done := piped(t)
		_ = broker.CloseWrite()
		if err := readErr(t, client); !errors.Is(err, io.EOF) {
			t.Fatalf("the client read %v, want EOF", err)
		}
		echoOnce(t, client, broker, "still open the other way")
		_ = client.Close()
		if err := readErr(t, broker); !errors.Is(err, io.EOF) {
			t.Fatalf("the broker read %v, want EOF", err)
		}
		waitDone(t, done)
	})
	t.Run("write into a reset", func(t *testing.T) {
		// The broker closed its socket for good; the client's bytes meet
		// its reset, which reaches the client.
		client, broker, _, done := piped(t)
		_ = broker.Close()
		if err := readErr(t, client); !errors.Is(err, io.EOF) {
			t.Fatalf("the client read %v, want EOF", err)
		}
		var err error
		for deadline := time.Now().Add(wait); err == nil && time.Now().Before(deadline); {
			_, err = client.Write([]byte("more"))
			time.Sleep(5 * time.Millisecond)
		}
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Fatalf("the client's writes: %v, want a reset", err)
		}
		waitDone(t, done)
	})
	t.Run("bytes both ways", func(t *testing.T) {
		client, broker, _, done := piped(t)
		big := bytes.Repeat([]byte("abcdefgh"), 100000) // 800 kB, both ways at once
		errs := make(chan error, 2)
		go func() {
			_ = client.SetWriteDeadline(time.Now().Add(wait))
			_, err := client.Write(big)
			_ = client.CloseWrite()
			errs <- err
		}()
		go func() {
			_ = broker.SetWriteDeadline(time.Now().Add(wait))
			_, err := broker.Write(big)
			_ = broker.CloseWrite()
			errs <- err
		}()
		for _, c := range []net.Conn{client, broker} {
			_ = c.SetReadDeadline(time.Now().Add(wait))
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, big) {
				t.Fatalf("read %d of %d bytes: %v", len(got), len(big), err)
			}
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		waitDone(t, done)
	})
}
