package real

// MQTT-only event kinds (the neutral ones are history's), the same as the
// fake broker's (packs/mqtt/EVENTS.md).
const (
	KindConnect     = "mqtt.connect"     // Conn, Attrs{client_id, protocol, level, clean, keepalive_s, will, will_qos, will_retain, will_topic, username}
	KindConnack     = "mqtt.connack"     // Conn, Session (accepted), Reason (refused), Attrs{code, session_present}
	KindPingreq     = "mqtt.pingreq"     // Conn, Session, Attrs{answered: "true"}
	KindPuback      = "mqtt.puback"      // Conn, Session, Topic, Seq, Attrs{packet_id, from: client|server, known: "false"}
	KindDisconnect  = "mqtt.disconnect"  // Conn, Session
	KindUnsubscribe = "mqtt.unsubscribe" // Conn, Session, Topic
)

// conn.close reasons.
const (
	ReasonEOF         = "eof"          // the client closed, or the link went away
	ReasonDisconnect  = "disconnect"   // the client sent DISCONNECT
	ReasonKeepalive   = "keepalive"    // mosquitto's keepalive check found nothing from the client within 1.5 × keepalive
	ReasonServerClose = "server_close" // CloseConnections (a takeover by the harness)
	ReasonKilled      = "killed"       // Close: the process was killed
	ReasonRefused     = "refused"      // the CONNECT was answered with a refusing CONNACK
	ReasonTakeover    = "takeover"     // a client connected with the same client id
	ReasonErrorPrefix = "error:"       // followed by mosquitto's words: "protocol error", "malformed packet", …
)

// CodeNames are the CONNACK return codes' names (handshake Reason on a
// refusal), as the fake broker names them.
var CodeNames = map[int]string{
	0: "accepted",
	1: "unacceptable_protocol_version",
	2: "identifier_rejected",
	3: "server_unavailable",
	4: "bad_username_or_password",
	5: "not_authorized",
}
