package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/faultline/faultline/drivers/kit"
)

// Sessions is how many clients one process hosts (the hello's "sessions"):
// more than any scenario's clients, so a run needs one process.
const Sessions = 4096

const (
	// opWait bounds how long a send or subscribe waits for paho to take it
	// (Publish() and Subscribe() wait up to 30 s for the outgoing goroutine
	// when WriteTimeout is 0), below the harness's default op timeout.
	opWait = 5 * time.Second
	// subackWait bounds the wait for a SUBACK before a subscribe is answered.
	subackWait = 2 * time.Second
)

// defaultTopic is where a send without a topic is published.
const defaultTopic = "faultline/send"

// Driver hosts the sessions of one process.
type Driver struct {
	out    *kit.Output
	getenv func(string) string

	sessions kit.Table[*session] // by client index (-1 the default session)
	// sent numbers each client's sends (kit.SendCount): paho took a send
	// when Publish() returned a token that has not failed (or was not
	// taken in time: its number is spent); published as kit.Numbered.
	sent kit.SendCounts
}

// The driver's line types (kit's, with paho's contract).
type (
	op    = kit.Op
	reply = kit.Reply[Contract]
	event = kit.Event
)

// New is a driver writing its lines to w; getenv gives FAULTLINE_DRIVER
// (os.Getenv in main).
func New(w io.Writer, getenv func(string) string) *Driver {
	return &Driver{out: kit.NewOutput(w), getenv: getenv}
}

// Version is the paho.mqtt.golang version the driver is built with (go.mod).
const Version = "v1.5.1"

// Hello is the driver's first line.
func Hello() any {
	return kit.Hello[Contract]{
		SDK: "paho.mqtt.golang", Version: Version, Protocol: "mqtt",
		// failover and cascading: every pass walks the broker list
		// (client.go attemptConnection()); no shuffle, no server moves.
		Features: []string{"reconnect", "failover", "cascading"},
		Sessions: Sessions, Contract: builtin(),
	}
}

// Serve writes the hello, then handles ops from in until an exit op or
// the end of in; then it closes every session (bounded) and returns
// (kit.Serve).
func (d *Driver) Serve(in io.Reader) { kit.Serve[Contract](in, d.out, Hello(), d) }

// CloseAll closes every session together (kit.Serve's shutdown).
func (d *Driver) CloseAll() { d.sessions.CloseAll((*session).close) }

func (d *Driver) slot(o op) *session { return d.sessions.Get(o.Index()) }

func clientOf(s *session) mqtt.Client {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cl
}

// Do handles one op on its own goroutine (kit.Serve).
func (d *Driver) Do(o op) reply {
	if o.Client != nil && *o.Client < 0 {
		return reply{Error: fmt.Sprintf("bad client %d: want an index >= 0", *o.Client)}
	}
	switch o.Op {
	case "connect":
		return d.connect(o)
	case "subscribe":
		return d.subscribe(o)
	case "send":
		return d.send(o)
	case "close":
		s := d.slot(o)
		if clientOf(s) == nil {
			return reply{Error: "not connected"}
		}
		s.close()
		return reply{OK: true}
	default:
		return reply{Error: fmt.Sprintf("unknown op %q", o.Op)}
	}
}

// clientID is the session's MQTT client id, fl-<driver>-<client index>:
// stable for the client's whole life, so a kept session can be resumed.
func (d *Driver) clientID(o op) string {
	num, _ := strconv.ParseInt(d.getenv("FAULTLINE_DRIVER"), 10, 64)
	if o.Driver != 0 {
		num = o.Driver
	}
	k := int64(o.Index())
	if k < 0 { // one client per process: its index is its driver's
		k = max(num-1, 0)
	}
	if num == 0 {
		num = k + 1
	}
	return fmt.Sprintf("fl-%d-%d", num, k)
}

func (d *Driver) connect(o op) reply {
	if len(o.Servers) == 0 {
		return reply{Error: "connect: no servers"}
	}
	id := d.clientID(o)
	p, err := planFor(o.Servers, o.Options, id)
	if err != nil {
		return reply{Error: err.Error()}
	}
	s := &session{d: d, client: o.Client, id: id, urls: urlMap(o.Servers), servers: o.Servers,
		reconnect: p.reconnect, resubscribe: p.resubscribe, qos: p.qos,
		conns: map[*trackConn]bool{}, accURL: map[int]string{}, present: map[int]bool{}, pending: map[string]bool{},
		connected: make(chan struct{}), closed: make(chan struct{})}
	if !d.sessions.Put(o.Index(), s, (*session).busy) {
		return reply{Error: "already connected"}
	}

	s.callbacks(p.opts)
	cl := mqtt.NewClient(p.opts)
	s.mu.Lock()
	s.cl = cl
	closing := s.closing
	s.mu.Unlock()
	if closing { // exit came before the client existed
		return reply{Error: "closed during connect", Contract: p.contract}
	}
	tok := cl.Connect()
	select {
	case <-tok.Done():
	case <-s.closed: // exit during the first connect
		return reply{Error: "closed during connect", Contract: p.contract}
	}
	if err := tok.Error(); err != nil {
		var rc byte
		if ct, ok := tok.(*mqtt.ConnectToken); ok {
			rc = ct.ReturnCode()
		}
		s.connectFailed(rc)
		return reply{Error: "paho Connect: " + err.Error(), Contract: p.contract}
	}
	// Answer once CONNECTED_ACTIVE is reported (OnConnect, started by
	// paho before the token completes), bounded.
	select {
	case <-s.connected:
	case <-time.After(closeWait):
	}
	return reply{OK: true, Contract: p.contract}
}

// subscribe subscribes at the delivery's QoS and answers once the broker
// acknowledged it (bounded). While the session is recovering the topic is
// kept and subscribed on the reconnection (driver_adds); paho itself
// would refuse ("not currently connected and ResumeSubs not set").
func (d *Driver) subscribe(o op) reply {
	s := d.slot(o)
	cl := clientOf(s)
	if cl == nil {
		return reply{Error: "not connected"}
	}
	if o.Topic == "" {
		return reply{Error: "subscribe: no topic"}
	}
	s.mu.Lock()
	known := false
	for _, t := range s.topics {
		known = known || t == o.Topic
	}
	if !known {
		s.topics = append(s.topics, o.Topic)
	}
	state := s.state
	if state == kit.Recovering && s.resubscribe {
		s.pending[o.Topic] = true
	}
	s.mu.Unlock()
	switch {
	case state == kit.Recovering && s.resubscribe:
		return reply{OK: true}
	case state != kit.Active:
		return reply{Error: "not connected (" + orStr(state, "no session") + ")"}
	}
	tok, ok := within(opWait, func() mqtt.Token { return cl.Subscribe(o.Topic, s.qos, s.onMessage) })
	if !ok {
		s.errorf("paho Subscribe %s: not taken within %v", o.Topic, opWait)
		return reply{Error: fmt.Sprintf("paho Subscribe: not taken within %v", opWait)}
	}
	select {
	case <-tok.Done():
	case <-time.After(subackWait):
		return reply{OK: true} // taken; the SUBACK is late
	}
	if err := tok.Error(); err != nil {
		s.mu.Lock()
		recovering := s.state == kit.Recovering && s.resubscribe
		if recovering {
			s.pending[o.Topic] = true
		}
		s.mu.Unlock()
		if recovering { // lost meanwhile: subscribed on the reconnection
			return reply{OK: true}
		}
		return reply{Error: "paho Subscribe: " + err.Error()}
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		if q, ok := st.Result()[o.Topic]; ok && q == 0x80 {
			return reply{Error: "paho Subscribe: the broker refused the subscription (SUBACK 0x80)"}
		}
	}
	return reply{OK: true}
}

// send publishes {"n": N, "payload": …} at the delivery's QoS and answers
// once paho took it (Publish() returned a token that has not failed).
func (d *Driver) send(o op) reply {
	s := d.slot(o)
	cl := clientOf(s)
	if cl == nil {
		return reply{Error: "not connected"}
	}
	topic := o.Topic
	if topic == "" {
		topic = defaultTopic
	}
	sc := d.sent.For(o.Index())
	sc.Lock()
	defer sc.Unlock()
	n := sc.N + 1
	tok, ok := within(opWait, func() mqtt.Token { return cl.Publish(topic, s.qos, false, kit.Numbered(n, o.Payload)) })
	if !ok {
		// paho may still take it later: its number is spent.
		sc.N = n
		s.errorf("paho Publish n=%d on %s: not taken within %v (client.go Publish() waits up to 30 s for the outgoing goroutine)", n, topic, opWait)
		return reply{Error: fmt.Sprintf("paho Publish: not taken within %v", opWait)}
	}
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			s.errorf("paho Publish on %s: send refused: %v", topic, err)
			return reply{Error: "paho Publish: " + err.Error()}
		}
	default:
	}
	sc.N = n
	go s.watch(tok, n, topic)
	return reply{OK: true}
}

// watch reports a publish whose token later fails (a QoS 1 PUBLISH lost
// with the connection and the client closed, a write error).
func (s *session) watch(tok mqtt.Token, n int64, topic string) {
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			s.errorf("paho Publish n=%d on %s: token failed: %v", n, topic, err)
		}
	case <-s.closed:
	}
}

// within runs f, giving up waiting after d (f goes on).
func within(d time.Duration, f func() mqtt.Token) (mqtt.Token, bool) {
	c := make(chan mqtt.Token, 1)
	go func() { c <- f() }()
	select {
	case t := <-c:
		return t, true
	case <-time.After(d):
		return nil, false
	}
}
