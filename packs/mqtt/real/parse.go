package real

import (
	"strconv"
	"strings"
)

// LineKind says what a mosquitto log line reports.
type LineKind int

// The lines the evidence is made of (mosquitto 2.0.11, log_type all,
// connection_messages true). Everything else is LineOther.
const (
	LineOther            LineKind = iota
	LineRunning                   // "mosquitto version V running"
	LineBindError                 // "Error: Address already in use"
	LineNewConnection             // "New connection from A:P on port L."
	LineClientConnected           // "New client connected from A:P as ID (pN, cN, kN[, u'U'])."
	LineWill                      // "Will message specified (N bytes) (rR, qQ)."
	LineNoWill                    // "No will message specified."
	LineTab                       // "\t<text>": a will topic, a subscription or unsubscription filter
	LineConnack                   // "Sending CONNACK to ID (SP, RC)" (ID is the address when the client had none)
	LineAlreadyConnected          // "Client ID already connected, closing old connection."
	LineClose                     // "Client ID <why>": the connection is gone; Native says why
	LineRecvPublish               // "Received PUBLISH from ID (dD, qQ, rR, mM, 'T', ... (N bytes))"
	LineSendPublish               // "Sending PUBLISH to ID (dD, qQ, rR, mM, 'T', ... (N bytes))"
	LineRecvAck                   // "Received PUBACK|PUBCOMP from ID (Mid: M, RC:R)", "Received PUBREC|PUBREL from ID (Mid: M)"
	LineSendAck                   // "Sending PUBACK|PUBREC to ID (mM, rcR)", "Sending PUBCOMP|PUBREL to ID (mM)"
	LineRecvPingreq               // "Received PINGREQ from ID"
	LineRecvSubscribe             // "Received SUBSCRIBE from ID"
	LineRecvUnsubscribe           // "Received UNSUBSCRIBE from ID"
	LineRecvDisconnect            // "Received DISCONNECT from ID"
)

// Line is one parsed log line. Fields not relevant to its kind stay zero.
type Line struct {
	Kind LineKind
	// Text is the line without its timestamp (and without a leading tab for
	// LineTab): what contextual lines ("ID 1 filter") are read from.
	Text string
	ID   string // client id; "<unknown>" in a close line of a client that sent no CONNECT
	Addr string // the client's host:port (LineNewConnection, LineClientConnected)
	// LineNewConnection: the listener's port. LineClientConnected: the
	// protocol (1 = 3.1, 2 = 3.1.1, 5 = 5), clean session, keepalive and
	// whether a username was given.
	Port      int
	Proto     int
	Clean     bool
	Keepalive int
	Username  bool
	// LineWill: the will's size, retain and QoS.
	// LineRecvPublish, LineSendPublish: the packet's flags, packet id,
	// topic and payload size.
	Dup    bool
	QoS    int
	Retain bool
	Mid    int
	Topic  string
	Bytes  int
	Packet string // LineRecvAck, LineSendAck: PUBACK, PUBREC, PUBREL or PUBCOMP
	// LineConnack: the session present flag and the return code;
	// LineRecvAck, LineSendAck: the reason code (0 in MQTT 3.1.1).
	SessionPresent bool
	Code           int
	Native         string // LineClose: mosquitto's reason text
}

// ParseLine reads one line of mosquitto's log (a trailing newline is
// allowed). It never fails: what it does not know is LineOther.
//
// Client ids, topics and usernames are the clients' own strings, so each
// line is cut at its fixed text from both ends, never by a pattern inside
// them. A client id that itself contains a line's fixed text (" (d0, ",
// " as ") can be cut in the wrong place; the drivers' ids (fl-…) cannot.
func ParseLine(raw string) Line {
	text := stripTimestamp(strings.TrimRight(raw, "\r\n"))
	l := Line{Text: text}
	if t, ok := strings.CutPrefix(text, "\t"); ok {
		l.Kind, l.Text = LineTab, t
		return l
	}
	for _, p := range parsers {
		if rest, ok := strings.CutPrefix(text, p.prefix); ok && p.parse(rest, &l) {
			return l
		}
		l = Line{Text: text} // a parser that failed may have filled some fields
	}
	return l
}

type lineParser struct {
	prefix string
	parse  func(rest string, l *Line) bool
}

var parsers = []lineParser{
	{"Received PUBLISH from ", func(r string, l *Line) bool { return publishArgs(r, LineRecvPublish, l) }},
	{"Sending PUBLISH to ", func(r string, l *Line) bool { return publishArgs(r, LineSendPublish, l) }},
	{"Received PUBACK from ", func(r string, l *Line) bool { return recvAck(r, "PUBACK", true, l) }},
	{"Received PUBCOMP from ", func(r string, l *Line) bool { return recvAck(r, "PUBCOMP", true, l) }},
	{"Received PUBREC from ", func(r string, l *Line) bool { return recvAck(r, "PUBREC", false, l) }},
	{"Received PUBREL from ", func(r string, l *Line) bool { return recvAck(r, "PUBREL", false, l) }},
	{"Sending PUBACK to ", func(r string, l *Line) bool { return sendAck(r, "PUBACK", true, l) }},
	{"Sending PUBREC to ", func(r string, l *Line) bool { return sendAck(r, "PUBREC", true, l) }},
	{"Sending PUBCOMP to ", func(r string, l *Line) bool { return sendAck(r, "PUBCOMP", false, l) }},
	{"Sending PUBREL to ", func(r string, l *Line) bool { return sendAck(r, "PUBREL", false, l) }},
	{"Received PINGREQ from ", func(r string, l *Line) bool { return idOnly(r, LineRecvPingreq, l) }},
	{"Received SUBSCRIBE from ", func(r string, l *Line) bool { return idOnly(r, LineRecvSubscribe, l) }},
	{"Received UNSUBSCRIBE from ", func(r string, l *Line) bool { return idOnly(r, LineRecvUnsubscribe, l) }},
	{"Received DISCONNECT from ", func(r string, l *Line) bool { return idOnly(r, LineRecvDisconnect, l) }},
	{"Sending CONNACK to ", connack},
	{"New connection from ", newConnection},
	{"New client connected from ", clientConnected},
	{"Will message specified (", will},
	{"No will message specified.", func(r string, l *Line) bool { l.Kind = LineNoWill; return r == "" }},
	{"Error: Address already in use", func(r string, l *Line) bool { l.Kind = LineBindError; return r == "" }},
	{"mosquitto version ", func(r string, l *Line) bool {
		v, ok := strings.CutSuffix(r, " running")
		l.Kind = LineRunning
		return ok && v != "" && !strings.Contains(v, " ")
	}},
	{"Client ", clientLine},
	{"Bad socket read/write on client ", func(r string, l *Line) bool {
		i := strings.LastIndex(r, ": ")
		if i <= 0 {
			return false
		}
		l.Kind, l.ID, l.Native = LineClose, r[:i], r[i+2:]
		return true
	}},
}

// stripTimestamp drops "<timestamp>: " as log_timestamp writes it: digits
// (the default, seconds since the epoch) or a strftime format of digits,
// '-', 'T' and ':' (the one this package configures).
func stripTimestamp(s string) string {
	i := strings.Index(s, ": ")
	if i <= 0 || s[0] < '0' || s[0] > '9' {
		return s
	}
	for _, c := range s[:i] {
		if (c < '0' || c > '9') && c != '-' && c != 'T' && c != ':' {
			return s
		}
	}
	return s[i+2:]
}

func idOnly(rest string, kind LineKind, l *Line) bool {
	if rest == "" {
		return false
	}
	l.Kind, l.ID = kind, rest
	return true
}

// publishArgs reads "ID (dD, qQ, rR, mM, 'TOPIC', ... (N bytes))".
func publishArgs(rest string, kind LineKind, l *Line) bool {
	head, ok := strings.CutSuffix(rest, " bytes))")
	if !ok {
		return false
	}
	i := strings.LastIndex(head, "', ... (")
	if i < 0 {
		return false
	}
	n, ok := atoi(head[i+len("', ... ("):])
	if !ok {
		return false
	}
	head = head[:i]
	id, flags, ok := strings.Cut(head, " (d")
	if !ok || id == "" {
		return false
	}
	// flags: "D, qQ, rR, mM, 'TOPIC"
	parts := strings.SplitN(flags, ", ", 5)
	if len(parts) != 5 || !strings.HasPrefix(parts[1], "q") || !strings.HasPrefix(parts[2], "r") ||
		!strings.HasPrefix(parts[3], "m") || !strings.HasPrefix(parts[4], "'") {
		return false
	}
	d, ok1 := bit(parts[0])
	q, ok2 := atoi(parts[1][1:])
	r, ok3 := bit(parts[2][1:])
	m, ok4 := atoi(parts[3][1:])
	if !ok1 || !ok2 || !ok3 || !ok4 || q > 2 {
		return false
	}
	l.Kind, l.ID, l.Dup, l.QoS, l.Retain, l.Mid, l.Topic, l.Bytes = kind, id, d, q, r, m, parts[4][1:], n
	return true
}

// recvAck reads "ID (Mid: M, RC:R)" (withRC) or "ID (Mid: M)".
func recvAck(rest, packet string, withRC bool, l *Line) bool {
	id, args, ok := cutLastParen(rest, " (Mid: ")
	if !ok {
		return false
	}
	mid, rc := args, "0"
	if withRC {
		if mid, rc, ok = strings.Cut(args, ", RC:"); !ok {
			return false
		}
	}
	m, ok1 := atoi(mid)
	c, ok2 := atoi(rc)
	if !ok1 || !ok2 {
		return false
	}
	l.Kind, l.ID, l.Packet, l.Mid, l.Code = LineRecvAck, id, packet, m, c
	return true
}

// sendAck reads "ID (mM, rcR)" (withRC) or "ID (mM)".
func sendAck(rest, packet string, withRC bool, l *Line) bool {
	id, args, ok := cutLastParen(rest, " (m")
	if !ok {
		return false
	}
	mid, rc := args, "0"
	if withRC {
		if mid, rc, ok = strings.Cut(args, ", rc"); !ok {
			return false
		}
	}
	m, ok1 := atoi(mid)
	c, ok2 := atoi(rc)
	if !ok1 || !ok2 {
		return false
	}
	l.Kind, l.ID, l.Packet, l.Mid, l.Code = LineSendAck, id, packet, m, c
	return true
}

// cutLastParen splits "ID<open>ARGS)" at the last open.
func cutLastParen(rest, open string) (id, args string, ok bool) {
	body, ok := strings.CutSuffix(rest, ")")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(body, open)
	if i <= 0 {
		return "", "", false
	}
	return body[:i], body[i+len(open):], true
}

// connack reads "ID (SP, RC)".
func connack(rest string, l *Line) bool {
	id, args, ok := cutLastParen(rest, " (")
	if !ok {
		return false
	}
	sp, rc, ok := strings.Cut(args, ", ")
	if !ok {
		return false
	}
	s, ok1 := bit(sp)
	c, ok2 := atoi(rc)
	if !ok1 || !ok2 {
		return false
	}
	l.Kind, l.ID, l.SessionPresent, l.Code = LineConnack, id, s, c
	return true
}

// newConnection reads "A:P on port L.".
func newConnection(rest string, l *Line) bool {
	body, ok := strings.CutSuffix(rest, ".")
	if !ok {
		return false
	}
	addr, port, ok := strings.Cut(body, " on port ")
	if !ok || !validAddr(addr) {
		return false
	}
	p, ok := atoi(port)
	if !ok {
		return false
	}
	l.Kind, l.Addr, l.Port = LineNewConnection, addr, p
	return true
}

// clientConnected reads "A:P as ID (pN, cN, kN)." or "A:P as ID (pN, cN, kN, u'USER').".
func clientConnected(rest string, l *Line) bool {
	addr, rest, ok := strings.Cut(rest, " as ")
	if !ok || !validAddr(addr) {
		return false
	}
	body, ok := strings.CutSuffix(rest, ").")
	if !ok {
		return false
	}
	// The username is the client's: find the flags from the left of it.
	i := strings.LastIndex(body, " (p")
	user := false
	if j := strings.Index(body, ", u'"); j >= 0 && strings.HasSuffix(body, "'") {
		if k := strings.LastIndex(body[:j], " (p"); k >= 0 {
			i, user = k, true
			body = body[:j]
		}
	}
	if i <= 0 {
		return false
	}
	id, flags := body[:i], strings.Split(body[i+len(" (p"):], ", ")
	if len(flags) != 3 || !strings.HasPrefix(flags[1], "c") || !strings.HasPrefix(flags[2], "k") {
		return false
	}
	p, ok1 := atoi(flags[0])
	c, ok2 := bit(flags[1][1:])
	k, ok3 := atoi(flags[2][1:])
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	l.Kind, l.Addr, l.ID, l.Proto, l.Clean, l.Keepalive, l.Username = LineClientConnected, addr, id, p, c, k, user
	return true
}

// will reads "N bytes) (rR, qQ).".
func will(rest string, l *Line) bool {
	n, flags, ok := strings.Cut(rest, " bytes) (r")
	if !ok {
		return false
	}
	flags, ok = strings.CutSuffix(flags, ").")
	if !ok {
		return false
	}
	r, q, ok := strings.Cut(flags, ", q")
	if !ok {
		return false
	}
	b, ok1 := atoi(n)
	rb, ok2 := bit(r)
	qq, ok3 := atoi(q)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	l.Kind, l.Bytes, l.Retain, l.QoS = LineWill, b, rb, qq
	return true
}

// closeForms are the endings of mosquitto's "Client ID …" lines that end a
// connection (loop.c do_disconnect), longest first where one ends another.
var closeForms = []string{
	" disconnected due to malformed packet.",
	" disconnected due to protocol error.",
	" closed its connection.",
	" disconnected, not authorised.",
	" has exceeded timeout, disconnecting.",
	" disconnected due to oversize packet.",
	" disconnected due to oversize payload.",
	" disconnected due to out of memory.",
	" disconnected due to QoS too high or retain not supported.",
	" been disconnected by administrative action.",
}

// clientLine reads the "Client ID …" lines: a takeover, and the closes.
func clientLine(rest string, l *Line) bool {
	if id, ok := strings.CutSuffix(rest, " already connected, closing old connection."); ok && id != "" {
		l.Kind, l.ID = LineAlreadyConnected, id
		return true
	}
	for _, f := range closeForms {
		if id, ok := strings.CutSuffix(rest, f); ok && id != "" {
			l.Kind, l.ID, l.Native = LineClose, id, strings.TrimSuffix(strings.TrimPrefix(f, " "), ".")
			return true
		}
	}
	// "ID disconnected: <strerror>." (a socket error) before "ID disconnected.".
	if body, ok := strings.CutSuffix(rest, "."); ok {
		if i := strings.LastIndex(body, " disconnected: "); i > 0 {
			l.Kind, l.ID, l.Native = LineClose, body[:i], body[i+1:]
			return true
		}
	}
	if id, ok := strings.CutSuffix(rest, " disconnected."); ok && id != "" {
		l.Kind, l.ID, l.Native = LineClose, id, "disconnected"
		return true
	}
	return false
}

// validAddr: "host:port" as mosquitto prints a peer (IPv6 without brackets).
func validAddr(a string) bool {
	i := strings.LastIndexByte(a, ':')
	if i <= 0 || strings.ContainsAny(a, " \t") {
		return false
	}
	_, ok := atoi(a[i+1:])
	return ok
}

// atoi reads a small non-negative decimal (at most 9 digits: no overflow).
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func bit(s string) (bool, bool) {
	switch s {
	case "0":
		return false, true
	case "1":
		return true, true
	}
	return false, false
}
