package nats

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/nats/fake"
)

// The mapping onto the neutral vocabulary, event by event: a session per
// admitted connection, its end with the neutral reason for each NATS
// reason, lame duck mode as going_away, connect_urls as advertise.
func TestSessionsMapping(t *testing.T) {
	log := history.NewLog(history.NewClock())
	s := newSessions(log)
	rec := func(e history.Event) {
		e.Source, e.Server = history.SrcServer, "s1"
		s.Record(e)
	}
	conn := func(c, sess, reason string) {
		rec(history.Event{Kind: history.KindHandshake, Conn: c, OK: true, Session: sess})
		rec(history.Event{Kind: history.KindConnClose, Conn: c, Session: sess, Reason: reason})
	}
	// refused: no session
	rec(history.Event{Kind: history.KindHandshake, Conn: "s1#1", Reason: "Authorization Violation"})
	rec(history.Event{Kind: history.KindConnClose, Conn: "s1#1", Reason: fake.ReasonRefused})
	conn("s1#2", "S/2", fake.ReasonEOF)
	conn("s1#3", "S/3", fake.ReasonStale)
	conn("s1#4", "S/4", fake.ReasonServerClose)
	conn("s1#5", "S/5", "killed")
	conn("s1#6", "S/6", fake.ReasonErrorPrefix+"PUB at byte 8: maximum payload violation")
	rec(history.Event{Kind: fake.KindInfo, Conn: "s1#7", Attrs: map[string]string{"connect_urls": "127.0.0.1:4001", "announced": "s2"}})
	rec(history.Event{Kind: fake.KindInfo, Conn: "s1#7", Attrs: map[string]string{"ldm": "true"}}) // no urls: no advertisement
	rec(history.Event{Kind: fake.KindLameDuck, Attrs: map[string]string{"grace_ms": "500"}})
	conn("s1#7", "S/7", fake.ReasonLameDuck)

	var got []string
	for _, e := range log.Events() {
		switch e.Kind {
		case history.KindSessionCreate, history.KindSessionDisconn, history.KindSessionExpire, history.KindGoingAway, history.KindAdvertise:
		default:
			continue
		}
		g := e.Kind + " " + e.Session + " " + e.Conn + " " + e.Reason
		for _, k := range []string{"scope", history.AttrConnReason, "grace_ms", "notice", "servers", "addrs"} {
			if v := e.Attr(k); v != "" {
				g += " " + k + "=" + v
			}
		}
		got = append(got, strings.Join(strings.Fields(g), " "))
	}
	want := []string{
		"session.create S/2 s1#2 scope=connection",
		"session.disconnect S/2 s1#2 transport conn_reason=eof",
		"session.expire S/2",
		"session.create S/3 s1#3 scope=connection",
		"session.disconnect S/3 s1#3 idle conn_reason=stale",
		"session.expire S/3",
		"session.create S/4 s1#4 scope=connection",
		"session.disconnect S/4 s1#4 server conn_reason=server_close",
		"session.expire S/4",
		"session.create S/5 s1#5 scope=connection",
		"session.disconnect S/5 s1#5 server conn_reason=killed",
		"session.expire S/5",
		"session.create S/6 s1#6 scope=connection",
		"session.disconnect S/6 s1#6 server conn_reason=error:PUB at byte 8: maximum payload violation",
		"session.expire S/6",
		"advertise s1#7 servers=s2 addrs=127.0.0.1:4001",
		"going_away grace_ms=500 notice=lame_duck",
		"session.create S/7 s1#7 scope=connection",
		"session.disconnect S/7 s1#7 going_away conn_reason=lame_duck",
		"session.expire S/7",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
