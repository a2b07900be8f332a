package client

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/faultline/faultline/wire"
)

// Streaming requests (Open Server's). Request sends req{id,rows}; the server
// answers rows 1..rows (OnRow, each exactly once and in order) and a final
// done (OnDone). Cancel sends an attention; the request then ends with a
// done whose cancelled says whether the attention stopped it, and no row of
// it is delivered after that done. Requests outlive reconnections and
// migrations: a resuming hello lists every request still awaited with the
// last row received (pending), the server goes on after it, and requests the
// server does not know (resumed.reqs) are sent again. A failover opens a new
// session: its requests are discarded (ErrDiscarded through OnError).

// ErrUnknownRequest is Cancel's error for an id never requested.
var ErrUnknownRequest = errors.New("client: unknown request")

type (
	evRequest struct {
		id, rows int64
		reply    chan error
	}
	evCancel struct {
		id    int64
		reply chan error
	}
)

// clientReq is one request as the loop knows it.
type clientReq struct {
	id, rows, last int64
	sent           bool // its req frame went out on some connection
	cancel         bool // the application cancelled it
	attnSent       bool
	done           bool
}

// requests are the session's requests (loop goroutine only).
type requests struct {
	m    map[int64]*clientReq
	live []int64 // not done, in issue order
}

// Request starts streaming request id (> 0, unique within the session) of
// rows rows. It returns once the loop took it: rows and the final done come
// through OnRow and OnDone. While a migration is under way it is held and
// sent once the session has resumed on its target (or stayed on its source).
func (s *Session) Request(ctx context.Context, id int64, rows int64) error {
	if id <= 0 || rows <= 0 {
		return fmt.Errorf("client: request needs a positive id and row count (got %d, %d)", id, rows)
	}
	return s.call(ctx, func(reply chan error) event { return evRequest{id, rows, reply} })
}

// Cancel sends an attention for request id. Cancelling a request that has
// ended is a no-op; an id never requested is ErrUnknownRequest.
func (s *Session) Cancel(ctx context.Context, id int64) error {
	return s.call(ctx, func(reply chan error) event { return evCancel{id, reply} })
}

func (s *Session) doRequest(e evRequest) error {
	if s.rq.m == nil {
		s.rq.m = map[int64]*clientReq{}
	}
	if s.rq.m[e.id] != nil {
		return fmt.Errorf("client: request %d already exists", e.id)
	}
	r := &clientReq{id: e.id, rows: e.rows}
	s.rq.m[e.id] = r
	s.rq.live = append(s.rq.live, e.id)
	if s.cur != nil && !s.holding() {
		s.sendReq(r)
	}
	return nil
}

func (s *Session) doCancel(e evCancel) error {
	r := s.rq.m[e.id]
	switch {
	case r == nil:
		return fmt.Errorf("%w: %d", ErrUnknownRequest, e.id)
	case r.done || r.cancel:
		return nil
	}
	r.cancel = true
	if s.cur != nil && s.attentionNow() && r.sent {
		s.sendAttn(r)
	}
	return nil
}

func (s *Session) sendReq(r *clientReq) {
	r.sent = true
	s.cur.send(wire.Frame{T: wire.TReq, Req: r.id, Rows: r.rows})
}

func (s *Session) sendAttn(r *clientReq) {
	r.attnSent = true
	s.cur.send(wire.Frame{T: wire.TAttn, Req: r.id})
}

// onRow delivers each row of a request once and in order.
func (s *Session) onRow(f wire.Frame) {
	r := s.rq.m[f.Req]
	switch {
	case r == nil:
		s.report(protocolf("row %d of unknown request %d from %s", f.N, f.Req, s.server))
		return
	case r.done || f.N <= r.last:
		return // after its done, or a row we already have
	case f.N != r.last+1:
		s.report(protocolf("request %d: row %d after row %d from %s", f.Req, f.N, r.last, s.server))
		return
	}
	r.last = f.N
	if cb := s.opts.OnRow; cb != nil {
		id, n := r.id, f.N
		s.disp.q.push(func() { cb(id, n) })
	}
}

// onDone ends a request: nothing of it is delivered after.
func (s *Session) onDone(f wire.Frame) {
	r := s.rq.m[f.Req]
	if r == nil || r.done {
		return
	}
	r.done = true
	s.rq.live = slices.DeleteFunc(s.rq.live, func(id int64) bool { return id == r.id })
	if !f.Cancelled && r.last < r.rows {
		s.report(protocolf("request %d: done after %d of %d rows from %s", r.id, r.last, r.rows, s.server))
	}
	if cb := s.opts.OnDone; cb != nil {
		id, c := r.id, f.Cancelled
		s.disp.q.push(func() { cb(id, c) })
	}
}

// pendingRows is the hello's map of awaited requests → last row received.
func (s *Session) pendingRows() map[string]int64 {
	if len(s.rq.live) == 0 {
		return nil
	}
	p := make(map[string]int64, len(s.rq.live))
	for _, id := range s.rq.live {
		p[wire.PendingKey(id)] = s.rq.m[id].last
	}
	return p
}

// afterResume goes on with the requests on a connection that resumed the
// session: a request the server does not know is sent (again), and an
// attention is repeated for every cancelled one (the server ignores one for
// a request that ended).
func (s *Session) afterResume(f wire.Frame) {
	known := map[int64]bool{}
	for _, id := range f.Reqs {
		known[id] = true
	}
	for _, id := range s.rq.live {
		r := s.rq.m[id]
		if !known[id] {
			s.sendReq(r)
		}
		if r.cancel {
			s.sendAttn(r)
		}
	}
}

// flushRequests sends what was held on the live connection, which kept the
// session (a migration that was cancelled or failed).
func (s *Session) flushRequests() {
	for _, id := range s.rq.live {
		r := s.rq.m[id]
		if !r.sent {
			s.sendReq(r)
		}
		if r.cancel && !r.attnSent {
			s.sendAttn(r)
		}
	}
}

// discardRequests drops the requests of a session given up by failover.
func (s *Session) discardRequests(server string, cause error) {
	if n := len(s.rq.live); n > 0 {
		s.report(fmt.Errorf("%w: %d request(s) of %s (%v)", ErrDiscarded, n, server, cause))
	}
	s.rq = requests{}
}
