package fake

import (
	"regexp"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// serverIDForm is the fake's server_id for a server named s1.
var serverIDForm = regexp.MustCompile(`^FAKE_S1_[A-Z2-7]{8}$`)

func TestHandshakeEvidence(t *testing.T) {
	s, log := start(t, Options{})
	c := dial(t, s)
	in := c.info
	if !serverIDForm.MatchString(in.ServerID) || in.ServerID != s.ServerID() || in.ServerName != "s1" || in.ClientID != 1 || in.MaxPayload != 1<<20 ||
		!in.Headers || in.Proto != 1 || in.Version != Version || in.Host != "127.0.0.1" || in.Port == 0 || in.ConnectURLs != nil {
		t.Fatalf("INFO %+v", in)
	}
	if s.URL() != "nats://"+s.Addr() || s.Name() != "s1" {
		t.Fatalf("URL %s name %s", s.URL(), s.Name())
	}
	c.handshake("c1")

	waitEvent(t, log, "accept", kind(history.KindAccept, "s1#1"))
	conn := waitEvent(t, log, "nats.connect", kind(KindConnect, "s1#1"))
	want := map[string]string{"name": "c1", "verbose": "false", "pedantic": "false", "echo": "true", "headers": "true",
		"lang": "raw", "version": "0", "protocol": "1", "no_responders": "false"}
	for k, v := range want {
		if conn.Attr(k) != v {
			t.Errorf("nats.connect %s = %q, want %q", k, conn.Attr(k), v)
		}
	}
	ping := waitEvent(t, log, "nats.ping", kind(KindPing, "s1#1"))
	if ping.Attr("answered") != "true" {
		t.Errorf("handshake PING: %v", ping)
	}
	hs := waitEvent(t, log, "handshake", kind(history.KindHandshake, "s1#1"))
	if !hs.OK || hs.Session != s.ServerID()+"/1" || hs.Attr("name") != "c1" {
		t.Fatalf("handshake %v", hs)
	}

	_ = c.nc.Close()
	cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1"))
	if cl.Reason != ReasonEOF || cl.Session != s.ServerID()+"/1" {
		t.Fatalf("conn.close %v", cl)
	}
	assertOrder(t, log, history.KindAccept, KindConnect, KindPing, history.KindHandshake, history.KindConnClose)
}

// A verbose client gets +OK for CONNECT (and every op after), before the
// PONG; client ids count up per connection.
func TestVerboseAndClientIDs(t *testing.T) {
	s, _ := start(t, Options{})
	c := dial(t, s)
	c.send(`CONNECT {"verbose":true,"protocol":1}` + "\r\nPING\r\nSUB a 1\r\n")
	c.expect("+OK")
	c.expect("PONG")
	c.expect("+OK")
	if c2 := dial(t, s); c2.info.ClientID != 2 {
		t.Fatalf("second client id %d", c2.info.ClientID)
	}
}

// A connection closed before CONNECT has no Session in its conn.close.
func TestCloseBeforeHandshake(t *testing.T) {
	s, log := start(t, Options{})
	c := dial(t, s)
	_ = c.nc.Close()
	cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1"))
	if cl.Reason != ReasonEOF || cl.Session != "" {
		t.Fatalf("conn.close %v", cl)
	}
}

// assertOrder checks that the first events of the kinds come in that order.
func assertOrder(t *testing.T, log *history.Log, kinds ...string) {
	t.Helper()
	h := log.Events()
	at := -1
	for _, k := range kinds {
		i := -1
		for j, e := range h {
			if e.Kind == k {
				i = j
				break
			}
		}
		if i <= at {
			t.Fatalf("%s out of order in\n%s", k, h)
		}
		at = i
	}
}
