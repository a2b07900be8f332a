package server

import (
	"slices"
	"strconv"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

// Streaming requests (Open Server's result streams): req{req,rows} is
// answered with row{req,n} for n = 1..rows, one every pace, then the final
// done{req}. An attention attn{req} ends a running request at once with
// done{req,cancelled}: its acknowledgment, after which nothing of req is
// sent. A resume (reconnect or migration) whose hello lists the request as
// pending (with the last row the client got) sends the rows after that one,
// then done: rows lost in transit are sent again, rows the client has are
// not.

// DefaultRowEvery is the pacing of rows until the scenario sets one.
const DefaultRowEvery = 2 * time.Millisecond

// maxFinished bounds how many ended requests a session remembers (to
// resend a done the client may have missed).
const maxFinished = 256

// sessionExtra is a session's requests and migration. Guarded by
// Server.mu, like every session field.
type sessionExtra struct {
	canMigrate bool // the client declared migration in its hello
	reqs       map[int64]*request
	order      []int64 // request ids in arrival order
	mig        *migration
}

type request struct {
	fakeserver.RequestState
	timer *time.Timer
	gen   int // bumped on every (re)start or stop, so a stale tick knows it is stale
}

func (x *sessionExtra) stop(r *request) {
	r.gen++
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

// stopTimers stops every timer of the session's requests and migration.
func (x *sessionExtra) stopTimers() {
	for _, r := range x.reqs {
		x.stop(r)
	}
	if m := x.mig; m != nil {
		m.stopTimer()
	}
}

// paused reports whether results are postponed: the session is migrating away.
func (x *sessionExtra) paused() bool { return x.mig != nil && x.mig.state == wire.MigMigrating }

func (x *sessionExtra) add(r *request) {
	if x.reqs == nil {
		x.reqs = map[int64]*request{}
	}
	x.reqs[r.ID] = r
	x.order = append(x.order, r.ID)
	// Forget the oldest ended requests beyond the bound.
	ended := 0
	for _, id := range x.order {
		if x.reqs[id].Done {
			ended++
		}
	}
	for i := 0; ended > maxFinished && i < len(x.order); {
		if id := x.order[i]; x.reqs[id].Done {
			delete(x.reqs, id)
			x.order = slices.Delete(x.order, i, i+1)
			ended--
			continue
		}
		i++
	}
}

// known lists the pending request ids the session knows, ascending.
func (x *sessionExtra) known(pending map[string]int64) []int64 {
	var out []int64
	for k := range pending {
		id, err := strconv.ParseInt(k, 10, 64)
		if err == nil && x.reqs[id] != nil {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (s *Server) rowEvery() time.Duration {
	if s.mx.pace > 0 {
		return s.mx.pace
	}
	return DefaultRowEvery
}

// PaceRows sets the row pacing of requests that arrive from now on (a
// server-side parameter of the scenario: clients send only the row count).
func (s *Server) PaceRows(every time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mx.pace = every
}

// onReqLocked starts a request, or records a duplicate and ignores it.
func (s *Server) onReqLocked(c *wsConn, sess *session, f wire.Frame) {
	e := history.Event{Kind: history.KindRequest, Session: sess.id, Conn: c.id,
		Attrs: map[string]string{"req": itoa64(f.Req), "rows": itoa64(f.Rows)}}
	if sess.mx.reqs[f.Req] != nil {
		e.Attrs["dup"] = "true"
		s.record(e)
		return
	}
	r := &request{RequestState: fakeserver.RequestState{ID: f.Req, Rows: f.Rows, Next: 1, Every: s.rowEvery()}}
	e.Attrs["every_ms"] = strconv.FormatFloat(float64(r.Every)/float64(time.Millisecond), 'f', -1, 64)
	s.record(e)
	sess.mx.add(r)
	s.runLocked(sess, r)
}

// runLocked (re)starts a request's rows from r.Next.
func (s *Server) runLocked(sess *session, r *request) {
	sess.mx.stop(r)
	s.emitLocked(sess, r, r.gen)
}

// emitLocked sends the next row (or the final done) and schedules the one
// after. Without a connection, or while migrating away, rows are postponed:
// a resume starts them again.
func (s *Server) emitLocked(sess *session, r *request, gen int) {
	r.timer = nil
	c := sess.conn
	if r.Done || c == nil || sess.mx.paused() {
		return
	}
	if r.Next <= r.Rows {
		row := history.Event{Kind: history.KindRow, Seq: r.Next, Attrs: map[string]string{"req": itoa64(r.ID)}}
		c.queueLocked(outItem{f: wire.Frame{T: wire.TRow, Req: r.ID, N: r.Next}, rec: &row})
		r.Next++
	}
	if r.Next > r.Rows {
		s.queueDoneLocked(sess, r)
		return
	}
	r.timer = time.AfterFunc(r.Every, func() { s.rowTick(sess, r, gen) })
}

func (s *Server) rowTick(sess *session, r *request, gen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || r.gen != gen || s.sessions[sess.id] != sess {
		return
	}
	s.emitLocked(sess, r, gen)
}

// queueDoneLocked ends a request with its final done (cancelled: the
// attention's acknowledgment), written to the live connection if any; a
// resume sends it again if the client did not get it.
func (s *Server) queueDoneLocked(sess *session, r *request) {
	r.Done = true
	sess.mx.stop(r)
	c := sess.conn
	if c == nil {
		return
	}
	e := history.Event{Kind: history.KindDone, Attrs: map[string]string{"req": itoa64(r.ID), "rows": itoa64(r.Next - 1)}}
	if r.Cancelled {
		e.Attrs["cancelled"] = "true"
	}
	c.queueLocked(outItem{f: wire.Frame{T: wire.TDone, Req: r.ID, Cancelled: r.Cancelled}, rec: &e})
}

// onAttnLocked handles an attention: a running request ends at once,
// cancelled; one that already ended gets nothing more.
func (s *Server) onAttnLocked(conn string, sess *session, f wire.Frame, forwarded bool) {
	e := history.Event{Kind: history.KindAttention, Session: sess.id, Conn: conn, Attrs: map[string]string{"req": itoa64(f.Req)}}
	if forwarded {
		e.Attrs["forwarded"] = "true"
	}
	r := sess.mx.reqs[f.Req]
	switch {
	case r == nil:
		e.Attrs["outcome"] = "unknown"
	case r.Done:
		e.Attrs["outcome"] = "ended"
	default:
		e.Attrs["outcome"] = "cancelled"
	}
	s.record(e)
	if r != nil && !r.Done {
		r.Cancelled = true
		s.queueDoneLocked(sess, r)
	}
}

// resumeRequestsLocked goes on with the session's requests on its new
// connection: each one the client awaits from the row after its last (or
// with its done again, if it had ended), the others from where they were.
func (s *Server) resumeRequestsLocked(sess *session, pending map[string]int64) {
	for _, id := range sess.mx.order {
		r := sess.mx.reqs[id]
		last, awaited := pending[wire.PendingKey(id)]
		switch {
		case awaited && r.Cancelled:
			s.queueDoneLocked(sess, r) // the acknowledgment again
		case awaited:
			r.Next = min(last, r.Rows) + 1
			r.Done = false
			s.runLocked(sess, r)
		case !r.Done:
			s.runLocked(sess, r)
		}
	}
}

// recordWritten records a frame's event once the writer is about to write
// it; false (do not write) once the session has left the connection.
func (s *Server) recordWritten(c *wsConn, it outItem) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ended || s.closed || c.sess == nil {
		return false
	}
	e := *it.rec
	e.Session, e.Conn = c.sess.id, c.id
	s.record(e)
	return true
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
