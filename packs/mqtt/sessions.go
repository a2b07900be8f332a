package mqtt

import (
	"sync"

	"github.com/faultline/faultline/harness/history"
)

// ownReasons are the MQTT close reasons with a neutral meaning of their own.
var ownReasons = map[string]string{"keepalive": history.DisconnIdle, "takeover": history.DisconnSuperseded}

// sessions maps an MQTT broker's evidence onto the neutral session
// vocabulary that the timing and order checkers read. MQTT keeps a session
// per client id (§3.1.2.4), named "<server name>/<client id>":
//   - a clean session (clean session 1) is its connection: session.create
//     scope "connection" (retention_ms 0) at the handshake, and
//     session.disconnect + session.expire when the connection ends;
//   - a persistent one (clean session 0) outlives it: session.create (no
//     scope) when the broker had none, session.resume when it had one
//     (CONNACK session present), session.disconnect only when the
//     connection ends;
//   - a persistent session ends with session.expire: recorded by the broker
//     (its expire action, its death), or here when a handshake shows the
//     broker no longer has it (a clean CONNECT replacing it, or one that
//     found no session to resume).
//
// It reads what every MQTT kind records: handshake (OK, Session,
// Attrs{clean, session_present, replay}), conn.close, session.expire.
type sessions struct {
	rec  history.Recorder
	mu   sync.Mutex
	open map[string]openSession // server|conn → the session on it
	kept map[string]bool        // server|session → a persistent session the broker holds
}

type openSession struct {
	id    string
	clean bool
}

func newSessions(rec history.Recorder) *sessions {
	return &sessions{rec: rec, open: map[string]openSession{}, kept: map[string]bool{}}
}

// Record passes e on and adds the session events it implies.
func (s *sessions) Record(e history.Event) {
	s.rec.Record(e)
	conn := e.Server + "|" + e.Conn
	switch {
	case e.Kind == history.KindHandshake && e.OK && e.Session != "":
		s.handshake(e, conn)
	case e.Kind == history.KindConnClose:
		s.mu.Lock()
		o, ok := s.open[conn]
		delete(s.open, conn)
		s.mu.Unlock()
		if !ok {
			return
		}
		why := history.DisconnOf(e.Reason, ownReasons)
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindSessionDisconn, Server: e.Server,
			Conn: e.Conn, Session: o.id, Reason: why, Attrs: map[string]string{history.AttrConnReason: e.Reason}})
		if o.clean {
			s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindSessionExpire, Server: e.Server, Session: o.id,
				Attrs: map[string]string{"why": "clean_session"}})
		}
	case e.Kind == history.KindSessionExpire:
		s.mu.Lock()
		delete(s.kept, e.Server+"|"+e.Session)
		s.mu.Unlock()
	}
}

func (s *sessions) handshake(e history.Event, conn string) {
	clean := e.Attr("clean") == "true"
	present := e.Attr("session_present") == "true"
	key := e.Server + "|" + e.Session
	s.mu.Lock()
	s.open[conn] = openSession{id: e.Session, clean: clean}
	stale := s.kept[key] && !present
	if clean {
		delete(s.kept, key)
	} else {
		s.kept[key] = true
	}
	s.mu.Unlock()
	if stale {
		why := "clean_connect"
		if !clean {
			why = "not_found" // the broker no longer had it (it lost it without saying)
		}
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindSessionExpire, Server: e.Server, Session: e.Session,
			Attrs: map[string]string{"why": why}})
	}
	ev := history.Event{Source: history.SrcServer, Server: e.Server, Conn: e.Conn, Session: e.Session}
	switch {
	case clean:
		ev.Kind, ev.Attrs = history.KindSessionCreate, map[string]string{"retention_ms": "0", "scope": "connection"}
	case present:
		ev.Kind, ev.Attrs = history.KindSessionResume, map[string]string{"replay": e.Attr("replay")}
	default:
		ev.Kind, ev.Attrs = history.KindSessionCreate, map[string]string{"persistent": "true"}
	}
	s.rec.Record(ev)
}
