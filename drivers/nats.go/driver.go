package main

import (
	"fmt"
	"io"
	"math/rand"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"github.com/nats-io/nats.go"
)

// Sessions is how many clients one process hosts (the hello's "sessions"):
// more than any scenario's clients, so a run needs one process.
const Sessions = 4096

// defaultSubject is where a send without a topic is published.
const defaultSubject = "faultline"

// Driver hosts the sessions of one process.
type Driver struct {
	out    *kit.Output
	getenv func(string) string

	sessions kit.Table[*session] // by client index (-1 the default session)
	// sent numbers each client's sends (kit.SendCount): nats.go took a
	// send when Publish returned nil; a send is published as kit.Numbered.
	sent kit.SendCounts
}

// The driver's line types (kit's, with nats.go's contract).
type (
	op    = kit.Op
	reply = kit.Reply[Contract]
	event = kit.Event
)

// New is a driver writing its lines to w; getenv gives FAULTLINE_SEED and
// FAULTLINE_DRIVER (os.Getenv in main).
func New(w io.Writer, getenv func(string) string) *Driver {
	return &Driver{out: kit.NewOutput(w), getenv: getenv}
}

// Hello is the driver's first line.
func Hello() any {
	return kit.Hello[Contract]{
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
// the end of in; then it closes every session (bounded) and returns
// (kit.Serve).
func (d *Driver) Serve(in io.Reader) { kit.Serve[Contract](in, d.out, Hello(), d) }

// CloseAll closes every session together (kit.Serve's shutdown).
func (d *Driver) CloseAll() { d.sessions.CloseAll((*session).close) }

func (d *Driver) slot(o op) *session { return d.sessions.Get(o.Index()) }

// Do handles one op on its own goroutine (kit.Serve).
func (d *Driver) Do(o op) reply {
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
			s.event(event{Type: "message", Topic: m.Subject, Seq: kit.SeqOf(m.Data)})
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
		sc := d.sent.For(o.Index())
		sc.Lock()
		defer sc.Unlock()
		n := sc.N + 1
		if err := nc.Publish(subj, kit.Numbered(n, o.Payload)); err != nil {
			s.errorf("nats.go Publish on %s: send discarded: %v", subj, err)
			return reply{Error: "nats.go Publish: " + err.Error()}
		}
		sc.N = n
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
	k := o.Index()
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
	if !d.sessions.Put(k, s, (*session).busy) {
		return reply{Error: "already connected"}
	}

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
