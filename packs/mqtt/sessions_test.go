package mqtt

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// The mapping, event by event, over a persistent session's life and a
// clean one's.
func TestSessionsMapping(t *testing.T) {
	log := history.NewLog(history.NewClock())
	s := newSessions(log)
	hs := func(conn, sess string, clean, present bool) {
		s.Record(history.Event{Source: history.SrcServer, Kind: history.KindHandshake, Server: "s1", Conn: conn, OK: true, Session: sess,
			Attrs: map[string]string{"clean": b(clean), "session_present": b(present), "replay": "2"}})
	}
	closed := func(conn, reason string) {
		s.Record(history.Event{Source: history.SrcServer, Kind: history.KindConnClose, Server: "s1", Conn: conn, Reason: reason})
	}
	// refused: nothing
	s.Record(history.Event{Source: history.SrcServer, Kind: history.KindHandshake, Server: "s1", Conn: "s1#1", Reason: "not_authorized"})
	closed("s1#1", "refused")
	// persistent: create, disconnect (idle), resume, disconnect (superseded)
	hs("s1#2", "s1/a", false, false)
	closed("s1#2", "keepalive")
	hs("s1#3", "s1/a", false, true)
	closed("s1#3", "takeover")
	// the broker no longer has it: its expiry, then a new one
	hs("s1#4", "s1/a", false, false)
	closed("s1#4", "eof")
	// a clean CONNECT replaces it: expiry, then a connection-scoped session
	hs("s1#5", "s1/a", true, false)
	closed("s1#5", "disconnect")
	// the broker's own expiry (expire action) is passed on and forgotten
	hs("s1#6", "s1/b", false, false)
	closed("s1#6", "eof")
	s.Record(history.Event{Source: history.SrcServer, Kind: history.KindSessionExpire, Server: "s1", Session: "s1/b"})
	hs("s1#7", "s1/b", false, false)

	var got []string
	for _, e := range log.Events() {
		if strings.HasPrefix(e.Kind, "session.") {
			g := e.Kind + " " + e.Session + " " + e.Conn + " " + e.Reason
			for _, k := range []string{"scope", "retention_ms", "replay", "why", "conn_reason", "persistent"} {
				if v := e.Attr(k); v != "" {
					g += " " + k + "=" + v
				}
			}
			got = append(got, strings.Join(strings.Fields(g), " "))
		}
	}
	want := []string{
		"session.create s1/a s1#2 persistent=true",
		"session.disconnect s1/a s1#2 idle conn_reason=keepalive",
		"session.resume s1/a s1#3 replay=2",
		"session.disconnect s1/a s1#3 superseded conn_reason=takeover",
		"session.expire s1/a why=not_found",
		"session.create s1/a s1#4 persistent=true",
		"session.disconnect s1/a s1#4 transport conn_reason=eof",
		"session.expire s1/a why=clean_connect",
		"session.create s1/a s1#5 scope=connection retention_ms=0",
		"session.disconnect s1/a s1#5 transport conn_reason=disconnect",
		"session.expire s1/a why=clean_session",
		"session.create s1/b s1#6 persistent=true",
		"session.disconnect s1/b s1#6 transport conn_reason=eof",
		"session.expire s1/b",
		"session.create s1/b s1#7 persistent=true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func b(v bool) string {
	if v {
		return "true"
	}
	return "false"
}
