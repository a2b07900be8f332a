package client

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/faultline/faultline/wire"
)

// launch runs attempt a: one dial + hello + answer, bounded by the connect
// timeout and by the overall reconnection deadline.
func (s *Session) launch(a *attempt, parent context.Context) {
	deadline := time.Now().Add(s.opts.ConnectTimeout)
	if !s.deadline.IsZero() && s.deadline.Before(deadline) {
		deadline = s.deadline
	}
	ctx, cancel := context.WithDeadline(parent, deadline)
	a.cancel = cancel
	s.inflight = a
	url, hello := s.server, wire.Encode(s.hello())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		ans := handshake(ctx, s.http, url, hello)
		if !s.mb.push(evDialed{a, ans}) {
			ans.discard()
		}
	}()
}

func (s *Session) hello() wire.Frame {
	h := wire.Frame{T: wire.THello, Principal: s.opts.Principal, Credentials: s.opts.Credentials,
		RetentionMS: s.opts.Retention.Milliseconds(), NoReconnect: !s.opts.Reconnect, Migration: s.opts.Migration}
	if s.id != "" {
		h.Session, h.Token = s.id, s.token
		h.Pending = s.pendingRows() // request.go
		if len(s.last) > 0 {
			h.Last = maps.Clone(s.last)
		}
	}
	return h
}

// onLost handles the loss of the live connection.
func (s *Session) onLost(cause error) {
	if s.migLost(cause) { // migrate.go: the source of a migration under way
		return
	}
	if s.cur != nil { // nil: already lost, while a migration failed
		s.cur.abort()
	}
	s.cur = nil
	s.report(cause)
	if !s.opts.Reconnect {
		s.giveUp(ReasonConnectionLost, cause)
		return
	}
	s.setState(RecoveringReconnect, "")
	s.deadline = time.Now().Add(s.opts.ReconnectTimeout)
	s.overall = time.NewTimer(s.opts.ReconnectTimeout)
	s.offer()
}

// offer asks the strategy for the next attempt.
func (s *Session) offer() {
	a := newAttempt(s.mb)
	s.pending = a
	s.strategy.PerformReconnection(a)
}

func (s *Session) onStart(a *attempt) {
	if s.state != RecoveringReconnect || a != s.pending {
		return // late or stale: ignored
	}
	s.pending = nil
	if !time.Now().Before(s.deadline) { // the timer is due but not yet seen
		s.giveUp(ReasonReconnectTimeout, ErrTimeout)
		return
	}
	s.launch(a, context.Background())
}

func (s *Session) onAbort(a *attempt) {
	if s.state == RecoveringReconnect && a == s.pending {
		s.giveUp(ReasonReconnectAborted, ErrAborted)
	}
}

// stopRecovery ends the overall timer and voids any attempt.
func (s *Session) stopRecovery() {
	if s.overall != nil {
		s.overall.Stop()
		s.overall = nil
	}
	s.deadline = time.Time{}
	for _, a := range []*attempt{s.pending, s.inflight} {
		if a != nil {
			a.kill()
		}
	}
	s.pending, s.inflight = nil, nil
}

func (s *Session) onDialed(e evDialed) {
	if e.a != s.inflight {
		e.ans.discard()
		return
	}
	s.inflight = nil
	e.a.cancel()
	if s.state == Connecting {
		s.onWalkAnswer(e.ans)
	} else {
		s.onResumeAnswer(e.ans)
	}
}

func (s *Session) onResumeAnswer(ans answer) {
	f := ans.f
	switch {
	case ans.rejected:
		s.closeWith(ClosedFailed, ReasonHandshake, ans.err, false)
	case ans.err != nil: // transport: try again, as the strategy says
		s.report(ans.err)
		s.offer()
	case f.T == wire.TRefused && (f.Reason == wire.ReasonUnknownSession || f.Reason == wire.ReasonLostMessages):
		// The session is gone (or cannot be resumed without a hole):
		// fail over when on, else close.
		s.giveUp(f.Reason, &refusedError{s.server, f.Reason})
	case f.T == wire.TRefused:
		s.closeWith(ClosedFailed, refusal(f.Reason), &refusedError{s.server, f.Reason}, false)
	case f.T == wire.TWelcome:
		// The server made a new session: ours is gone. Close the new
		// one so the server does not retain it.
		s.adopt(ans.ws, s.server).finish()
		s.giveUp(ReasonUnknownSession, protocolf("welcome %s instead of resumed %s", f.Session, s.id))
	case f.Session != s.id:
		s.adopt(ans.ws, s.server).finish()
		s.closeWith(ClosedFailed, ReasonHandshake, protocolf("resumed %s, asked for %s", f.Session, s.id), false)
	default:
		s.resume(ans)
	}
}

// resume returns to CONNECTED_ACTIVE and resends what the server did not get.
func (s *Session) resume(ans answer) {
	received, sent := ans.f.Received, s.nextN-1
	if ans.f.PingMS > 0 {
		s.pingMS = ans.f.PingMS
	}
	s.stopRecovery()
	s.cur = s.adopt(ans.ws, s.server)
	if received > sent {
		s.closeWith(ClosedFailed, ReasonHandshake, protocolf("server received %d of %d sends", received, sent), true)
		return
	}
	s.buf.ackThrough(received)
	if first, ok := s.buf.first(); received < sent && (!ok || first != received+1) {
		s.closeWith(ClosedFailed, ReasonLostMessages,
			fmt.Errorf("server received up to %d, recovery buffer starts at %d", received, first), true)
		return
	}
	s.setState(ConnectedActive, "")
	for _, p := range s.buf.all() {
		s.cur.send(wire.Frame{T: wire.TSend, N: p.n, Data: p.payload})
	}
	for _, t := range s.unsent {
		s.cur.send(wire.Frame{T: wire.TSub, Topic: t})
	}
	s.unsent = nil
	s.afterResume(ans.f) // request.go
	if r, ok := s.strategy.(Resetter); ok {
		r.Reset()
	}
}

// refusal maps a server's refusal reason to a close reason.
func refusal(reason string) string {
	switch reason {
	case wire.ReasonAccessDenied, wire.ReasonUnknownSession, wire.ReasonLostMessages, wire.ReasonBadHandshake:
		return reason
	}
	return ReasonHandshake
}

type refusedError struct{ server, reason string }

func (e *refusedError) Error() string { return fmt.Sprintf("refused by %s: %s", e.server, e.reason) }

func protocolf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}
