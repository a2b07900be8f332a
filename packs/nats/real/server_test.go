package real

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

const wait = 5 * time.Second // every wait in these tests has a deadline

func start(t *testing.T, opts Options) (*Server, *history.Log) {
	t.Helper()
	log := history.NewLog(history.NewClock())
	s, err := Start("n1", log, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		noPublisher(t, log)
	})
	return s, log
}

// noPublisher: the harness's publisher appears in no event.
func noPublisher(t *testing.T, log *history.Log) {
	t.Helper()
	for _, e := range log.Events() {
		if e.Attr("name") == PublisherName {
			t.Errorf("publisher in the evidence: %v", e)
		}
	}
}

// rawClient is a NATS client spoken by hand.
type rawClient struct {
	t    *testing.T
	c    net.Conn
	r    *bufio.Reader
	info map[string]any
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	rc := &rawClient{t: t, c: c, r: bufio.NewReader(c)}
	line, err := rc.line()
	if err != nil {
		t.Fatal(err)
	}
	js, ok := strings.CutPrefix(line, "INFO ")
	if !ok {
		t.Fatalf("first line %q, want INFO", line)
	}
	if err := json.Unmarshal([]byte(js), &rc.info); err != nil {
		t.Fatal(err)
	}
	return rc
}

func (rc *rawClient) serverID() string { return rc.info["server_id"].(string) }
func (rc *rawClient) clientID() string {
	return strconv.FormatFloat(rc.info["client_id"].(float64), 'f', -1, 64)
}
func (rc *rawClient) session() string { return rc.serverID() + "/" + rc.clientID() }

func (rc *rawClient) send(s string) {
	rc.t.Helper()
	_ = rc.c.SetWriteDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatal(err)
	}
}

// line reads one line within the deadline, answering the server's PINGs.
func (rc *rawClient) line() (string, error) {
	_ = rc.c.SetReadDeadline(time.Now().Add(wait))
	for {
		l, err := rc.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "PING" {
			_, _ = io.WriteString(rc.c, "PONG\r\n")
			continue
		}
		return l, nil
	}
}

// until reads lines until one starts with prefix.
func (rc *rawClient) until(prefix string) string {
	rc.t.Helper()
	for {
		l, err := rc.line()
		if err != nil {
			rc.t.Fatalf("waiting for %q: %v", prefix, err)
		}
		if strings.HasPrefix(l, prefix) {
			return l
		}
		if strings.HasPrefix(l, "-ERR") {
			rc.t.Fatalf("waiting for %q: %s", prefix, l)
		}
	}
}

// closedByServer reads until the server closes the connection.
func (rc *rawClient) closedByServer() {
	rc.t.Helper()
	for {
		if _, err := rc.line(); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				return
			}
			rc.t.Fatalf("waiting for the server to close: %v", err)
		}
	}
}

func (rc *rawClient) connect(name string) {
	rc.t.Helper()
	rc.send(`CONNECT {"verbose":false,"pedantic":false,"name":"` + name +
		`","lang":"raw","version":"0.1","protocol":1,"echo":true,"headers":true,"no_responders":true}` + "\r\nPING\r\n")
	rc.until("PONG")
}

// waitEvent waits for an event that keep accepts.
func waitEvent(t *testing.T, log *history.Log, what string, keep func(history.Event) bool) history.Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if h := log.Events().Filter(keep); len(h) > 0 {
			return h[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v; history:\n%s", what, wait, log.Events())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func kindConn(kind, conn string) func(history.Event) bool {
	return func(e history.Event) bool { return e.Kind == kind && e.Conn == conn }
}

func TestHandshakeAndClientClose(t *testing.T) {
	s, log := start(t, Options{})
	if got, want := s.URL(), "nats://"+s.Addr(); got != want {
		t.Fatalf("URL %q, want %q", got, want)
	}
	rc := dialRaw(t, s.Addr())
	if rc.serverID() != s.ServerID() {
		t.Fatalf("INFO server_id %q, ServerID %q", rc.serverID(), s.ServerID())
	}
	acc := waitEvent(t, log, "accept", kindConn(history.KindAccept, "n1#1"))
	if acc.Server != "n1" || acc.Source != history.SrcServer || acc.Attr("client_id") != rc.clientID() {
		t.Fatalf("accept %v", acc)
	}
	rc.connect("c1")
	hs := waitEvent(t, log, "handshake", kindConn(history.KindHandshake, "n1#1"))
	if !hs.OK || hs.Session != rc.session() || hs.Attr("name") != "c1" {
		t.Fatalf("handshake %v, want ok session=%s name=c1", hs, rc.session())
	}
	nc := waitEvent(t, log, "nats.connect", kindConn(KindConnect, "n1#1"))
	for k, v := range map[string]string{"name": "c1", "lang": "raw", "version": "0.1", "protocol": "1",
		"echo": "true", "headers": "true", "no_responders": "true", "verbose": "false", "pedantic": "false"} {
		if nc.Attr(k) != v {
			t.Errorf("nats.connect %s=%q, want %q", k, nc.Attr(k), v)
		}
	}
	_ = rc.c.Close()
	cl := waitEvent(t, log, "conn.close", kindConn(history.KindConnClose, "n1#1"))
	if cl.Reason != "eof" || cl.Session != rc.session() || cl.Attr("native") != "Client Closed" {
		t.Fatalf("conn.close %v, want eof with the session", cl)
	}
	if n := len(log.Events().Kind(history.KindAccept)); n != 1 {
		t.Fatalf("%d accepts, want 1", n)
	}
}

func TestPublishReachesSubscriber(t *testing.T) {
	s, log := start(t, Options{})
	sub := dialRaw(t, s.Addr())
	sub.connect("sub")
	sub.send("SUB orders 7\r\nPING\r\n")
	sub.until("PONG") // the subscription is in place
	for i, want := range []int64{1, 2} {
		payload := fmt.Sprintf(`{"n":%d}`, i+1)
		if seq := s.Publish("orders", []byte(payload)); seq != want {
			t.Fatalf("publish %d: seq %d, want %d", i, seq, want)
		}
		if l := sub.until("MSG "); l != fmt.Sprintf("MSG orders 7 %d", len(payload)) {
			t.Fatalf("got %q", l)
		}
		if l, err := sub.line(); err != nil || l != payload {
			t.Fatalf("payload %q (%v), want %q", l, err, payload)
		}
	}
	if seq := s.Publish("other", []byte("1")); seq != 1 {
		t.Fatalf("seq per subject: got %d, want 1", seq)
	}
	pubs := log.Events().Kind(history.KindPublish)
	if len(pubs) != 3 || pubs[0].Topic != "orders" || pubs[0].Seq != 1 || pubs[1].Seq != 2 ||
		pubs[2].Topic != "other" || pubs[2].Seq != 1 || pubs[0].Server != "n1" {
		t.Fatalf("publish events:\n%s", pubs)
	}
	// Only the subscriber is in the evidence, not the publisher.
	for _, kind := range []string{history.KindAccept, history.KindHandshake, KindConnect} {
		if h := log.Events().Kind(kind); len(h) != 1 || h[0].Conn != "n1#1" {
			t.Fatalf("%s events:\n%s", kind, h)
		}
	}
	if s.Publish("bad subject", nil) != 0 {
		t.Fatal("a subject with a space was published")
	}
}

// startAgain starts a second n1 on addr, recording into log, as the
// topology's restart does after a Close; closed with the test.
func startAgain(t *testing.T, addr string, log *history.Log) *Server {
	t.Helper()
	s, err := Start("n1", log, Options{Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		noPublisher(t, log)
	})
	if s.Addr() != addr {
		t.Fatalf("started on %s, want %s", s.Addr(), addr)
	}
	return s
}

// handshakeOf is the handshake of the client that connected as name.
func handshakeOf(name string) func(history.Event) bool {
	return func(e history.Event) bool { return e.Kind == history.KindHandshake && e.Attr("name") == name }
}

// Close then Start on the same address (the topology's kill and restart):
// Close ends every client connection (killed) and records no process
// event; dials are refused until the new start, which has a server_id of
// its own, connection ids from n1#1 (the topology renumbers them across
// starts) and publish sequences from 1.
func TestCloseThenStartAgain(t *testing.T) {
	s, log := start(t, Options{})
	addr, id1 := s.Addr(), s.ServerID()
	rc := dialRaw(t, addr)
	rc.connect("c1")
	if s.Publish("x", []byte("1")) != 1 { // the publisher is connected too
		t.Fatal("publish")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cl := waitEvent(t, log, "conn.close", kindConn(history.KindConnClose, "n1#1"))
	if cl.Reason != "killed" || cl.Session != rc.session() {
		t.Fatalf("conn.close %v, want killed", cl)
	}
	rc.closedByServer()
	if c, err := net.DialTimeout("tcp", addr, wait); err == nil {
		_ = c.Close()
		t.Fatal("dial to a closed server succeeded")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial error %v, want connection refused", err)
	}
	if s.Publish("x", []byte("2")) != 0 {
		t.Fatal("published on a closed server")
	}
	if s.ServerID() != "" {
		t.Fatal("a closed server has a server_id")
	}
	if h := log.Events().Kind(history.KindConnClose); len(h) != 1 {
		t.Fatalf("conn.close events (the publisher's must not be there):\n%s", h)
	}
	if h := log.Events().Filter(func(e history.Event) bool {
		return e.Kind == history.KindKill || e.Kind == history.KindRestart
	}); len(h) != 0 {
		t.Fatalf("Close recorded process events:\n%s", h)
	}

	s2 := startAgain(t, addr, log)
	rc2 := dialRaw(t, addr)
	if rc2.serverID() == id1 || rc2.serverID() != s2.ServerID() {
		t.Fatalf("INFO server_id %q (the first server_id %q, now %q)", rc2.serverID(), id1, s2.ServerID())
	}
	rc2.connect("c2")
	hs := waitEvent(t, log, "handshake", handshakeOf("c2"))
	if hs.Session != rc2.session() || hs.Conn != "n1#1" {
		t.Fatalf("handshake after the new start %v, want n1#1 session %s", hs, rc2.session())
	}
	if s2.Publish("x", []byte("1")) != 1 { // sequences are the server's
		t.Fatal("publish after the new start")
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, log, "conn.close killed", func(e history.Event) bool {
		return e.Kind == history.KindConnClose && e.Session == rc2.session() && e.Reason == "killed"
	})
}

func TestLameDuck(t *testing.T) {
	s, log := start(t, Options{LameDuckDuration: time.Second, LameDuckGrace: 200 * time.Millisecond})
	rc := dialRaw(t, s.Addr())
	rc.connect("c1")
	if s.Publish("x", []byte("1")) != 1 {
		t.Fatal("publish")
	}
	s.LameDuck()
	ld := waitEvent(t, log, "nats.lame_duck", func(e history.Event) bool { return e.Kind == KindLameDuck })
	if ld.Attr("grace_ms") != "200" || ld.Server != "n1" {
		t.Fatalf("nats.lame_duck %v", ld)
	}
	for { // nats-server >= 2.12 also sends an INFO right after the first PONG
		info := rc.until("INFO ")
		var m map[string]any
		if err := json.Unmarshal([]byte(strings.TrimPrefix(info, "INFO ")), &m); err != nil {
			t.Fatalf("INFO %s: %v", info, err)
		}
		if m["ldm"] == true {
			break
		}
	}
	if c, err := net.DialTimeout("tcp", s.Addr(), wait); err == nil {
		_ = c.Close()
		t.Fatal("a lame duck accepted a connection")
	}
	rc.closedByServer()
	cl := waitEvent(t, log, "conn.close", kindConn(history.KindConnClose, "n1#1"))
	if cl.Reason != "lame_duck" || cl.Session != rc.session() {
		t.Fatalf("conn.close %v, want lame_duck", cl)
	}
	// The lame duck ended in a shutdown; Close and a new Start on the same
	// address (the topology's restart) bring the server back.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	startAgain(t, s.Addr(), log)
	rc2 := dialRaw(t, s.Addr())
	rc2.connect("c2")
	waitEvent(t, log, "handshake", handshakeOf("c2"))
}

func TestStale(t *testing.T) {
	s, log := start(t, Options{PingInterval: 100 * time.Millisecond, MaxPingsOut: 2})
	rc := dialRaw(t, s.Addr())
	rc.connect("c1")
	// Read nothing, answer nothing: the server's pings go unanswered.
	cl := waitEvent(t, log, "conn.close", kindConn(history.KindConnClose, "n1#1"))
	if cl.Reason != "stale" {
		t.Fatalf("conn.close %v, want stale", cl)
	}
	// The publisher answers the server's pings: it is not stale.
	if s.Publish("x", []byte("1")) != 1 {
		t.Fatal("publish")
	}
	time.Sleep(500 * time.Millisecond)
	if s.Publish("x", []byte("2")) != 2 {
		t.Fatal("publish")
	}
	if h := log.Events().Kind(history.KindError); len(h) != 0 {
		t.Fatalf("errors:\n%s", h)
	}
}

func TestCloseConnections(t *testing.T) {
	s, log := start(t, Options{})
	a, b := dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
	a.connect("a")
	b.connect("b")
	if s.Publish("x", []byte("1")) != 1 {
		t.Fatal("publish")
	}
	s.CloseConnections()
	for _, id := range []string{"n1#1", "n1#2"} {
		cl := waitEvent(t, log, "conn.close "+id, kindConn(history.KindConnClose, id))
		if cl.Reason != "server_close" {
			t.Fatalf("conn.close %v, want server_close", cl)
		}
	}
	// The server still accepts, and the publisher was left alone.
	c := dialRaw(t, s.Addr())
	c.connect("c")
	waitEvent(t, log, "handshake", kindConn(history.KindHandshake, "n1#3"))
	if s.Publish("x", []byte("2")) != 2 {
		t.Fatal("publish after close connections")
	}
	if n := len(log.Events().Kind(history.KindConnClose)); n != 2 {
		t.Fatalf("%d conn.close events, want 2", n)
	}
}

func TestFixedListenAndOptions(t *testing.T) {
	if _, err := Start("bad", history.Nop{}, Options{LameDuckDuration: time.Second, LameDuckGrace: time.Second}); err == nil {
		t.Fatal("grace >= duration accepted")
	}
	s, _ := start(t, Options{})
	// The same port again, while it is taken: a clear error, no exit.
	if _, err := Start("dup", history.Nop{}, Options{Listen: s.Addr()}); err == nil {
		t.Fatal("a second server on a taken port started")
	}
}

func TestCloseReason(t *testing.T) {
	for _, c := range []struct {
		native   string
		lameDuck bool
		want     string
	}{
		{"Client Closed", false, "eof"},
		{"Read Error", false, "eof"},
		{"Stale Connection", false, "stale"},
		{"Server Shutdown", false, "killed"},
		{"Server Shutdown", true, "lame_duck"},
		{"Kicked", false, "server_close"},
		{"Authentication Timeout", false, "error:Authentication Timeout"},
		{"Write Error", false, "error:Write Error"},
	} {
		if got := CloseReason(c.native, c.lameDuck); got != c.want {
			t.Errorf("CloseReason(%q, %v) = %q, want %q", c.native, c.lameDuck, got, c.want)
		}
	}
}

func TestParseClientLine(t *testing.T) {
	for _, c := range []struct {
		msg     string
		addr    string
		cid     uint64
		created bool
		reason  string
		ok      bool
	}{
		{"127.0.0.1:45848 - cid:5 - Client connection created", "127.0.0.1:45848", 5, true, "", true},
		{`127.0.0.1:45848 - cid:5 - "v0.1:raw:c" - Client connection closed: Client Closed`, "127.0.0.1:45848", 5, false, "Client Closed", true},
		{`[::1]:4 - cid:12 - "v1:go:a - Client connection closed: x" - Client connection closed: Stale Connection`, "[::1]:4", 12, false, "Stale Connection", true},
		{"127.0.0.1:1 - cid:7 - Client connection closed: Server Shutdown", "127.0.0.1:1", 7, false, "Server Shutdown", true},
		{"SYSTEM - System connection closed: Client Closed", "", 0, false, "", false},
		{"127.0.0.1:1 - rid:7 - Route connection closed: x", "", 0, false, "", false},
	} {
		addr, cid, created, reason, ok := parseClientLine(c.msg)
		if addr != c.addr || cid != c.cid || created != c.created || reason != c.reason || ok != c.ok {
			t.Errorf("parseClientLine(%q) = %q %d %v %q %v", c.msg, addr, cid, created, reason, ok)
		}
	}
}
