package grpc

import (
	"reflect"
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/grpc/server"
)

type memRec struct{ evs []history.Event }

func (m *memRec) Record(e history.Event) { m.evs = append(m.evs, e) }

func kinds(evs []history.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func TestSessionsMapping(t *testing.T) {
	m := &memRec{}
	s := newSessions(m)
	ev := func(kind, conn, sess, reason string, attrs map[string]string) {
		s.Record(history.Event{Source: history.SrcServer, Kind: kind, Server: "s1", Conn: conn, Session: sess, Reason: reason, Attrs: attrs})
	}
	ev(history.KindAccept, "s1#1", "", "", nil)
	ev(history.KindHandshake, "s1#1", "", "", nil)
	ev(server.KindHello, "s1#1", "s1@X/c0#1", "", map[string]string{"client": "c0"})
	ev(server.KindHello, "s1#1", "s1@X/c0#1", "", map[string]string{"client": "c0", "again": "true"})
	ev(history.KindAccept, "s1#2", "", "", nil)
	ev(history.KindConnClose, "s1#2", "", "eof", nil) // no Hello: no session
	ev(history.KindConnClose, "s1#1", "s1@X/c0#1", "keepalive", nil)
	ev(history.KindConnClose, "s1#1", "s1@X/c0#1", "eof", nil) // a second close changes nothing
	want := []string{history.KindAccept, history.KindHandshake, server.KindHello, history.KindSessionCreate, server.KindHello,
		history.KindAccept, history.KindConnClose, history.KindConnClose, history.KindSessionDisconn, history.KindSessionExpire, history.KindConnClose}
	if got := kinds(m.evs); !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds\n got %v\nwant %v", got, want)
	}
	c, d, x := m.evs[3], m.evs[8], m.evs[9]
	if c.Session != "s1@X/c0#1" || c.Conn != "s1#1" || c.Attr("scope") != "connection" || c.Attr("retention_ms") != "0" || c.Attr("client") != "c0" || c.Source != history.SrcServer {
		t.Errorf("create %v", c)
	}
	if d.Session != "s1@X/c0#1" || d.Reason != history.DisconnIdle || d.Attr(history.AttrConnReason) != "keepalive" {
		t.Errorf("disconnect %v", d)
	}
	if x.Session != "s1@X/c0#1" || x.Server != "s1" {
		t.Errorf("expire %v", x)
	}
}

// Every conn.close reason maps onto its neutral session.disconnect reason.
func TestDisconnectReasons(t *testing.T) {
	for _, c := range []struct {
		reason string
		attrs  map[string]string
		want   string
	}{
		{"eof", nil, history.DisconnTransport},
		{"goaway", map[string]string{"by": "client"}, history.DisconnTransport},
		{"goaway", map[string]string{"by": "server"}, history.DisconnGoingAway},
		{"goaway", map[string]string{"grace": "expired"}, history.DisconnGoingAway},
		{"keepalive", map[string]string{"goaway": "too_many_pings"}, history.DisconnIdle},
		{"server_close", nil, history.DisconnServer},
		{"killed", nil, history.DisconnServer},
		{`error:bad HTTP/2 preface "x"`, nil, history.DisconnServer},
	} {
		m := &memRec{}
		s := newSessions(m)
		s.Record(history.Event{Kind: server.KindHello, Server: "s1", Conn: "s1#1", Session: "a"})
		s.Record(history.Event{Kind: history.KindConnClose, Server: "s1", Conn: "s1#1", Session: "a", Reason: c.reason, Attrs: c.attrs})
		d := m.evs[3]
		if d.Kind != history.KindSessionDisconn || d.Reason != c.want || d.Attr(history.AttrConnReason) != c.reason {
			t.Errorf("%s %v: %v, want %s", c.reason, c.attrs, d, c.want)
		}
	}
}

// The goaway action's notice (its first GOAWAY on a connection) is the
// neutral going_away of that connection; its final GOAWAY and a GOAWAY for
// another cause are not.
func TestGoingAway(t *testing.T) {
	m := &memRec{}
	s := newSessions(m)
	g := func(reason string, attrs map[string]string) {
		s.Record(history.Event{Source: history.SrcServer, Kind: server.KindGoAway, Server: "s1", Conn: "s1#1", Reason: reason, Attrs: attrs})
	}
	g(server.GoAwayAction, map[string]string{"notice": "true", "grace_ms": "1500", "code": "NO_ERROR"})
	g(server.GoAwayAction, map[string]string{"grace_ms": "1500", "code": "NO_ERROR"})
	g(server.GoAwayTooManyPings, map[string]string{"code": "ENHANCE_YOUR_CALM"})
	var notices []history.Event
	for _, e := range m.evs {
		if e.Kind == history.KindGoingAway {
			notices = append(notices, e)
		}
	}
	if len(notices) != 1 {
		t.Fatalf("going_away %v", notices)
	}
	if n := notices[0]; n.Conn != "s1#1" || n.Server != "s1" || n.Attr("grace_ms") != "1500" || n.Attr("notice") != "goaway" || n.Source != history.SrcServer {
		t.Fatalf("going_away %v", n)
	}
}

// The same connection id on two servers is two connections.
func TestSessionsKeyedByServer(t *testing.T) {
	m := &memRec{}
	s := newSessions(m)
	s.Record(history.Event{Kind: server.KindHello, Server: "s1", Conn: "c#1", Session: "a"})
	s.Record(history.Event{Kind: history.KindConnClose, Server: "s2", Conn: "c#1"})
	if n := len(m.evs); n != 3 { // hello, create, the other server's close
		t.Fatalf("%d events: %v", n, kinds(m.evs))
	}
}
