package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Sessions is how many clients one process hosts (the hello's "sessions"):
// more than any scenario's clients, so a run needs one process.
const Sessions = 4096

const (
	// exitWait bounds the close of every session on exit (they close together).
	exitWait = 3 * time.Second
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
	out    *output
	getenv func(string) string

	mu       sync.Mutex
	sessions map[int]*session // client index → session; -1 the default session
	sent     map[int]*sendCount
	exiting  bool
	wg       sync.WaitGroup // ops under way
}

// sendCount numbers a client's sends: n is how many sends paho took for
// this client, over all its connects. A send is published as {"n": n,
// "payload": <the op's payload>}, so that the broker's receive carries the
// client's send number (its Seq): a refused send takes no number. mu is
// held across the Publish: sends of one client are numbered in the order
// paho took them.
type sendCount struct {
	mu sync.Mutex
	n  int64
}

// New is a driver writing its lines to w; getenv gives FAULTLINE_DRIVER
// (os.Getenv in main).
func New(w io.Writer, getenv func(string) string) *Driver {
	return &Driver{out: newOutput(w), getenv: getenv, sessions: map[int]*session{}, sent: map[int]*sendCount{}}
}

// Version is the paho.mqtt.golang version the driver is built with (go.mod).
const Version = "v1.5.1"

// Hello is the driver's first line.
func Hello() any {
	return hello{
		SDK: "paho.mqtt.golang", Version: Version, Protocol: "mqtt",
		// failover and cascading: every pass walks the broker list
		// (client.go attemptConnection()); no shuffle, no server moves.
		Features: []string{"reconnect", "failover", "cascading"},
		Sessions: Sessions, Contract: builtin(),
	}
}

// Serve writes the hello, then handles ops from in until an exit op or
// the end of in; then it closes every session (bounded) and returns.
func (d *Driver) Serve(in io.Reader) {
	d.out.send(Hello())
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20+2)
	exit := make(chan struct{})
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		for sc.Scan() {
			b := append([]byte(nil), sc.Bytes()...)
			select {
			case lines <- b:
			case <-exit:
				return
			}
		}
		if err := sc.Err(); err != nil {
			d.out.send(event{Type: "error", Text: "driver: reading ops: " + err.Error()})
		}
	}()
	var once sync.Once
	stop := func() { once.Do(func() { close(exit) }) }
loop:
	for {
		select {
		case b, ok := <-lines:
			if !ok {
				break loop
			}
			d.line(b, stop)
		case <-exit:
			break loop
		}
	}
	d.shutdown()
}

// line parses one op and handles it on its own goroutine: a connect that
// walks slow brokers never holds up other clients' ops or the reader.
func (d *Driver) line(b []byte, stop func()) {
	if len(strings.TrimSpace(string(b))) == 0 {
		return
	}
	var o op
	if err := json.Unmarshal(b, &o); err != nil {
		d.out.send(event{Type: "error", Text: "driver: bad op line: " + err.Error()})
		return
	}
	if o.ID == nil {
		d.out.send(event{Type: "error", Text: "driver: op without an id: " + trunc(string(b), 200), Client: o.Client})
		return
	}
	switch o.Op {
	case "probe": // the harness's lag probe: answered at once, from the reader
		d.out.send(reply{Re: *o.ID, OK: true})
		return
	case "exit":
		d.mu.Lock()
		d.exiting = true
		d.mu.Unlock()
		d.out.send(reply{Re: *o.ID, OK: true})
		stop()
		return
	}
	d.mu.Lock()
	if d.exiting {
		d.mu.Unlock()
		d.out.send(reply{Re: *o.ID, OK: false, Error: "driver is exiting"})
		return
	}
	d.wg.Add(1)
	d.mu.Unlock()
	go func() {
		defer d.wg.Done()
		r := d.do(o)
		r.Re = *o.ID
		d.out.send(r)
	}()
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// shutdown closes every session together, bounded, and flushes the output.
func (d *Driver) shutdown() {
	d.mu.Lock()
	d.exiting = true
	all := make([]*session, 0, len(d.sessions))
	for _, s := range d.sessions {
		all = append(all, s)
	}
	d.mu.Unlock()
	done, opsDone := make(chan struct{}), make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, s := range all {
			wg.Add(1)
			go func() { defer wg.Done(); s.close() }()
		}
		wg.Wait()
		close(done)
	}()
	go func() { <-done; d.wg.Wait(); close(opsDone) }()
	select {
	case <-opsDone:
	case <-time.After(exitWait):
	}
	flushed := make(chan struct{})
	go func() { d.out.flush(); close(flushed) }()
	select {
	case <-flushed:
	case <-time.After(time.Second):
	}
}

func index(o op) int {
	if o.Client != nil {
		return *o.Client
	}
	return -1
}

func (d *Driver) slot(o op) *session {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sessions[index(o)]
}

func clientOf(s *session) mqtt.Client {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cl
}

func (d *Driver) do(o op) reply {
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

// sendCount is the send numbering of the op's client.
func (d *Driver) sendCount(o op) *sendCount {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.sent[index(o)]
	if c == nil {
		c = &sendCount{}
		d.sent[index(o)] = c
	}
	return c
}

// clientID is the session's MQTT client id, fl-<driver>-<client index>:
// stable for the client's whole life, so a kept session can be resumed.
func (d *Driver) clientID(o op) string {
	num, _ := strconv.ParseInt(d.getenv("FAULTLINE_DRIVER"), 10, 64)
	if o.Driver != 0 {
		num = o.Driver
	}
	k := int64(index(o))
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
	k := index(o)
	d.mu.Lock()
	if old := d.sessions[k]; old != nil {
		old.mu.Lock()
		busy := !isClosed(old.state)
		old.mu.Unlock()
		if busy {
			d.mu.Unlock()
			return reply{Error: "already connected"}
		}
	}
	d.sessions[k] = s
	d.mu.Unlock()

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
	if state == stRecovering && s.resubscribe {
		s.pending[o.Topic] = true
	}
	s.mu.Unlock()
	switch {
	case state == stRecovering && s.resubscribe:
		return reply{OK: true}
	case state != stActive:
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
		recovering := s.state == stRecovering && s.resubscribe
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
	sc := d.sendCount(o)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	n := sc.n + 1
	tok, ok := within(opWait, func() mqtt.Token { return cl.Publish(topic, s.qos, false, numbered(n, o.Payload)) })
	if !ok {
		// paho may still take it later: its number is spent.
		sc.n = n
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
	sc.n = n
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

// numbered is what a send publishes: {"n": n, "payload": <the op's
// payload as given>} (the payload key left out when the op has none), so
// that the broker's receive records the client's send number n as its Seq.
func numbered(n int64, p json.RawMessage) []byte {
	v := struct {
		N       int64           `json:"n"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}{N: n}
	if len(p) > 0 && string(p) != "null" && json.Valid(p) {
		v.Payload = p
	}
	b, _ := json.Marshal(v)
	return b
}

// seqOf is a message's number: the payload JSON {"n":N} or {"seq":N}, or a
// bare integer; else 0.
func seqOf(b []byte) int64 {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if dec.Decode(&v) != nil || dec.More() {
		return 0
	}
	if m, ok := v.(map[string]any); ok {
		v = m["n"]
		if v == nil {
			v = m["seq"]
		}
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
	}
	return 0
}
