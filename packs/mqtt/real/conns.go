package real

import (
	"slices"
	"strconv"
	"strings"

	"github.com/faultline/faultline/harness/history"
)

// The connections' lines: accepts, CONNECTs, CONNACKs, takeovers, closes.

// accept: "New connection from A:P": a TCP connection mosquitto accepted.
// A client's connection reached it through the front listener (relay.go),
// which recorded its accept when it took it: the line maps to that Conn by
// the relay's local address A:P.
func (t *tracker) accept(addr string) *conn {
	if old := t.conns[addr]; old != nil { // its close was never seen
		t.forget(old)
	}
	role, id, ep := t.d.peer(addr)
	t.connN++
	c := &conn{n: t.connN, addr: addr, ep: ep}
	switch role {
	case peerClient:
		c.id = id
	case peerHarness, peerSilent:
		c.internal = true
	default: // not dialled by the harness: a connection of its own
		c.id = t.d.connID()
		t.record(history.Event{Kind: history.KindAccept, Conn: c.id, Attrs: map[string]string{"remote": addr}})
	}
	t.conns[addr] = c
	t.waiting = append(t.waiting, c)
	return c
}

// connected: mosquitto accepted a CONNECT ("New client connected").
func (t *tracker) connected(l Line) {
	c := t.conns[l.Addr]
	if c == nil || c.connected { // its accept line was not seen
		c = t.accept(l.Addr)
	}
	t.unwait(c)
	if old := t.replaced; old != nil && old.clientID == l.ID {
		t.replaced = nil
		reason := ReasonTakeover
		if c.internal {
			reason = ReasonServerClose // the harness's close action takes the client over
		}
		t.closeConn(old, reason, "already connected")
	} else if old := t.byID[l.ID]; old != nil && old != c {
		t.closeConn(old, ReasonTakeover, "already connected")
	}
	c.clientID, c.proto, c.clean, c.keepalive, c.username, c.connected = l.ID, l.Proto, l.Clean, l.Keepalive, l.Username, true
	t.byID[l.ID] = c
	if c.internal && l.ID == t.d.monitorID {
		t.monitor, t.monSeen = c, 0
	}
	t.connectFor = c
}

func (t *tracker) emitConnect(c *conn) {
	t.connectFor = nil
	if c.internal {
		return
	}
	protocol, level := "MQTT", 4
	switch c.proto {
	case 1:
		protocol, level = "MQIsdp", 3
	case 5:
		level = 5
	}
	a := map[string]string{"client_id": c.clientID, "protocol": protocol, "level": strconv.Itoa(level),
		"clean": b2s(c.clean), "keepalive_s": strconv.Itoa(c.keepalive), "will": b2s(c.will != nil),
		"username": b2s(c.username)}
	if c.will != nil {
		a["will_qos"], a["will_retain"], a["will_topic"] = strconv.Itoa(c.will.qos), b2s(c.will.retain), c.will.topic
	}
	t.record(history.Event{Kind: KindConnect, Conn: c.id, Attrs: a})
}

// connack: the CONNACK of a connected client, or a refusal.
func (t *tracker) connack(l Line) {
	if l.Code != 0 {
		ll := l
		t.refusal = &ll // its close follows at once (handle_connect.c: the error path)
		return
	}
	c := t.byID[l.ID]
	if c == nil {
		return
	}
	old := t.sessions[l.ID]
	// MQTT 3.1's CONNACK has no session present flag: a persistent session
	// is resumed all the same (handle_connect.c connect__on_authorised).
	present := old != nil && (l.SessionPresent || c.proto == 1 && !c.clean && old.persistent)
	s := old
	if !present {
		s = &session{clientID: l.ID, id: t.sessionID(l.ID), inflight: map[int]*message{}}
		t.sessions[l.ID] = s
	}
	s.persistent, s.proto, s.conn, c.sess = !c.clean, c.proto, c, s
	if c.internal {
		return
	}
	attrs := map[string]string{"client_id": l.ID, "clean": b2s(c.clean), "keepalive_s": strconv.Itoa(c.keepalive),
		"session_present": b2s(present), "code": "0"}
	if present {
		attrs["replay"] = strconv.Itoa(len(s.inflight) + len(s.pending))
		t.replayFor = c
	}
	t.record(history.Event{Kind: history.KindHandshake, Conn: c.id, OK: true, Session: s.id, Attrs: attrs})
	t.record(history.Event{Kind: KindConnack, Conn: c.id, Session: s.id,
		Attrs: map[string]string{"code": "0", "session_present": b2s(l.SessionPresent)}})
}

func (t *tracker) alreadyConnected(id string) {
	old := t.byID[id]
	t.replaced = old
	if old != nil && old.will != nil {
		// A takeover by a clean session publishes the old connection's will
		// before the new client is logged (connect__on_authorised).
		t.openWill(old)
	}
}

// close: "Client ID <why>", the end of a connection.
func (t *tracker) close(l Line) {
	if r := t.refusal; r != nil {
		t.refusal = nil
		if c := t.pickWaiting(""); c != nil {
			t.refused(c, *r)
		}
		return
	}
	var c *conn
	if l.ID != "<unknown>" {
		c = t.byID[l.ID]
	}
	if c == nil { // no CONNECT accepted: one of the waiting connections
		c = t.pickWaiting(l.Native)
	}
	if c == nil {
		return
	}
	reason := CloseReason(l.Native)
	t.closeConn(c, reason, l.Native)
	if c.will != nil && reason != ReasonDisconnect {
		t.openWill(c) // do_disconnect → context__disconnect → context__send_will
	}
}

// refused: a CONNACK with a return code, then the close.
func (t *tracker) refused(c *conn, r Line) {
	if !c.internal {
		name := CodeNames[r.Code]
		if name == "" {
			name = "code_" + strconv.Itoa(r.Code)
		}
		attrs := map[string]string{"session_present": "false", "code": strconv.Itoa(r.Code)}
		if r.ID != hostOf(c.addr) {
			attrs["client_id"] = r.ID // the CONNACK names the client by its id once mosquitto read one, else by its host
		}
		t.record(history.Event{Kind: history.KindHandshake, Conn: c.id, OK: false, Reason: name, Attrs: attrs})
		t.record(history.Event{Kind: KindConnack, Conn: c.id, Reason: name,
			Attrs: map[string]string{"code": strconv.Itoa(r.Code), "session_present": "false"}})
	}
	t.closeConn(c, ReasonRefused, "refused")
}

// pickWaiting finds which waiting connection a close names without an id
// (native: the close line's reason, "" after a refusal).
func (t *tracker) pickWaiting(native string) *conn {
	switch len(t.waiting) {
	case 0:
		return nil
	case 1:
		return t.waiting[0]
	}
	cands := make([]string, len(t.waiting))
	for i, c := range t.waiting {
		cands[i] = c.addr
	}
	if a := t.d.closed(cands, native); a != "" {
		for _, c := range t.waiting {
			if c.addr == a {
				return c
			}
		}
	}
	return t.waiting[0]
}

func (t *tracker) unwait(c *conn) {
	for i, w := range t.waiting {
		if w == c {
			t.waiting = append(t.waiting[:i], t.waiting[i+1:]...)
			return
		}
	}
}

// forget drops c from every index.
func (t *tracker) forget(c *conn) {
	if t.conns[c.addr] == c {
		delete(t.conns, c.addr)
	}
	if c.clientID != "" && t.byID[c.clientID] == c {
		delete(t.byID, c.clientID)
	}
	t.unwait(c)
	if t.monitor == c {
		t.monitor = nil
	}
	if t.d.gone != nil {
		t.d.gone(c.addr, c.ep)
	}
	if s := c.sess; s != nil && s.conn == c {
		s.conn = nil
		if !s.persistent && t.sessions[s.clientID] == s {
			delete(t.sessions, s.clientID) // a clean session ends with its connection
		}
	}
}

func (t *tracker) closeConn(c *conn, reason, native string) {
	t.forget(c)
	if c.internal {
		return
	}
	t.record(history.Event{Kind: history.KindConnClose, Conn: c.id, Session: t.sessionOf(c), Reason: reason,
		Attrs: map[string]string{"native": native}})
}

// sessionOf is the session c handshook into ("" before its CONNACK).
func (t *tracker) sessionOf(c *conn) string {
	if c.sess == nil {
		return ""
	}
	return c.sess.id
}

// killed closes every connection still open, and ends every persistent
// session: the process is gone (native: "killed", or "exited" by itself).
func (t *tracker) killed(reason, native string) {
	t.endContext()
	var open []*conn
	for _, c := range t.conns {
		open = append(open, c)
	}
	sortConns(open)
	for _, c := range open {
		t.closeConn(c, reason, native)
	}
	// persistence is off: the persistent sessions die with the process.
	var ids []string
	for id, s := range t.sessions {
		if s.persistent && id != t.d.monitorID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		s := t.sessions[id]
		t.record(history.Event{Kind: history.KindSessionExpire, Session: s.id,
			Attrs: map[string]string{"client_id": id, "why": native, "dropped": strconv.Itoa(s.holds())}})
	}
	t.sessions = map[string]*session{}
}

// CloseReason maps the end of mosquitto's "Client ID …" close line to the
// pack's conn.close reason.
func CloseReason(native string) string {
	switch native {
	case "disconnected":
		return ReasonDisconnect
	case "closed its connection", "disconnected: Connection reset by peer", "disconnected: Broken pipe":
		return ReasonEOF
	case "has exceeded timeout, disconnecting":
		return ReasonKeepalive
	case "been disconnected by administrative action":
		return ReasonServerClose
	}
	why := strings.TrimPrefix(native, "disconnected due to ")
	why = strings.TrimPrefix(why, "disconnected: ")
	why = strings.TrimPrefix(why, "disconnected, ")
	return ReasonErrorPrefix + why
}

// client is a connected client the harness may take over.
type client struct {
	clientID string
	clean    bool
	level    byte
}

// clients lists the connected clients (not the harness's), in accept order.
func (t *tracker) clients() []client {
	var cs []*conn
	for _, c := range t.byID {
		if c.connected && !c.internal {
			cs = append(cs, c)
		}
	}
	sortConns(cs)
	out := make([]client, len(cs))
	for i, c := range cs {
		level := byte(4)
		if c.proto == 1 {
			level = 3
		}
		out[i] = client{clientID: c.clientID, clean: c.clean, level: level}
	}
	return out
}
