package fake

import (
	"strconv"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/nats/wire"
)

// NATS-only event kinds (the neutral ones are history's).
const (
	// KindConnect: a CONNECT was parsed. Conn, Attrs{name, verbose,
	// pedantic, echo, headers, lang, version, protocol, no_responders}.
	KindConnect = "nats.connect"
	// KindPing: the client's PING arrived. Conn, Attrs{answered}.
	KindPing = "nats.ping"
	// KindInfo: an asynchronous INFO was sent after the handshake. Conn,
	// Attrs{ldm ("true" when set), connect_urls (comma list)}.
	KindInfo = "nats.info"
	// KindErr: the server sent -ERR. Conn, Reason (the text).
	KindErr = "nats.err"
	// KindLameDuck: lame duck mode was entered. Attrs{grace_ms}.
	KindLameDuck = "nats.lame_duck"
)

// conn.close reasons.
const (
	ReasonEOF         = "eof"          // the client closed, or the link was cut
	ReasonStale       = "stale"        // server PINGs went unanswered
	ReasonLameDuck    = "lame_duck"    // closed at the end of lame duck mode's grace
	ReasonServerClose = "server_close" // CloseConnections
	ReasonRefused     = "refused"      // CONNECT answered with -ERR (Refuse)
	ReasonErrorPrefix = "error:"       // followed by what went wrong: a parse error, a write timeout, a slow consumer
)

// record stamps the server's identity on e; the recorder stamps the time.
func (s *Server) record(e history.Event) {
	e.Source = history.SrcServer
	e.Server = s.name
	s.rec.Record(e)
}

func connectAttrs(c *wire.Connect) map[string]string {
	b := strconv.FormatBool
	return map[string]string{
		"name": c.Name, "verbose": b(c.Verbose), "pedantic": b(c.Pedantic), "echo": b(c.Echo),
		"headers": b(c.Headers), "lang": c.Lang, "version": c.Version,
		"protocol": strconv.Itoa(c.Protocol), "no_responders": b(c.NoResponders),
	}
}
