package grpc

import (
	"sync"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/grpc/server"
)

// sessions maps the gRPC server's connection evidence onto the neutral
// session vocabulary that the timing and order checkers read. gRPC has no
// session and no client identity on a connection: the Feed service's Hello
// is how a driver tells the server which client a connection is, and the
// session is that connection, named by the server and handed back in
// Hello's answer, which the driver reports as its session:
//
//	"<server>@<start id>/<client>#<n>"
//
// <server> the server's scenario name, <start id> 8 random characters of
// the base32 alphabet drawn at each start of the server (so a restarted
// server never names a session twice), <client> the name Hello gave, <n>
// the connection's number in this start (its Conn is "<server>#<n>" until
// the topology renumbers connections after a restart).
//
// It is created when Hello is first answered on a connection
// (session.create, scope "connection", retention 0: gRPC keeps nothing of a
// client past its connection) and gone when that connection ends
// (session.disconnect, then session.expire at once). A connection on which
// Hello was never called has no session.
//
// session.disconnect's neutral reason (harness/history/going_away.go), with
// the conn.close reason in Attrs[conn_reason]:
//
//	conn.close reason                          session.disconnect reason
//	goaway, closed by the server (drained,     going_away: the server closed it in its
//	  or its grace expired)                      going-away procedure
//	goaway, closed by the client after the     transport: the client left
//	  GOAWAY (by: client)
//	keepalive                                  idle
//	server_close, killed, error:<text>         server
//	eof                                        transport
//
// The goaway action's notice is the neutral going_away too: recorded for
// each connection when its first GOAWAY (the notice) is written, with
// Attrs{grace_ms, notice: "goaway"}.
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
	case e.Kind == server.KindHello && e.Session != "" && e.Attr("again") == "":
		s.mu.Lock()
		_, dup := s.open[key]
		s.open[key] = e.Session
		s.mu.Unlock()
		if dup {
			return
		}
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindSessionCreate, Server: e.Server, Conn: e.Conn,
			Session: e.Session, Attrs: map[string]string{"retention_ms": "0", "scope": "connection", "client": e.Attr("client")}})
	case e.Kind == history.KindConnClose:
		s.mu.Lock()
		sess, ok := s.open[key]
		delete(s.open, key)
		s.mu.Unlock()
		if !ok {
			return
		}
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindSessionDisconn, Server: e.Server,
			Conn: e.Conn, Session: sess, Reason: disconnReason(e), Attrs: map[string]string{history.AttrConnReason: e.Reason}})
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindSessionExpire, Server: e.Server, Session: sess})
	case e.Kind == server.KindGoAway && e.Reason == server.GoAwayAction && e.Attr("notice") == "true":
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindGoingAway, Server: e.Server, Conn: e.Conn,
			Attrs: map[string]string{"grace_ms": e.Attr("grace_ms"), "notice": "goaway"}})
	}
}

// disconnReason is the neutral reason of the session.disconnect a
// conn.close implies: a GOAWAY the client sent is its leaving.
func disconnReason(e history.Event) string {
	if e.Reason == server.ReasonGoAway && e.Attr("by") == "client" {
		return history.DisconnTransport
	}
	return history.DisconnOf(e.Reason, ownReasons)
}

// ownReasons are the gRPC close reasons with a neutral meaning of their own.
var ownReasons = map[string]string{
	server.ReasonGoAway:      history.DisconnGoingAway,
	server.ReasonKeepalive:   history.DisconnIdle,
	server.ReasonAcceptClose: history.DisconnServer,
}
