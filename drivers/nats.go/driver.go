package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Sessions is how many clients one process hosts (the hello's "sessions"):
// more than any scenario's clients, so a run needs one process.
const Sessions = 4096

// exitWait bounds the close of every session on exit (they close together).
const exitWait = 3 * time.Second

// defaultSubject is where a send without a topic is published.
const defaultSubject = "faultline"

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

// sendCount numbers a client's sends: n is how many sends nats.go took
// (Publish returned nil) for this client, over all its connects. A send
// is published as {"n": n, "payload": <the op's payload>}, so that the
// server's receive carries the client's send number (its Seq), as
// faultline's own engine numbers its sends: a refused send takes no number.
// mu is held across the Publish: sends of one client are numbered in the
// order nats.go took them.
type sendCount struct {
	mu sync.Mutex
	n  int64
}

// New is a driver writing its lines to w; getenv gives FAULTLINE_SEED and
// FAULTLINE_DRIVER (os.Getenv in main).
func New(w io.Writer, getenv func(string) string) *Driver {
	return &Driver{out: newOutput(w), getenv: getenv, sessions: map[int]*session{}, sent: map[int]*sendCount{}}
}

// Hello is the driver's first line.
func Hello() any {
	return hello{
		SDK: "nats.go", Version: "v" + nats.Version, Protocol: "nats",
		// migration: with options.migration.enabled (the scenarios' default)
		// the driver moves the connection on a server's lame duck notice
		// (LameDuckModeHandler → nc.ForceReconnect(), session.go); the
		// effective contract's lame_duck term says whether it does.
		Features: []string{"reconnect", "failover", "load_balancing", "cascading", "discovery", "migration"},
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
// walks slow servers never holds up other clients' ops or the reader.
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
		// Nothing to reply to: a reply needs the op's id.
		d.out.send(event{Type: "error", Text: "driver: op without an id: " + trunc(string(b), 200), Client: o.Client})
		return
	}
	if o.Op == "exit" {
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
	// Then the replies of ops still under way (a connect closed above
	// returns at once; a slow one is cut off by the bound).
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

func (d *Driver) slot(o op) *session {
	k := -1
	if o.Client != nil {
		k = *o.Client
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sessions[k]
}

func (d *Driver) do(o op) reply {
	if o.Client != nil && *o.Client < 0 {
		return reply{Error: fmt.Sprintf("bad client %d: want an index >= 0", *o.Client)}
	}
	switch o.Op {
	case "connect":
		return d.connect(o)
	case "subscribe":
		s := d.slot(o)
		nc := connOf(s)
		if nc == nil {
			return reply{Error: "not connected"}
		}
		if o.Topic == "" {
			return reply{Error: "subscribe: no topic"}
		}
		topic := o.Topic
		if _, err := nc.Subscribe(topic, func(m *nats.Msg) {
			s.event(event{Type: "message", Topic: m.Subject, Seq: seqOf(m.Data)})
		}); err != nil {
			return reply{Error: "nats.go Subscribe: " + err.Error()}
		}
		return reply{OK: true}
	case "send":
		s := d.slot(o)
		nc := connOf(s)
		if nc == nil {
			return reply{Error: "not connected"}
		}
		subj := o.Topic
		if subj == "" {
			subj = defaultSubject
		}
		sc := d.sendCount(o)
		sc.mu.Lock()
		defer sc.mu.Unlock()
		n := sc.n + 1
		if err := nc.Publish(subj, numbered(n, o.Payload)); err != nil {
			s.errorf("nats.go Publish on %s: send discarded: %v", subj, err)
			return reply{Error: "nats.go Publish: " + err.Error()}
		}
		sc.n = n
		return reply{OK: true}
	case "close":
		s := d.slot(o)
		if connOf(s) == nil {
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
	k := -1
	if o.Client != nil {
		k = *o.Client
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.sent[k]
	if c == nil {
		c = &sendCount{}
		d.sent[k] = c
	}
	return c
}

func connOf(s *session) *nats.Conn {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nc
}

func (d *Driver) connect(o op) reply {
	if len(o.Servers) == 0 {
		return reply{Error: "connect: no servers"}
	}
	k := -1
	if o.Client != nil {
		k = *o.Client
	}
	// The client's random stream (the exponential strategy's jitter) comes
	// from the run's seed and its driver number, whatever the packing.
	seed, _ := strconv.ParseInt(d.getenv("FAULTLINE_SEED"), 10, 64)
	if o.Seed != nil {
		seed = *o.Seed
	}
	num, _ := strconv.ParseInt(d.getenv("FAULTLINE_DRIVER"), 10, 64)
	if o.Driver != 0 {
		num = o.Driver
	}
	name := "faultline-c" + strconv.Itoa(max(k, 0))
	if k < 0 && num > 0 {
		name = "faultline-c" + strconv.FormatInt(num-1, 10)
	}
	rnd := &lockedRand{r: rand.New(rand.NewSource(seed*1_000_003 + num))}
	p, err := planFor(o.Servers, o.Options, name, rnd)
	if err != nil {
		return reply{Error: err.Error()}
	}
	s := &session{d: d, client: o.Client, name: name, urls: urlMap(o.Servers), servers: o.Servers,
		reconnect: p.reconnect, migrate: p.migrate, closed: make(chan struct{}), connected: make(chan struct{})}
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

	opts := append(append([]nats.Option{}, p.opts...), s.callbacks()...)
	opts = append(opts, nats.SetCustomDialer(&dialer{s: s, timeout: p.timeout}))
	nc, err := nats.Connect(strings.Join(o.Servers, ","), opts...)
	if err != nil {
		s.connectFailed(err)
		return reply{Error: "nats.Connect: " + err.Error(), Contract: p.contract}
	}
	s.mu.Lock()
	s.nc = nc
	closing := s.closing
	s.mu.Unlock()
	if closing { // exit came during the connect
		nc.Close()
		return reply{Error: "closed during connect", Contract: p.contract}
	}
	// Answer once CONNECTED_ACTIVE is reported (ConnectedCB, queued by
	// nats.go right after Connect returned), bounded.
	select {
	case <-s.connected:
	case <-time.After(closeWait):
	}
	return reply{OK: true, Contract: p.contract}
}

// numbered is what a send publishes: {"n": n, "payload": <the op's
// payload as given>} (the payload key left out when the op has none), so
// that the server's receive records the client's send number n as its Seq
// (packs/nats/EVENTS.md, receive).
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
