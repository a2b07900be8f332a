package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/faultline/faultline/wire/platform"
)

// Errors of Send and OpenEdge: the ingress was not accepted at all (no
// response will follow).
var (
	ErrClosed      = errors.New("router: closed")
	ErrEdgeClosed  = errors.New("router: edge connection is not open")
	ErrEdgeOpen    = errors.New("router: edge connection is already open")
	ErrBadMessage  = errors.New("router: bad message")
	ErrUnknownPart = errors.New("router: part of a message the router never saw")
)

// Router holds connections to every instance discovery names and routes each
// ingress message round robin over those that are connected and writable.
type Router struct {
	opts   Options
	ctx    context.Context // ends every connection at once (last step of Close)
	cancel context.CancelFunc
	watch  context.CancelFunc // ends the discovery watch
	hc     *http.Client
	wg     sync.WaitGroup // the watch loop and every instance's dial loop

	closeOnce sync.Once

	mu        sync.Mutex // guards everything below, every instance and conn, and event order
	closed    bool
	list      []*instance // the circular list, in join order (seq ascending)
	byName    map[string]*instance
	seq       uint64 // last join sequence number given
	last      uint64 // seq of the instance chosen last (the round-robin pointer)
	connected int    // members with a live connection
	edges     map[string]bool
	reqs      map[string]*request // requests not answered yet, by message id
	ended     map[string]bool     // answered multi-part requests (their later parts are dropped)
	endedFIFO []string            // ended's ids, oldest first (it keeps the last maxEnded)
}

// maxEnded bounds how many answered multi-part requests the router remembers
// to drop their late parts.
const maxEnded = 1 << 16

// endLocked remembers an answered multi-part request.
func (r *Router) endLocked(id string, parts int) {
	if parts < 2 {
		return // a single message has no later part
	}
	r.ended[id] = true
	r.endedFIFO = append(r.endedFIFO, id)
	if len(r.endedFIFO) > maxEnded {
		delete(r.ended, r.endedFIFO[0])
		r.endedFIFO = r.endedFIFO[1:]
	}
}

// instance is one member of the circular list.
type instance struct {
	name, url string
	seq       uint64
	cancel    context.CancelFunc // stops the dial loop
	conn      *conn              // the live (welcomed) connection, nil when disconnected
	removed   bool
}

// conn is one live connection to an instance with its write buffer.
type conn struct {
	inst     *instance
	ws       *websocket.Conn
	ctx      context.Context
	cancel   context.CancelFunc
	queue    [][]byte // frames not yet written to the socket, in order
	queued   int      // their bytes (the one being written included)
	writable bool
	wake     chan struct{} // cap 1: the writer has something to do
	lost     bool
	closing  bool // deliberate close (removed, or router closing)
}

// request is an ingress message being routed, until it is answered.
type request struct {
	id, edge string
	parts    int
	sent     int // parts handed to c
	acked    int
	c        *conn // the affinity connection: every part goes there
	timer    *time.Timer
}

// New starts a router: it watches opts.Discovery and keeps a connection to
// every member. No edge connection is open until OpenEdge.
func New(opts Options) (*Router, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Router{
		opts:   opts,
		byName: map[string]*instance{},
		edges:  map[string]bool{},
		reqs:   map[string]*request{},
		ended:  map[string]bool{},
		hc: &http.Client{Transport: &http.Transport{
			Proxy:             nil,
			DialContext:       (&net.Dialer{Control: sendBuffer(opts.SendBuffer)}).DialContext,
			DisableKeepAlives: true,
		}},
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	var wctx context.Context
	wctx, r.watch = context.WithCancel(r.ctx)
	ch := opts.Discovery.Watch(wctx)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for c := range ch {
			r.apply(c)
		}
	}()
	return r, nil
}

// apply follows one discovery change, without a restart.
func (r *Router) apply(c Change) {
	name := c.Name
	if name == "" {
		name = c.URL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	switch c.Op {
	case Add:
		if r.byName[name] != nil || c.URL == "" {
			return
		}
		r.seq++
		ictx, cancel := context.WithCancel(r.ctx)
		in := &instance{name: name, url: c.URL, seq: r.seq, cancel: cancel}
		r.list = append(r.list, in)
		r.byName[name] = in
		r.instanceEvent(in, StateAdded, 0)
		r.wg.Add(1)
		go r.dialLoop(ictx, in)
	case Remove:
		in := r.byName[name]
		if in == nil {
			return
		}
		in.removed = true
		delete(r.byName, name)
		for i, x := range r.list {
			if x == in {
				r.list = append(r.list[:i:i], r.list[i+1:]...)
				break
			}
		}
		r.instanceEvent(in, StateRemoved, 0)
		if c := in.conn; c != nil {
			r.dropLocked(c, "instance "+in.name+" removed")
			c.closing = true
			wake(c)
		}
		in.cancel()
	}
}

// OpenEdge accepts an edge connection. It is accepted whatever the state of
// the instances: a router that lost them all still takes new edges (T4).
func (r *Router) OpenEdge(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return ErrClosed
	case r.edges[name]:
		return fmt.Errorf("%w: %q", ErrEdgeOpen, name)
	}
	r.edges[name] = true
	return nil
}

// Send takes part `part` of `parts` of ingress message id from edge. The
// first part (or a single message) goes to the next connected and writable
// instance after the last one chosen; later parts go where the first went,
// and fail the request (502) when that instance is gone or not writable. The
// answer comes through Events.OnResponse: 500 at once when no instance is
// eligible. An error means the part was not accepted at all.
func (r *Router) Send(edge, id string, part, parts int, payload json.RawMessage) error {
	if id == "" || parts < 1 || part < 1 || part > parts {
		return fmt.Errorf("%w: id %q part %d of %d", ErrBadMessage, id, part, parts)
	}
	if len(payload) == 0 {
		payload = json.RawMessage(`null`)
	}
	frame := platform.Encode(platform.Frame{T: platform.TReq, ID: id, Edge: edge, Part: part, Parts: parts, Data: payload})
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return ErrClosed
	case !r.edges[edge]:
		return fmt.Errorf("%w: %q", ErrEdgeClosed, edge)
	}
	if part == 1 {
		if r.reqs[id] != nil || r.ended[id] {
			return fmt.Errorf("%w: message id %q used twice", ErrBadMessage, id)
		}
		in := r.pickLocked()
		if in == nil {
			r.endLocked(id, parts)
			r.respond(Response{ID: id, Edge: edge, Status: StatusNoInstance, Reason: "no instance is connected and writable"})
			return nil
		}
		r.last = in.seq
		req := &request{id: id, edge: edge, parts: parts, sent: 1, c: in.conn}
		req.timer = time.AfterFunc(r.opts.RequestTimeout, func() { r.timeout(req) })
		r.reqs[id] = req
		r.enqueueLocked(req, part, frame)
		return nil
	}
	req := r.reqs[id]
	switch {
	case req == nil && r.ended[id]:
		return nil // the request was answered already (failed): its later parts go nowhere
	case req == nil:
		return fmt.Errorf("%w: %q part %d", ErrUnknownPart, id, part)
	case part != req.sent+1 || parts != req.parts:
		return fmt.Errorf("%w: %q part %d of %d after part %d of %d", ErrBadMessage, id, part, parts, req.sent, req.parts)
	}
	c := req.c
	switch {
	case c.inst.conn != c || c.inst.removed:
		r.failLocked(req, StatusInstanceErr, fmt.Sprintf("part %d: instance %s that took part 1 is gone", part, c.inst.name))
		return nil
	case !c.writable:
		r.failLocked(req, StatusInstanceErr, fmt.Sprintf("part %d: instance %s that took part 1 is not writable", part, c.inst.name))
		return nil
	}
	req.sent++
	r.enqueueLocked(req, part, frame)
	return nil
}

// pickLocked is the round robin: the first eligible instance after the one
// chosen last, in the circular list's order.
func (r *Router) pickLocked() *instance {
	n := len(r.list)
	start := 0 // wraps to the head when the last one chosen was the tail
	for i, in := range r.list {
		if in.seq > r.last {
			start = i
			break
		}
	}
	for i := 0; i < n; i++ {
		in := r.list[(start+i)%n]
		if in.conn != nil && in.conn.writable && !in.removed {
			return in
		}
	}
	return nil
}

// enqueueLocked reports the decision, then puts the frame in the affinity
// connection's write buffer; crossing the high watermark makes it unwritable.
func (r *Router) enqueueLocked(req *request, part int, frame []byte) {
	c := req.c
	if f := r.opts.Events.OnRoute; f != nil && !r.closed {
		f(Route{ID: req.id, Edge: req.edge, Part: part, Parts: req.parts, Instance: c.inst.name})
	}
	c.queue = append(c.queue, frame)
	c.queued += len(frame)
	if c.writable && c.queued > r.opts.HighWatermark {
		c.writable = false
		r.instanceEvent(c.inst, StateUnwritable, c.queued)
	}
	wake(c)
}

func wake(c *conn) {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Reports stop once Close began: the router's view ends with it.

func (r *Router) respond(resp Response) {
	if f := r.opts.Events.OnResponse; f != nil && !r.closed {
		f(resp)
	}
}

func (r *Router) instanceEvent(in *instance, state string, queued int) {
	if f := r.opts.Events.OnInstance; f != nil && !r.closed {
		f(InstanceChange{Instance: in.name, State: state, Queued: queued})
	}
}

// failLocked answers a request with an error.
func (r *Router) failLocked(req *request, status int, reason string) {
	delete(r.reqs, req.id)
	r.endLocked(req.id, req.parts)
	req.timer.Stop()
	r.respond(Response{ID: req.id, Edge: req.edge, Status: status, Instance: req.c.inst.name, Reason: reason})
}

func (r *Router) timeout(req *request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reqs[req.id] == req && !r.closed {
		r.failLocked(req, StatusTimeout, fmt.Sprintf("no acknowledgment from %s within %s", req.c.inst.name, r.opts.RequestTimeout))
	}
}

// ack counts one acknowledged part; the last one answers the request.
func (r *Router) ack(c *conn, f platform.Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	req := r.reqs[f.ID]
	if req == nil || req.c != c || f.Part > req.sent {
		return // late (the request failed already) or not ours
	}
	req.acked++
	if req.acked == req.parts {
		delete(r.reqs, req.id)
		r.endLocked(req.id, req.parts)
		req.timer.Stop()
		r.respond(Response{ID: req.id, Edge: req.edge, Status: StatusOK, Instance: c.inst.name})
	}
}

// dropLocked takes a connection out of the rotation: its requests fail, and
// when it was the last connected instance every edge is closed (T4).
func (r *Router) dropLocked(c *conn, why string) {
	in := c.inst
	if in.conn != c {
		return
	}
	in.conn = nil
	for _, req := range r.reqs {
		if req.c == c {
			r.failLocked(req, StatusInstanceErr, why)
		}
	}
	if !in.removed {
		r.instanceEvent(in, StateDisconnected, c.queued)
	}
	r.connected--
	if r.connected == 0 {
		for e := range r.edges {
			delete(r.edges, e)
			if f := r.opts.Events.OnEdge; f != nil && !r.closed {
				f(EdgeChange{Edge: e, State: EdgeClosed, Reason: ReasonNoInstances})
			}
		}
	}
}

// lose ends a connection that broke.
func (r *Router) lose(c *conn, why string) {
	r.mu.Lock()
	if !c.lost {
		c.lost = true
		r.dropLocked(c, fmt.Sprintf("instance %s lost: %s", c.inst.name, why))
	}
	r.mu.Unlock()
	c.cancel()
}

// Close ends every connection (deliberately, within a bound) and the
// discovery watch, and returns once no goroutine of the router is left.
// Requests still unanswered get no answer: the router is gone.
func (r *Router) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		for _, in := range r.list {
			in.cancel()
			if c := in.conn; c != nil {
				c.closing = true
				wake(c)
			}
		}
		for id, req := range r.reqs {
			req.timer.Stop()
			delete(r.reqs, id)
		}
		r.mu.Unlock()
		r.watch()
		done := make(chan struct{})
		go func() { r.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(closeGrace + time.Second):
			r.cancel()
			<-done
		}
		r.cancel()
		r.hc.CloseIdleConnections()
	})
	return nil
}
