package real

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline/faultline/harness/history"
)

// tracker turns one mosquitto process's log, line by line and in log order,
// into the pack's evidence. mosquitto is single-threaded, so the order of
// its lines is the order of what it did: a line's meaning may depend on the
// lines just before it (a subscription's filters follow "Received
// SUBSCRIBE", a message's deliveries follow "Received PUBLISH"). One
// goroutine drives it; it is not safe for concurrent use.
type tracker struct {
	d trackerDeps

	conns    map[string]*conn // open connections, by the client's host:port
	byID     map[string]*conn // the connection each client id is connected on
	waiting  []*conn          // accepted, no CONNECT accepted yet; oldest first
	sessions map[string]*session
	retained map[string]*message
	q2       map[string]map[int]*message // QoS 2 messages awaiting PUBREL, by sender and packet id

	cur        *message // the message the following "Sending PUBLISH" lines deliver
	replayFor  *conn    // a resumed session's connection: the following sends are its replay
	subFor     *conn    // after "Received SUBSCRIBE from": its filters follow
	requested  map[string]int
	unsubFor   *conn
	willFor    *conn // after "Will message specified": its topic follows
	connectFor *conn // its mqtt.connect waits for the will lines
	replaced   *conn // "already connected": the next client connected replaces it
	refusal    *Line // a refusing CONNACK: the close that follows is its connection's
	monitor    *conn // the harness's monitor connection
	monSeen    int   // "Sending PUBLISH" lines to it so far
	monLagged  bool
	msgN       uint64
	connN      uint64
}

// trackerDeps is what a tracker needs of its server.
type trackerDeps struct {
	name   string
	record func(history.Event) // stamps at arrival; Source and Server are set here
	connID func() string       // the next "<name>#<n>" (a connection the harness did not dial)
	// peer: who dialled the connection from addr (the tracker has reached
	// its "New connection" line); a relayed client's Conn.
	peer      func(addr string) (peerRole, string, *endpoint)
	monitorID string // the harness's monitoring client id
	payload   func(gen string, k int) (seq int64, ok bool)
	// closed: which of these waiting addresses mosquitto has just closed,
	// the close line saying native ("" after a refusal; "" result: unknown).
	closed func(cands []string, native string) string
	// gone: mosquitto closed the connection from addr (ep: peer's), so the
	// address may serve another connection.
	gone func(addr string, ep *endpoint)
}

// conn is one client connection as mosquitto's log shows it.
type conn struct {
	n         uint64 // accept order
	id        string // "<name>#<n>"; "" for the harness's own
	addr      string
	ep        *endpoint // the harness's record of it (nil: not dialled by the harness)
	clientID  string
	internal  bool // the harness's own, or a relayed one whose close the relay recorded: in no event
	connected bool // its CONNECT was accepted
	proto     int  // mosquitto's: 1 = 3.1, 2 = 3.1.1, 5 = 5
	keepalive int
	clean     bool
	username  bool
	will      *message
	sess      *session
}

func newTracker(d trackerDeps) *tracker {
	return &tracker{d: d, conns: map[string]*conn{}, byID: map[string]*conn{}, sessions: map[string]*session{},
		retained: map[string]*message{}, q2: map[string]map[int]*message{}}
}

func (t *tracker) record(e history.Event) {
	if e.Source == "" {
		e.Source = history.SrcServer
	}
	e.Server = t.d.name
	t.d.record(e)
}

func (t *tracker) sessionID(clientID string) string { return t.d.name + "/" + clientID }

// handle takes the next line of the log.
func (t *tracker) handle(l Line) {
	if t.contextual(l) {
		return
	}
	t.subFor, t.unsubFor, t.willFor, t.requested = nil, nil, nil, nil
	if t.connectFor != nil && l.Kind != LineWill {
		t.emitConnect(t.connectFor) // the will lines never came
	}
	if l.Kind == LineSendAck {
		t.serverAck(l) // ends the message it acknowledges
		return
	}
	if l.Kind != LineSendPublish {
		t.endContext()
	}
	switch l.Kind {
	case LineNewConnection:
		t.accept(l.Addr)
	case LineClientConnected:
		t.connected(l)
	case LineWill:
		if c := t.connectFor; c != nil {
			c.will = &message{fromID: c.clientID, qos: l.QoS, retain: l.Retain, bytes: l.Bytes}
			t.willFor = c
		}
	case LineNoWill:
		if t.connectFor != nil {
			t.emitConnect(t.connectFor)
		}
	case LineConnack:
		t.connack(l)
	case LineAlreadyConnected:
		t.alreadyConnected(l.ID)
	case LineClose:
		t.close(l)
	case LineRecvDisconnect:
		if c := t.byID[l.ID]; c != nil && !c.internal {
			t.record(history.Event{Kind: KindDisconnect, Conn: c.id, Session: t.sessionOf(c)})
		}
	case LineRecvPingreq:
		// mosquitto answers at once (handle_ping.c): there is no lever to withhold it.
		if c := t.byID[l.ID]; c != nil && !c.internal {
			t.record(history.Event{Kind: KindPingreq, Conn: c.id, Session: t.sessionOf(c),
				Attrs: map[string]string{"answered": "true"}})
		}
	case LineRecvSubscribe:
		t.subFor, t.requested = t.byID[l.ID], map[string]int{}
	case LineRecvUnsubscribe:
		t.unsubFor = t.byID[l.ID]
	case LineRecvPublish:
		t.received(l)
	case LineSendPublish:
		t.sent(l)
	case LineRecvAck:
		t.clientAck(l)
	case LineOther:
		if id, ok := strings.CutPrefix(l.Text, "Outgoing messages are being dropped for client "); ok &&
			strings.TrimSuffix(id, ".") == t.d.monitorID && !t.monLagged {
			t.monLagged = true // mosquitto drops QoS 0 to a client 1000 packets behind
			t.record(history.Event{Source: history.SrcHarness, Kind: history.KindError,
				Reason: "mosquitto " + t.d.name + ": the harness's monitor fell behind; receive seqs may be 0"})
		}
	}
}

// contextual takes the lines whose meaning is the lines before them.
func (t *tracker) contextual(l Line) bool {
	switch {
	case t.willFor != nil && l.Kind == LineTab:
		t.willFor.will.topic = l.Text
		t.emitConnect(t.willFor)
		t.willFor = nil
		return true
	case t.subFor != nil && l.Kind == LineTab:
		// "\tFILTER (QoS Q)": what the client asked for.
		if f, q, ok := strings.Cut(l.Text, " (QoS "); ok {
			if n, ok := atoi(strings.TrimSuffix(q, ")")); ok {
				t.requested[f] = n
			}
		}
		return true
	case t.subFor != nil && strings.HasPrefix(l.Text, t.subFor.clientID+" "):
		// "ID Q FILTER": the subscription is in place, at QoS Q.
		q, f, ok := strings.Cut(strings.TrimPrefix(l.Text, t.subFor.clientID+" "), " ")
		n, ok2 := atoi(q)
		if !ok || !ok2 || f == "" {
			return false
		}
		t.subscribed(t.subFor, f, n)
		return true
	case t.unsubFor != nil && l.Kind == LineTab:
		return true
	case t.unsubFor != nil && strings.HasPrefix(l.Text, t.unsubFor.clientID+" ") && len(l.Text) > len(t.unsubFor.clientID)+1:
		t.unsubscribed(t.unsubFor, l.Text[len(t.unsubFor.clientID)+1:])
		return true
	}
	return false
}

func sortConns(cs []*conn) {
	slices.SortFunc(cs, func(a, b *conn) int { return cmp.Compare(a.n, b.n) })
}

// hostOf is the host of mosquitto's "host:port".
func hostOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[:i]
	}
	return addr
}

var b2s = strconv.FormatBool
