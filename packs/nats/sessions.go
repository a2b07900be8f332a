package nats

import (
	"sync"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/nats/fake"
)

// ownReasons are the NATS close reasons with a neutral meaning of their own.
var ownReasons = map[string]string{fake.ReasonStale: history.DisconnIdle, fake.ReasonLameDuck: history.DisconnGoingAway}

// The pack's own kinds the mapper reads (the fake and the real server
// record them under the same names).
const (
	kindLameDuck = fake.KindLameDuck
	kindInfo     = fake.KindInfo
)

// sessions maps a NATS server's connection evidence onto the neutral session
// vocabulary that the timing and order checkers read. Core NATS keeps nothing
// of a client past its connection: each admitted connection is a session the
// client can name (server_id/client_id, both in the server's INFO), created
// when the handshake is answered, gone when the connection ends (retention
// 0, no resume). A client that reconnects therefore lands on a new session,
// which is what core NATS promises.
type sessions struct {
	rec  history.Recorder
	mu   sync.Mutex
	open map[string]string // server|conn → session
}

func newSessions(rec history.Recorder) *sessions {
	return &sessions{rec: rec, open: map[string]string{}}
}

// Record passes e on and adds the session events it implies.
func (s *sessions) Record(e history.Event) {
	s.rec.Record(e)
	key := e.Server + "|" + e.Conn
	switch {
	case e.Kind == history.KindHandshake && e.OK && e.Session != "":
		s.mu.Lock()
		s.open[key] = e.Session
		s.mu.Unlock()
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindSessionCreate, Server: e.Server,
			Conn: e.Conn, Session: e.Session, Attrs: map[string]string{"retention_ms": "0", "scope": "connection"}})
	case e.Kind == history.KindConnClose:
		s.mu.Lock()
		sess, ok := s.open[key]
		delete(s.open, key)
		s.mu.Unlock()
		if !ok {
			return
		}
		why := history.DisconnOf(e.Reason, ownReasons)
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindSessionDisconn, Server: e.Server,
			Conn: e.Conn, Session: sess, Reason: why, Attrs: map[string]string{history.AttrConnReason: e.Reason}})
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindSessionExpire, Server: e.Server, Session: sess})
	case e.Kind == kindLameDuck:
		// The neutral notice: every connection is told (INFO ldm), then
		// closed after the grace.
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindGoingAway, Server: e.Server,
			Attrs: map[string]string{"grace_ms": e.Attr("grace_ms"), "notice": "lame_duck"}})
	case e.Kind == kindInfo && e.Attr("connect_urls") != "":
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindAdvertise, Server: e.Server, Conn: e.Conn,
			Attrs: map[string]string{"servers": e.Attr("announced"), "addrs": e.Attr("connect_urls")}})
	}
}
