package client

import (
	"context"
	"time"

	"github.com/faultline/faultline/wire"
)

// loopState is everything the event loop owns. Nothing else touches it.
type loopState struct {
	state     State
	id, token string
	pingMS    int64
	server    string           // URL of the server concerned
	cur       *conn            // the live connection, nil while not connected
	last      map[string]int64 // last seq received per topic
	acked     map[string]int64 // last seq acked to the server per topic
	subs      map[string]bool
	unsent    []string // subscriptions made while not connected
	buf       sendBuffer
	nextN     int64 // number of the next send

	overall  *time.Timer // the one reconnection timer, from the first loss
	deadline time.Time   // when it fires
	pending  *attempt    // offered to the strategy, not started yet
	inflight *attempt    // started: its dial is running

	walk      *walk // the cascade or failover under way (state CONNECTING), nil otherwise
	connected bool  // ready was closed (the first CONNECTED_ACTIVE)

	rq      requests      // streaming requests (request.go)
	mg      *migrationRun // the migration under way, nil otherwise (migrate.go)
	retired []*conn       // source connections of completed migrations, until their server closes them
}

func (s *Session) init() {
	s.server = s.opts.Servers[0]
	s.last = map[string]int64{}
	s.acked = map[string]int64{}
	s.subs = map[string]bool{}
	s.nextN = 1
}

// run is the event loop: it owns the session until it closes, then disposes
// of whatever is still in flight and waits for its goroutines.
func (s *Session) run(connectCtx context.Context) {
	s.setState(Connecting, "")
	s.startWalk(s.cascadeOrder(), connectCtx)
	for !s.state.Closed() {
		var expired <-chan time.Time
		if s.overall != nil {
			expired = s.overall.C
		}
		select {
		case <-s.mb.ready:
			evs, _ := s.mb.take()
			for _, ev := range evs {
				s.handle(ev)
			}
		case <-expired:
			s.overall = nil
			s.giveUp(ReasonReconnectTimeout, ErrTimeout)
		}
	}
	s.mb.close()
	evs, _ := s.mb.take()
	for _, ev := range evs {
		s.discard(ev)
	}
	s.wg.Wait() // bounded: dials are cancelled, connections aborted or lingering
	s.http.CloseIdleConnections()
	close(s.loopDone)
	s.disp.q.close()
}

func (s *Session) handle(ev event) {
	if s.state.Closed() {
		s.discard(ev)
		return
	}
	switch e := ev.(type) {
	case evSend:
		e.reply <- s.doSend(e)
	case evSubscribe:
		e.reply <- s.doSubscribe(e.topic)
	case evClose:
		s.closeWith(ClosedByClient, ReasonClosedByClient, nil, true)
	case evStart:
		s.onStart(e.a)
	case evAbort:
		s.onAbort(e.a)
	case evDialed:
		s.onDialed(e)
	case evFrame:
		if e.c == s.cur {
			s.onFrame(e.f)
		}
	case evLost:
		if e.c == s.cur {
			s.onLost(e.err)
		}
	default:
		s.handleMore(ev) // migrate.go: requests and migration
	}
}

// discard answers or releases an event that arrived after the close.
func (s *Session) discard(ev event) {
	switch e := ev.(type) {
	case evSend:
		e.reply <- ErrClosed
	case evSubscribe:
		e.reply <- ErrClosed
	case evDialed:
		e.ans.discard()
	default:
		s.discardMore(ev)
	}
}

func (s *Session) doSend(e evSend) error {
	if s.buf.len() >= s.opts.RecoveryBuffer {
		return ErrBufferFull
	}
	n := s.nextN
	s.nextN++
	s.buf.add(n, e.payload)
	if s.cur != nil && !s.holding() { // else queued: resent on resume (held during a migration)
		s.cur.send(wire.Frame{T: wire.TSend, N: n, Data: e.payload})
	}
	return nil
}

func (s *Session) doSubscribe(topic string) error {
	if s.subs[topic] {
		return nil
	}
	s.subs[topic] = true
	if s.cur != nil && !s.holding() {
		s.cur.send(wire.Frame{T: wire.TSub, Topic: topic})
	} else {
		s.unsent = append(s.unsent, topic)
	}
	return nil
}

func (s *Session) onFrame(f wire.Frame) {
	switch f.T {
	case wire.TPing:
		s.cur.send(wire.Frame{T: wire.TPong})
		s.ackMessages()
	case wire.TMsg:
		s.onMsg(f)
	case wire.TAck:
		s.buf.ackThrough(f.N)
	case wire.TClosed:
		s.closeWith(ClosedByServer, ReasonClosedByServer, nil, false)
	case wire.TRefused:
		s.closeWith(ClosedFailed, refusal(f.Reason), &refusedError{s.server, f.Reason}, false)
	default:
		if !s.onFrameMore(f) { // migrate.go: rows, done, migrate
			s.report(protocolf("unexpected %s frame from %s", f.T, s.server))
		}
	}
}

// onMsg delivers each seq of a topic once and in order. The first message
// of a topic sets its baseline (a subscription may start mid-stream).
func (s *Session) onMsg(f wire.Frame) {
	last, seen := s.last[f.Topic]
	switch {
	case f.Seq == 0:
		s.report(protocolf("msg on %q without seq from %s", f.Topic, s.server))
		return
	case seen && f.Seq <= last:
		return // a replayed duplicate
	case seen && f.Seq != last+1:
		s.closeWith(ClosedFailed, ReasonLostMessages,
			protocolf("gap on %q: seq %d after %d", f.Topic, f.Seq, last), true)
		return
	}
	s.last[f.Topic] = f.Seq
	if cb := s.opts.OnMessage; cb != nil {
		topic, seq, data := f.Topic, f.Seq, []byte(f.Data)
		s.disp.q.push(func() { cb(topic, seq, data) })
	}
}

// ackMessages tells the server, once per ping, how far each topic got, so it
// can trim its recovery buffer without a frame per message.
func (s *Session) ackMessages() {
	for topic, seq := range s.last {
		if s.acked[topic] < seq {
			s.acked[topic] = seq
			s.cur.send(wire.Frame{T: wire.TAck, Topic: topic, Seq: seq})
		}
	}
}

// closeWith ends the session; graceful sends close{} on the live connection
// so the server drops the session instead of retaining it.
func (s *Session) closeWith(to State, reason string, cause error, graceful bool) {
	s.stopRecovery()
	s.dropMigration()
	if s.cur != nil {
		if graceful {
			s.cur.finish()
		} else {
			s.cur.abort()
		}
		s.cur = nil
	}
	ce := &CloseError{State: to, Reason: reason, Server: s.server, Session: s.id, Err: cause}
	if s.walk != nil {
		ce.Tried = append([]string(nil), s.walk.tried...)
	}
	s.err = ce
	s.setState(to, reason)
	s.walk = nil
}

// setState records a transition; reason is for CLOSED_* and for the
// CONNECTING of a failover ("" otherwise).
func (s *Session) setState(to State, reason string) {
	sc := StateChange{From: s.state, To: to, Server: s.server, Session: s.id, Reason: reason}
	if to.Closed() && s.walk != nil {
		sc.Tried = append([]string(nil), s.walk.tried...)
	}
	s.state = to
	s.stateV.Store(to)
	if cb := s.opts.OnState; cb != nil {
		s.disp.q.push(func() { cb(sc) })
	}
}

func (s *Session) report(err error) {
	if cb := s.opts.OnError; cb != nil {
		s.disp.q.push(func() { cb(err) })
	}
}
