package history

import "strings"

// A server's notice that it is going away, and its advertisement of other
// servers: neutral kinds that a protocol pack records beside its own words
// for them (NATS: INFO ldm and connect_urls; gRPC: GOAWAY), so that the
// checks of M1 and T6 read one vocabulary whatever the protocol.
const (
	// KindGoingAway: the server told its clients to move (Server; Conn
	// when the notice went to one connection only, empty when to all;
	// Attrs{grace_ms: how long the server keeps connections open after
	// it, notice: the pack's word for it}).
	KindGoingAway = "going_away"
	// KindAdvertise: the server advertised servers to a connection
	// (Server, Conn; Attrs{servers: the advertised servers' scenario
	// names, comma-separated, when the pack knows them; addrs: the
	// addresses as sent}).
	KindAdvertise = "advertise"
)

// Neutral reasons of session.disconnect (Reason): why a live session's
// connection ended, as every pack maps its own reason (kept in
// Attrs[AttrConnReason]).
const (
	DisconnTransport  = "transport"  // the connection was lost (EOF, reset, a write failed)
	DisconnIdle       = "idle"       // the server found the client silent (liveness)
	DisconnSuperseded = "superseded" // a newer connection took the session over
	DisconnGoingAway  = "going_away" // the server closed it at the end of its going-away grace
	DisconnServer     = "server"     // the server ended it for another cause: its close action, its death, a protocol error
)

// AttrConnReason is the session.disconnect attribute holding the server's
// own conn.close reason, in its pack's words.
const AttrConnReason = "conn_reason"

// DisconnOf maps a pack's conn.close reason onto the neutral reason of the
// session.disconnect it implies. own holds the pack's words with a meaning
// of their own (NATS stale → idle, MQTT takeover → superseded, …); the
// words every pack shares say the server ended it (server_close, killed,
// error:<text>); anything else is the transport's.
func DisconnOf(connReason string, own map[string]string) string {
	if why, ok := own[connReason]; ok {
		return why
	}
	switch {
	case connReason == "server_close", connReason == "killed", strings.HasPrefix(connReason, "error:"):
		return DisconnServer
	}
	return DisconnTransport
}
