package fake

import (
	"strconv"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/faultline/faultline/harness/history"
)

// MQTT-only event kinds (the neutral ones are history's).
const (
	// KindConnect: a CONNECT was decoded. Conn, Attrs{client_id, protocol,
	// level, clean, keepalive_s, will, will_qos, will_retain, username,
	// password}.
	KindConnect = "mqtt.connect"
	// KindConnack: a CONNACK was sent. Conn, Session (when accepted),
	// Attrs{code, session_present (the flag on the wire)}.
	KindConnack = "mqtt.connack"
	// KindPingreq: a PINGREQ arrived. Conn, Session, Attrs{answered}.
	KindPingreq = "mqtt.pingreq"
	// KindPuback: a PUBACK was sent or received. Conn, Session, Topic and
	// Seq (of the acknowledged message), Attrs{packet_id, from: client |
	// server, known: "false" when the client acknowledged an id the
	// session did not have}.
	KindPuback = "mqtt.puback"
	// KindDisconnect: the client sent DISCONNECT. Conn, Session.
	KindDisconnect = "mqtt.disconnect"
	// KindUnsubscribe: an UNSUBSCRIBE named a filter. Conn, Session, Topic.
	KindUnsubscribe = "mqtt.unsubscribe"
	// KindDrop: a message routed to a session was not sent and is not
	// kept. Session, Topic, Seq, Reason, Attrs{qos}.
	KindDrop = "mqtt.drop"
)

// conn.close reasons.
const (
	ReasonEOF         = "eof"          // the client closed, or the link went away
	ReasonDisconnect  = "disconnect"   // the client sent DISCONNECT
	ReasonKeepalive   = "keepalive"    // nothing from the client within 1.5 × keepalive
	ReasonServerClose = "server_close" // CloseConnections
	ReasonKilled      = "killed"       // Close: the broker went down
	ReasonRefused     = "refused"      // the CONNECT was answered with a refusing CONNACK
	ReasonTakeover    = "takeover"     // a CONNECT with the same client id arrived on another connection
	ReasonErrorPrefix = "error:"       // followed by what went wrong: a malformed packet, a protocol violation, a write timeout, a slow consumer
)

// mqtt.drop reasons.
const (
	DropOffline   = "offline_qos0" // a persistent session offline: QoS 0 is not queued (mosquitto's queue_qos0_messages false)
	DropClosing   = "closing"      // the session's connection is closing, and the message would not outlive it
	DropQueueFull = "queue_full"   // the session already holds MaxQueued unacknowledged messages
)

// CodeNames are the CONNACK return codes' names (handshake Reason on a
// refusal).
var CodeNames = map[byte]string{
	packets.Accepted:                        "accepted",
	packets.ErrRefusedBadProtocolVersion:    "unacceptable_protocol_version",
	packets.ErrRefusedIDRejected:            "identifier_rejected",
	packets.ErrRefusedServerUnavailable:     "server_unavailable",
	packets.ErrRefusedBadUsernameOrPassword: "bad_username_or_password",
	packets.ErrRefusedNotAuthorised:         "not_authorized",
}

// record stamps the server's identity on e; the recorder stamps the time.
func (s *Server) record(e history.Event) {
	e.Source = history.SrcServer
	e.Server = s.name
	s.rec.Record(e)
}

var b2s = strconv.FormatBool

func connectAttrs(p *packets.ConnectPacket) map[string]string {
	return map[string]string{
		"client_id": p.ClientIdentifier, "protocol": p.ProtocolName, "level": strconv.Itoa(int(p.ProtocolVersion)),
		"clean": b2s(p.CleanSession), "keepalive_s": strconv.Itoa(int(p.Keepalive)),
		"will": b2s(p.WillFlag), "will_qos": strconv.Itoa(int(p.WillQos)), "will_retain": b2s(p.WillRetain),
		"username": b2s(p.UsernameFlag), "password": b2s(p.PasswordFlag),
	}
}

// msgAttrs are a PUBLISH's attributes in deliver and receive.
func msgAttrs(qos byte, dup bool, pid uint16) map[string]string {
	return map[string]string{"qos": strconv.Itoa(int(qos)), "dup": b2s(dup), "packet_id": strconv.Itoa(int(pid))}
}
