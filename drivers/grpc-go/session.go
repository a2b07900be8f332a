package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

const (
	// helloWait bounds the Hello RPC made on each READY.
	helloWait = 3 * time.Second
	// subWait bounds how long a subscribe waits for the server's response
	// headers (the stream is registered) before it is answered anyway.
	subWait = time.Second
	// opWait bounds a Send RPC, and the opening of a Rows stream, below the
	// harness's default op timeout (10 s).
	opWait = 5 * time.Second
)

// sigKind is what a signal of the session's loop reports.
type sigKind int

const (
	sigState     sigKind = iota // the channel's state (cc.GetState() after WaitForStateChange())
	sigConnBegin                // a transport began (stats.ConnBegin)
	sigConnEnd                  // a transport ended (stats.ConnEnd)
)

type signal struct {
	kind          sigKind
	st            connectivity.State
	local, remote string
}

// connInfo is one transport the stats handler reported.
type connInfo struct {
	seq   int64
	url   string
	ended bool
}

// sub is one open Subscribe stream.
type sub struct {
	cancel context.CancelFunc
	on     string // the connection CONNECTED_ACTIVE named when it was opened
}

// request is one open Rows stream.
type request struct {
	cancel    context.CancelFunc
	cancelled atomic.Bool
}

// session is one client's grpc.ClientConn and its lifecycle as reported
// to the harness. Every lifecycle decision is made by one goroutine (run),
// from the signals of the state watcher and the stats handler, in the
// order they were queued; the dialer and the ops only report and read.
// s.mu is never held while calling into grpc-go.
type session struct {
	d       *Driver
	client  *int
	name    string
	plan    *plan
	urls    map[string]string
	servers []string

	ctx    context.Context // ends with the session
	cancel context.CancelFunc

	qmu   sync.Mutex
	queue []signal
	wake  chan struct{}

	mu         sync.Mutex
	cc         *grpc.ClientConn
	state      string
	server     string // the server of the last state (the lost one while recovering)
	sess       string
	lastDial   string
	firstDials map[string]bool // the addresses dialed during the first connect
	active     string          // local address of the connection CONNECTED_ACTIVE names
	conns      map[string]*connInfo
	connSeq    int64
	everActive bool
	closing    bool
	failErr    string // the first connect's failure, for its reply
	topics     []string
	subs       map[string]*sub
	reqs       map[int64]*request
	connected  chan struct{}
	closed     chan struct{}
}

func newSession(d *Driver, client *int, name string, p *plan, servers []string) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{d: d, client: client, name: name, plan: p, urls: urlMap(servers), servers: servers,
		ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1),
		conns: map[string]*connInfo{}, firstDials: map[string]bool{}, subs: map[string]*sub{}, reqs: map[int64]*request{},
		connected: make(chan struct{}), closed: make(chan struct{})}
}

func (s *session) event(e event) {
	e.Client = s.client
	s.d.out.Send(e)
}

func (s *session) errorf(format string, a ...any) {
	s.event(event{Type: "error", Text: fmt.Sprintf(format, a...)})
}

// moveLocked reports a state change, keeping the lifecycle rule: nothing
// after a close, no repeated state, only legal transitions. s.mu is held.
func (s *session) moveLocked(to, native, server, sess, reason string) bool {
	from := s.state
	if kit.IsClosed(from) || from == to {
		return false
	}
	if s.closing && (to == kit.Active || to == kit.Recovering) {
		return false // a close under way: only its closed state follows
	}
	if !kit.Legal(from, to) {
		fmt.Fprintf(os.Stderr, "grpc-go driver: client %s: dropped %s -> %s (%s)\n", kit.Label(s.client), from, to, native)
		return false
	}
	if server != "" {
		s.server = server
	}
	if sess != "" || to == kit.Connecting || to == kit.Active {
		s.sess = sess
	}
	s.state = to
	s.event(event{Type: "state", From: from, To: to, Phase: kit.Phase(to), Native: native, Server: s.server, Session: s.sess, Reason: reason})
	switch {
	case to == kit.Active:
		s.everActive = true
		kit.CloseOnce(s.connected)
	case kit.IsClosed(to):
		kit.CloseOnce(s.closed)
	}
	return true
}

func (s *session) move(to, native, server, sess, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.moveLocked(to, native, server, sess, reason)
}

// busy tells a session still open or opening: a connect for its client is
// refused ("already connected").
func (s *session) busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !kit.IsClosed(s.state) && !s.closing
}

func (s *session) urlForLocked(addr string) string {
	if u, ok := s.urls[addr]; ok {
		return u
	}
	return "grpc://" + addr
}

func (s *session) urlFor(addr string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.urlForLocked(addr)
}

func (s *session) conn() *grpc.ClientConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cc
}

// dialing is called by the dialer before each dial: the first one opens
// the session (CONNECTING names the server grpc-go tries first).
func (s *session) dialing(u string) {
	s.mu.Lock()
	s.lastDial = u
	if s.state == "" && !s.closing {
		s.moveLocked(kit.Connecting, "CONNECTING", u, "", "")
	}
	s.mu.Unlock()
	s.event(event{Type: "dial", Server: u})
}

// push queues a signal for run; it never blocks (its callers are grpc-go's
// goroutines).
func (s *session) push(sig signal) {
	s.qmu.Lock()
	s.queue = append(s.queue, sig)
	s.qmu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *session) next() (signal, bool) {
	for {
		s.qmu.Lock()
		if len(s.queue) > 0 {
			sig := s.queue[0]
			s.queue = s.queue[1:]
			s.qmu.Unlock()
			return sig, true
		}
		s.qmu.Unlock()
		select {
		case <-s.wake:
		case <-s.ctx.Done():
			return signal{}, false
		}
	}
}

// watch queues the channel's state at every change it sees.
// WaitForStateChange() coalesces: a state that came and went while the
// watcher was away is never seen, which the stats handler's signals make
// up for (run).
func (s *session) watch(cc *grpc.ClientConn) {
	st := cc.GetState()
	for {
		s.push(signal{kind: sigState, st: st})
		if st == connectivity.Shutdown || !cc.WaitForStateChange(s.ctx, st) {
			return
		}
		st = cc.GetState()
	}
}

// run makes every lifecycle decision, in the order the signals came.
func (s *session) run() {
	for {
		sig, ok := s.next()
		if !ok {
			return
		}
		switch sig.kind {
		case sigState:
			s.onState(sig.st)
		case sigConnBegin:
			s.mu.Lock()
			s.connSeq++
			s.conns[sig.local] = &connInfo{seq: s.connSeq, url: s.urlForLocked(sig.remote)}
			s.mu.Unlock()
		case sigConnEnd:
			s.onConnEnd(sig.local, sig.remote)
		}
	}
}

func (s *session) onState(st connectivity.State) {
	native := st.String()
	s.mu.Lock()
	cur, stop := s.state, s.closing || kit.IsClosed(s.state)
	s.mu.Unlock()
	if stop || st == connectivity.Shutdown {
		return
	}
	switch st {
	case connectivity.Idle:
		switch cur {
		case "": // NewClient's IDLE, before the connect's cc.Connect()
		case kit.Connecting:
			// The first connect asks (grpc-go #7862: a subchannel may go
			// CONNECTING -> IDLE, and pick_first goes IDLE with it).
			s.cc.Connect()
		default:
			if cur == kit.Active {
				s.move(kit.Recovering, native, "", "", "")
			}
			if s.plan.idleConnect {
				s.cc.Connect()
			}
		}
	case connectivity.Connecting:
		// Before the first dial the session stays unopened: the dialer
		// opens it naming the server grpc-go tries first (after its
		// shuffle, if any).
		if cur == kit.Active {
			s.move(kit.Recovering, native, "", "", "")
		}
	case connectivity.TransientFailure:
		switch cur {
		case kit.Connecting:
			s.firstPassFailed()
		case kit.Active:
			s.move(kit.Recovering, native, "", "", "")
		}
		if cur != kit.Connecting {
			s.errorf("grpc-go: channel TRANSIENT_FAILURE (every address failed since the last READY)")
		}
	case connectivity.Ready:
		s.mu.Lock()
		if s.state == kit.Active {
			if !s.activeGoneLocked() {
				s.mu.Unlock()
				return
			}
			// READY again, seen after the watcher missed the states in
			// between: the connection CONNECTED_ACTIVE names is gone.
			s.moveLocked(kit.Recovering, native+" (new connection)", "", "", "")
		}
		s.mu.Unlock()
		s.activate()
	}
}

// activeGoneLocked tells whether the connection CONNECTED_ACTIVE names is
// no longer the channel's: it ended, or (pick_first: one transport at a
// time) a later one began and is still up. s.mu is held.
func (s *session) activeGoneLocked() bool {
	a := s.conns[s.active]
	if a == nil {
		return false
	}
	if a.ended {
		return true
	}
	if s.plan.lb != pickFirst {
		return false
	}
	for _, c := range s.conns {
		if c.seq > a.seq && !c.ended {
			return true
		}
	}
	return false
}

func (s *session) onConnEnd(local, remote string) {
	s.mu.Lock()
	c := s.conns[local]
	if c != nil {
		c.ended = true
	}
	url := s.urlForLocked(remote)
	lost := !s.closing && s.state == kit.Active && s.active == local
	if lost {
		s.moveLocked(kit.Recovering, "ConnEnd", "", "", "")
	}
	if local != s.active {
		delete(s.conns, local)
	}
	other := false // another transport is up (round_robin's other children)
	for k, c := range s.conns {
		other = other || (k != local && !c.ended)
	}
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return
	}
	s.errorf("grpc-go stats ConnEnd: connection %s -> %s ended", local, url)
	// The channel's state follows the transport's end through the
	// balancer's serializer, so READY here may be stale: a Hello on it
	// would pick the dead transport, fall back to pick_first's idlePicker
	// and ask for a reconnection itself. Only with another transport up is
	// READY the channel's own; otherwise the watcher's next state decides.
	if lost && other && s.cc.GetState() == connectivity.Ready {
		s.activate()
	}
}

// activate calls Hello on the READY channel and reports CONNECTED_ACTIVE
// with the session the server answered, then re-opens the subscriptions.
func (s *session) activate() {
	// A queued READY may be stale: a Hello on a channel gone IDLE would
	// itself ask pick_first to reconnect (idlePicker.Pick() -> ExitIdle()).
	if s.cc.GetState() != connectivity.Ready {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, helloWait)
	sess, p, err := hello(ctx, s.cc, s.name)
	cancel()
	s.activated(sess, p, err)
}

// activated reports the end of a Hello: CONNECTED_ACTIVE when it worked or
// the channel is READY all the same (a server without the Feed service: no
// session), nothing when the connection went meanwhile (the next READY
// tries again).
func (s *session) activated(sess string, p *peer.Peer, err error) bool {
	if s.ctx.Err() != nil {
		return false
	}
	if err != nil {
		s.errorf("driver: Hello on READY: %v", err)
		if s.cc.GetState() != connectivity.Ready {
			return false
		}
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return false
	}
	srv, local := s.lastDial, ""
	if p.Addr != nil {
		srv = s.urlForLocked(p.Addr.String())
	}
	if p.LocalAddr != nil {
		local = p.LocalAddr.String()
	}
	if s.state == "" {
		s.moveLocked(kit.Connecting, "CONNECTING", srv, "", "")
	}
	s.active = local
	ok := s.moveLocked(kit.Active, connectivity.Ready.String(), srv, sess, "")
	var reopen []string
	if ok {
		for _, t := range s.topics {
			if s.subs[t] == nil {
				reopen = append(reopen, t)
			}
		}
	}
	s.mu.Unlock()
	for _, t := range reopen {
		s.openSub(t, nil)
	}
	return ok
}

// firstPassFailed ends the first connect at the channel's first
// TRANSIENT_FAILURE (every address failed once): a fail-fast Hello gives
// grpc-go's own error (the last address's, pickfirst.go), or, if the
// channel became READY meanwhile, the session.
func (s *session) firstPassFailed() {
	ctx, cancel := context.WithTimeout(s.ctx, helloWait)
	sess, p, err := hello(ctx, s.cc, s.name)
	cancel()
	if err == nil {
		s.activated(sess, p, nil)
		return
	}
	s.fail("grpc-go: first connect failed: "+err.Error(), connectivity.TransientFailure.String())
}

// fail closes the channel after a failed first connect: CLOSED_FAILED.
func (s *session) fail(text, native string) {
	s.mu.Lock()
	if s.closing || kit.IsClosed(s.state) || s.everActive {
		s.mu.Unlock()
		return
	}
	s.closing = true
	s.failErr = text
	if s.state == "" {
		first := s.servers[0]
		s.moveLocked(kit.Connecting, "CONNECTING", first, "", "")
	}
	srv := s.lastDial
	cc := s.cc
	s.mu.Unlock()
	s.errorf("%s", text)
	if cc != nil {
		cc.Close()
	}
	s.cancel()
	s.move(kit.ClosedFailed, native, srv, "", "connection_error")
}

// close closes the session deliberately (cc.Close(): SHUTDOWN), so the
// reply follows the CLOSED_BY_CLIENT event.
func (s *session) close() {
	s.mu.Lock()
	if kit.IsClosed(s.state) || s.closing {
		s.mu.Unlock()
		<-s.closedOrTimeout()
		return
	}
	s.closing = true
	cc := s.cc
	s.mu.Unlock()
	if cc != nil {
		cc.Close()
	}
	s.cancel()
	s.mu.Lock()
	if s.state == "" { // exit during a connect that had not dialed yet
		s.moveLocked(kit.Connecting, "CONNECTING", s.servers[0], "", "")
	}
	s.moveLocked(kit.ClosedByClient, connectivity.Shutdown.String(), "", "", "closed_by_client")
	s.mu.Unlock()
}

// closedOrTimeout waits (bounded) for a close under way elsewhere.
func (s *session) closedOrTimeout() <-chan struct{} {
	c := make(chan struct{})
	go func() {
		select {
		case <-s.closed:
		case <-time.After(helloWait):
		}
		close(c)
	}()
	return c
}

// openSub opens topic's Subscribe stream unless it is open; ready (if not
// nil, buffered) gets the open's outcome: nil once the server answered the
// stream's headers.
func (s *session) openSub(topic string, ready chan<- error) {
	s.mu.Lock()
	if s.closing || s.subs[topic] != nil {
		s.mu.Unlock()
		if ready != nil {
			ready <- nil
		}
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	me := &sub{cancel: cancel, on: s.active}
	s.subs[topic] = me
	cc := s.cc
	s.mu.Unlock()
	go s.runSub(ctx, me, cc, topic, ready)
}

func (s *session) runSub(ctx context.Context, me *sub, cc *grpc.ClientConn, topic string, ready chan<- error) {
	defer me.cancel()
	st, err := subscribe(ctx, cc, s.name, topic)
	if err == nil {
		_, err = st.Header() // the server's response headers: the stream is up
	}
	if ready != nil {
		ready <- err
	}
	for err == nil {
		var seq uint64
		if seq, err = recvSeq(st); err == nil {
			s.event(event{Type: "message", Topic: topic, Seq: int64(seq)})
		}
	}
	s.mu.Lock()
	if s.subs[topic] == me {
		delete(s.subs, topic)
	}
	closing := s.closing
	// Ended after the session was CONNECTED_ACTIVE again on another
	// connection (its re-opening skipped this one, still open then).
	again := !closing && s.state == kit.Active && s.active != me.on
	s.mu.Unlock()
	if closing || ctx.Err() != nil {
		return
	}
	s.errorf("grpc-go Subscribe %s ended: %v", topic, err)
	if again {
		s.openSub(topic, nil)
	}
}

// subscribe keeps topic (re-opened on every CONNECTED_ACTIVE) and opens
// its stream now when the session is CONNECTED_ACTIVE.
func (s *session) subscribe(topic string) error {
	s.mu.Lock()
	known := false
	for _, t := range s.topics {
		known = known || t == topic
	}
	if !known {
		s.topics = append(s.topics, topic)
	}
	state := s.state
	s.mu.Unlock()
	if state != kit.Active {
		return nil // opened on the next CONNECTED_ACTIVE
	}
	ready := make(chan error, 1)
	s.openSub(topic, ready)
	select {
	case err := <-ready:
		if err != nil && s.ctx.Err() == nil {
			return err
		}
	case <-time.After(subWait):
	}
	return nil
}

// request opens a Rows stream for request id (the op's id): row events as
// rows arrive, then done; a cancel op cancels its context (RST_STREAM),
// acknowledged by done with cancelled.
func (s *session) request(id, n int64) error {
	s.mu.Lock()
	if s.closing || kit.IsClosed(s.state) {
		s.mu.Unlock()
		return errors.New("not connected")
	}
	if s.reqs[id] != nil {
		s.mu.Unlock()
		return fmt.Errorf("request %d is open already", id)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	rq := &request{cancel: cancel}
	s.reqs[id] = rq
	cc := s.cc
	s.mu.Unlock()
	timer := time.AfterFunc(opWait, cancel) // the open is bounded, not the stream
	st, err := rows(ctx, cc, s.name, id, uint64(n))
	if !timer.Stop() && err == nil {
		err = fmt.Errorf("not opened within %v", opWait)
	}
	if err != nil {
		cancel()
		s.mu.Lock()
		delete(s.reqs, id)
		s.mu.Unlock()
		return err
	}
	go func() {
		defer cancel()
		var err error
		for err == nil {
			var row uint64
			if row, err = recvSeq(st); err == nil {
				s.d.out.Send(reqEvent{Type: "row", Request: id, N: int64(row), Client: s.client})
			}
		}
		s.mu.Lock()
		delete(s.reqs, id)
		s.mu.Unlock()
		switch {
		case err == io.EOF:
			s.d.out.Send(reqEvent{Type: "done", Request: id, Client: s.client})
		case rq.cancelled.Load() && status.Code(err) == codes.Canceled:
			s.d.out.Send(reqEvent{Type: "done", Request: id, Cancelled: true, Client: s.client})
		case s.ctx.Err() == nil:
			s.errorf("grpc-go Rows request %d ended: %v", id, err)
		}
	}()
	return nil
}

// cancelRequest cancels request id's stream.
func (s *session) cancelRequest(id int64) error {
	s.mu.Lock()
	rq := s.reqs[id]
	s.mu.Unlock()
	if rq == nil {
		return fmt.Errorf("no open request %d", id)
	}
	rq.cancelled.Store(true)
	rq.cancel()
	return nil
}
