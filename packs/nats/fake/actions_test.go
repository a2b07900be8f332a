package fake

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func TestRefuse(t *testing.T) {
	s, log := start(t, Options{})
	s.Refuse("Authorization Violation")
	c := dial(t, s)
	c.send(`CONNECT {"verbose":false,"name":"c","protocol":1}` + "\r\nPING\r\n")
	if lines := c.closed(); len(lines) != 1 || lines[0] != "-ERR 'Authorization Violation'" {
		t.Fatalf("got %q", lines)
	}
	hs := waitEvent(t, log, "handshake", kind(history.KindHandshake, "s1#1"))
	if hs.OK || hs.Reason != "Authorization Violation" || hs.Attr("name") != "c" {
		t.Fatalf("handshake %v", hs)
	}
	if e := waitEvent(t, log, "nats.err", kind(KindErr, "s1#1")); e.Reason != "Authorization Violation" {
		t.Fatalf("nats.err %v", e)
	}
	if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1")); cl.Reason != ReasonRefused || cl.Session != "" {
		t.Fatalf("conn.close %v", cl)
	}
	assertOrder(t, log, KindConnect, history.KindHandshake, KindErr, history.KindConnClose)

	s.Refuse("")
	dial(t, s).handshake("again")
	waitEvent(t, log, "handshake OK", func(e history.Event) bool { return e.Kind == history.KindHandshake && e.OK && e.Conn == "s1#2" })
}

func TestLameDuck(t *testing.T) {
	s, log := start(t, Options{})
	s.SetPeers([]string{"nats://127.0.0.1:1", "nats://127.0.0.1:2"})
	a, b := dial(t, s), dial(t, s)
	a.handshake("a")
	b.handshake("b")
	const grace = 200 * time.Millisecond
	begin := time.Now()
	s.LameDuck(grace)
	for _, c := range []*client{a, b} {
		in := c.readInfo()
		if !in.LameDuck || strings.Join(in.ConnectURLs, ",") != "nats://127.0.0.1:1,nats://127.0.0.1:2" || in.ClientID != c.info.ClientID {
			t.Fatalf("ldm INFO %+v", in)
		}
	}
	if nc, err := net.DialTimeout("tcp", s.Addr(), wait); err == nil {
		_ = nc.Close()
		t.Fatal("a lame duck accepted a connection")
	}
	for _, c := range []*client{a, b} {
		if lines := c.closed(); len(lines) != 0 {
			t.Fatalf("before close: %q", lines)
		}
	}
	if d := time.Since(begin); d < grace {
		t.Fatalf("closed after %v, grace %v", d, grace)
	}
	ld := waitEvent(t, log, "nats.lame_duck", kind(KindLameDuck, ""))
	if ld.Attr("grace_ms") != "200" {
		t.Fatalf("nats.lame_duck %v", ld)
	}
	for _, id := range []string{"s1#1", "s1#2"} {
		in := waitEvent(t, log, "nats.info", kind(KindInfo, id))
		if in.Attr("ldm") != "true" || in.Attr("connect_urls") != "nats://127.0.0.1:1,nats://127.0.0.1:2" {
			t.Fatalf("nats.info %v", in)
		}
		if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, id)); cl.Reason != ReasonLameDuck {
			t.Fatalf("conn.close %v", cl)
		}
	}
	assertOrder(t, log, KindLameDuck, KindInfo, history.KindConnClose)

	// Down until closed; the topology's restart is a fresh Start on the same
	// address, with a server_id of its own.
	id := s.ServerID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := startAgain(t, s.Addr(), log)
	if c := dial(t, s2); c.info.ServerID == id || !serverIDForm.MatchString(c.info.ServerID) {
		t.Fatalf("after a new start: %+v (the lame duck was %s)", c.info, id)
	}
}

func TestAnnounce(t *testing.T) {
	s, log := start(t, Options{Peers: func() []string { return []string{"nats://peer:4222"} }})
	c := dial(t, s)
	pre := dial(t, s) // connected, not yet handshaken: no async INFO until its PONG
	c.handshake("c")
	s.Announce([]string{"nats://127.0.0.1:9"})
	in := c.readInfo()
	if in.LameDuck || len(in.ConnectURLs) != 1 || in.ConnectURLs[0] != "nats://127.0.0.1:9" || in.ClientID != c.info.ClientID {
		t.Fatalf("INFO %+v", in)
	}
	e := waitEvent(t, log, "nats.info", kind(KindInfo, "s1#1"))
	if e.Attr("connect_urls") != "nats://127.0.0.1:9" || e.Attr("ldm") != "" {
		t.Fatalf("nats.info %v", e)
	}
	pre.handshake("pre") // the PONG first, then the INFO it missed
	if in := pre.readInfo(); len(in.ConnectURLs) != 1 {
		t.Fatalf("late INFO %+v", in)
	}
	if later := dial(t, s); len(later.info.ConnectURLs) != 1 || later.info.ConnectURLs[0] != "nats://127.0.0.1:9" {
		t.Fatalf("later INFO %+v", later.info)
	}
	s.Announce(nil) // the peers
	if in := c.readInfo(); len(in.ConnectURLs) != 1 || in.ConnectURLs[0] != "nats://peer:4222" {
		t.Fatalf("INFO %+v", in)
	}
}

// AnnounceNamed records the scenario names of the URLs it announces on
// every nats.info that carries them (the history has no URL to map back).
func TestAnnounceNamed(t *testing.T) {
	s, log := start(t, Options{})
	c := dial(t, s)
	c.handshake("c")
	s.AnnounceNamed([]string{"nats://127.0.0.1:9", "nats://127.0.0.1:10"}, []string{"s2"})
	if in := c.readInfo(); len(in.ConnectURLs) != 2 {
		t.Fatalf("INFO %+v", in)
	}
	e := waitEvent(t, log, "nats.info", kind(KindInfo, "s1#1"))
	if e.Attr("connect_urls") != "nats://127.0.0.1:9,nats://127.0.0.1:10" || e.Attr("announced") != "s2" {
		t.Fatalf("nats.info %v", e)
	}
	s.Announce([]string{"nats://127.0.0.1:11"}) // unnamed: no announced attribute
	c.readInfo()
	var last history.Event
	for _, e := range log.Events() {
		if e.Kind == KindInfo {
			last = e
		}
	}
	if last.Attr("connect_urls") != "nats://127.0.0.1:11" || last.Attr("announced") != "" {
		t.Fatalf("nats.info %v", last)
	}
}

func TestCloseConnections(t *testing.T) {
	s, log := start(t, Options{})
	c := dial(t, s)
	c.handshake("c")
	s.CloseConnections()
	c.closed()
	if cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1")); cl.Reason != ReasonServerClose || cl.Session != s.ServerID()+"/1" {
		t.Fatalf("conn.close %v", cl)
	}
	dial(t, s).handshake("again") // still accepting
}

// startAgain starts a second s1 on addr, recording into log, as the
// topology's restart does after a Close; closed with the test.
func startAgain(t *testing.T, addr string, log *history.Log) *Server {
	t.Helper()
	s, err := Start("s1", log, Options{Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if s.Addr() != addr {
		t.Fatalf("started on %s, not %s", s.Addr(), addr)
	}
	return s
}

// Close then Start on the same address (the topology's kill and restart):
// dials are refused in between; the new server has a server_id of its
// own, client ids and connection numbers from 1 (the topology renumbers
// Conn across starts), and no subscriptions or publish sequences of the
// old one. Close records nothing: the topology records the kill.
func TestCloseThenStartAgain(t *testing.T) {
	s, log := start(t, Options{})
	addr, id := s.Addr(), s.ServerID()
	c := dial(t, s)
	c.handshake("c")
	c.send("SUB a 1\r\nPING\r\n")
	c.expect("PONG")
	if seq := s.Publish("a", nil); seq != 1 {
		t.Fatalf("seq %d", seq)
	}
	c.expect("MSG a 1 0")
	c.expect("")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c.closed()
	for _, e := range log.Events() {
		if e.Kind == history.KindConnClose || e.Kind == history.KindKill {
			t.Fatalf("Close recorded %v", e)
		}
	}
	if nc, err := net.DialTimeout("tcp", addr, wait); err == nil {
		_ = nc.Close()
		t.Fatal("a closed server accepted a connection")
	}
	if seq := s.Publish("a", nil); seq != 0 || s.ServerID() != "" {
		t.Fatalf("closed server published seq %d (server_id %q)", seq, s.ServerID())
	}

	s2 := startAgain(t, addr, log)
	c2 := dial(t, s2)
	if c2.info.ServerID == id || !serverIDForm.MatchString(c2.info.ServerID) || c2.info.ServerID != s2.ServerID() || c2.info.ClientID != 1 {
		t.Fatalf("INFO %+v (the first server_id was %s)", c2.info, id)
	}
	c2.handshake("c2")
	var hs history.Event
	for _, e := range log.Events() {
		if e.Kind == history.KindHandshake && e.Attr("name") == "c2" {
			hs = e
		}
	}
	if hs.Conn != "s1#1" || hs.Session != s2.ServerID()+"/1" {
		t.Fatalf("handshake %v", hs)
	}
	if seq := s2.Publish("a", nil); seq != 1 { // nothing of the first server: seqs and subscriptions gone
		t.Fatalf("seq %d", seq)
	}
	c2.send("PING\r\n")
	c2.expect("PONG")

	// Every start its own server_id.
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	c2.closed()
	s3 := startAgain(t, addr, log)
	if c3 := dial(t, s3); c3.info.ServerID == id || c3.info.ServerID == c2.info.ServerID || !serverIDForm.MatchString(c3.info.ServerID) {
		t.Fatalf("INFO %+v, earlier %s and %s", c3.info, id, c2.info.ServerID)
	}
}

// Close returns promptly with clients connected, stalled or not, and is
// idempotent; actions after it do nothing.
func TestCloseWithClients(t *testing.T) {
	log := history.NewLog(history.NewClock())
	s, err := Start("s1", log, Options{PingInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a, b := dial(t, s), dial(t, s)
	a.handshake("a")
	b.handshake("b")
	b.send("SUB x 1\r\nPING\r\n")
	s.LameDuck(time.Hour)
	begin := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Publish("x", nil) != 0 {
		t.Fatal("a closed server published")
	}
	s.Announce(nil)
	s.CloseConnections()
}
