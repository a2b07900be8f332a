package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// Sessions is how many clients one process hosts (the hello's "sessions"):
// each its own grpc.ClientConn, so more than any scenario's clients.
const Sessions = 4096

// Version is the grpc-go version the driver is built with (go.mod).
const Version = "v1.85.0"

// target is what every channel dials: the manual resolver's scheme (each
// channel has its own resolver, grpc.WithResolvers) and an authority.
const (
	scheme = "faultline"
	target = scheme + ":///feed"
)

// Driver hosts the sessions of one process.
type Driver struct {
	out    *kit.Output
	getenv func(string) string
	extra  extras

	sessions kit.Table[*session] // by client index (-1 the default session)
	// sent numbers each client's sends (kit.SendCount); a send is
	// published as kit.Numbered.
	sent kit.SendCounts
}

// The driver's line types (kit's, with grpc-go's contract).
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

// Hello is the driver's first line.
func Hello() any {
	return kit.Hello[Contract]{
		SDK: "grpc-go", Version: Version, Protocol: "grpc",
		// reconnect: the back-off of every subchannel; failover: after a
		// loss the pass walks the list from the top; load_balancing:
		// pick_first's shuffleAddressList; cascading: the first pass (happy
		// eyeballs); routing: round_robin (client.library.grpc.lb_policy)
		// spreads RPCs over the READY backends, skips lost ones and takes
		// resolver updates (discovery ops): T1, T2, T6 as ROUTING.md says;
		// migration: at a server's GOAWAY the channel moves its new RPCs to
		// a new connection (M6; no server names a target).
		Features: []string{"reconnect", "failover", "load_balancing", "cascading", "routing", "migration"},
		Sessions: Sessions, Contract: builtin(),
	}
}

// Serve writes the hello, then handles ops from in until an exit op or
// the end of in; then it closes every session (bounded) and returns
// (kit.Serve). The ops pass the driver's extras reader first (extras.go).
func (d *Driver) Serve(in io.Reader) {
	r, stop := d.extra.tee(in)
	defer stop()
	kit.Serve[Contract](r, d.out, Hello(), d)
}

// CloseAll closes every session together (kit.Serve's shutdown).
func (d *Driver) CloseAll() { d.sessions.CloseAll((*session).close) }

func (d *Driver) slot(o op) *session { return d.sessions.Get(o.Index()) }

// Do handles one op on its own goroutine (kit.Serve).
func (d *Driver) Do(o op) reply {
	x := d.extra.take(*o.ID)
	if o.Client != nil && *o.Client < 0 {
		return reply{Error: fmt.Sprintf("bad client %d: want an index >= 0", *o.Client)}
	}
	if o.Op == "connect" {
		return d.connect(o)
	}
	s := d.slot(o)
	if s == nil || s.conn() == nil {
		if o.Op == "subscribe" || o.Op == "send" || o.Op == "close" || o.Op == "request" || o.Op == "cancel" {
			return reply{Error: "not connected"}
		}
		return reply{Error: fmt.Sprintf("unknown op %q", o.Op)}
	}
	switch o.Op {
	case "subscribe":
		if o.Topic == "" {
			return reply{Error: "subscribe: no topic"}
		}
		if !s.busy() {
			return reply{Error: "not connected (closed)"}
		}
		if err := s.subscribe(o.Topic); err != nil {
			return reply{Error: "grpc-go Subscribe: " + err.Error()}
		}
		return reply{OK: true}
	case "send":
		return d.send(o, s)
	case "request":
		if x.Rows < 1 {
			return reply{Error: "request: rows must be at least 1"}
		}
		if err := s.request(*o.ID, x.Rows); err != nil {
			return reply{Error: "grpc-go Rows: " + err.Error()}
		}
		return reply{OK: true}
	case "cancel":
		if err := s.cancelRequest(x.Request); err != nil {
			return reply{Error: "cancel: " + err.Error()}
		}
		return reply{OK: true}
	case "close":
		s.close()
		return reply{OK: true}
	case "discovery.add", "discovery.remove": // discovery.go
		return d.discover(o, s)
	default:
		return reply{Error: fmt.Sprintf("unknown op %q", o.Op)}
	}
}

// clientName is the client's name on the wire (metadata faultline-client
// and Hello's argument): c<client index>; a process of one client takes
// its index from its driver number (FAULTLINE_DRIVER, 1-based).
func (d *Driver) clientName(o op) string {
	k := int64(o.Index())
	if k < 0 {
		num, _ := strconv.ParseInt(d.getenv("FAULTLINE_DRIVER"), 10, 64)
		if o.Driver != 0 {
			num = o.Driver
		}
		k = max(num-1, 0)
	}
	return "c" + strconv.FormatInt(k, 10)
}

func (d *Driver) connect(o op) reply {
	if len(o.Servers) == 0 {
		return reply{Error: "connect: no servers"}
	}
	eps := make([]resolver.Endpoint, 0, len(o.Servers))
	for _, u := range o.Servers {
		a := hostPort(u)
		if a == "" {
			return reply{Error: fmt.Sprintf("connect: bad server URL %q (want grpc://host:port)", u)}
		}
		eps = append(eps, resolver.Endpoint{Addresses: []resolver.Address{{Addr: a}}})
	}
	name := d.clientName(o)
	p, err := planFor(o.Servers, o.Options, name)
	if err != nil {
		return reply{Error: err.Error()}
	}
	s := newSession(d, o.Client, name, p, o.Servers)
	if !d.sessions.Put(o.Index(), s, (*session).busy) {
		return reply{Error: "already connected"}
	}

	// The servers in list order, one endpoint each, through a resolver of
	// this channel's own.
	r := manual.NewBuilderWithScheme(scheme)
	r.InitialState(resolver.State{Endpoints: eps})
	d.trackDiscovery(s, r, o.Servers) // discovery.go
	opts := append(append([]grpc.DialOption{}, p.opts...),
		grpc.WithResolvers(r),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(s.dial),
		grpc.WithStatsHandler(statsHandler{s}),
	)
	cc, err := grpc.NewClient(target, opts...)
	if err != nil {
		s.fail("grpc.NewClient: "+err.Error(), "NewClient")
		return reply{Error: "grpc.NewClient: " + err.Error(), Contract: p.contract}
	}
	s.mu.Lock()
	s.cc = cc
	closing := s.closing
	s.mu.Unlock()
	if closing { // exit came before the channel existed
		cc.Close()
		return reply{Error: "closed during connect", Contract: p.contract}
	}
	go s.run()
	go s.watch(cc)
	cc.Connect() // NewClient starts IDLE

	// Answer once CONNECTED_ACTIVE (or the first pass failed). grpc-go's
	// first pass always ends, each attempt having its deadline; the bound
	// is a safeguard against a channel that never concludes.
	bound := firstPassBound(p, len(o.Servers))
	select {
	case <-s.connected:
	case <-s.closed:
	case <-time.After(bound):
		s.fail(fmt.Sprintf("driver: the channel neither READY nor TRANSIENT_FAILURE within %v (state %s)", bound, cc.GetState()), cc.GetState().String())
	}
	s.mu.Lock()
	ever, failErr := s.everActive, s.failErr
	s.mu.Unlock()
	switch {
	case ever:
		return reply{OK: true, Contract: p.contract}
	case failErr != "":
		return reply{Error: failErr, Contract: p.contract}
	default:
		return reply{Error: "closed during connect", Contract: p.contract}
	}
}

// firstPassBound is how long the first connect may take at most: every
// address's attempt deadline (max(MinConnectTimeout, BaseDelay)) in turn,
// the happy-eyeballs steps, the Hello, and a margin.
func firstPassBound(p *plan, n int) time.Duration {
	per := max(p.cp.MinConnectTimeout, p.cp.Backoff.BaseDelay)
	return time.Duration(n)*(per+happyEyeballs) + 2*helloWait + 5*time.Second
}

// send calls Send with {"n": N, "payload": …} and answers once grpc-go
// took it: when its request was written to a connection (the stats
// handler's OutPayload), so that the reply's moment, and the state then,
// name the connection that carried it (publish_fate judges by them); the
// RPC's own end follows as an error event if it fails. Not ok when the RPC
// failed before any connection took it (fail-fast UNAVAILABLE, the
// deadline while reconnecting): a refused send takes no number.
func (d *Driver) send(o op, s *session) reply {
	cc := s.conn()
	sc := d.sent.For(o.Index())
	sc.Lock()
	defer sc.Unlock()
	n := sc.N + 1
	w := newWriteMark()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithValue(s.ctx, sentKey{}, w), opWait)
		defer cancel()
		_, err := send(ctx, cc, s.name, kit.Numbered(n, o.Payload))
		done <- err
	}()
	var err error
	select {
	case <-w.ch:
		go func() {
			if err := <-done; err != nil && s.ctx.Err() == nil {
				s.errorf("grpc-go Send n=%d: written to a connection, then failed: %v", n, err)
			}
		}()
		sc.N = n
		return reply{OK: true}
	case err = <-done:
	}
	if err == nil || w.marked() { // done first, written all the same
		sc.N = n
		if err != nil {
			s.errorf("grpc-go Send n=%d: written to a connection, then failed: %v", n, err)
		}
		return reply{OK: true}
	}
	s.errorf("grpc-go Send n=%d: refused before any connection took it: %v", n, err)
	return reply{Error: "grpc-go Send: " + err.Error()}
}
