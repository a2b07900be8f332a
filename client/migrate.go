package client

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/faultline/faultline/wire"
)

// Migration (Open Server's). A server may ask its client to move the session
// to another server (migrate{REQUESTED}, with the target's URL). With
// Options.Migration on (declared in the hello):
//
//   - REQUESTED: the engine holds new commands (sends, subscriptions,
//     requests: queued, not written; an attention still goes to the source,
//     which serves until it starts the migration) and answers mig_ready at
//     once (READY). Results in flight keep coming from the source. Another
//     REQUESTED with the same id re-targets (READY again); CANCELLED sends
//     what was held to the source and goes on there.
//   - MIGRATING: the source stopped serving and shared the session's
//     context. The engine writes mig_leaving (its last frame there, after
//     anything already queued, so nothing in flight is lost) and, keeping the
//     source connection open, dials the target with a hello naming the
//     session, its token, the migration and the pending requests, bounded
//     by MigrationTimeout.
//   - resumed on the target (same session id): the target becomes the
//     connection; what the target did not receive is resent from the
//     recovery buffer, held commands go out, requests go on after the last
//     row received; the source's close of the old connection (reason
//     "migrated") is expected and ignored. The session stays
//     CONNECTED_ACTIVE throughout: no state change, no reconnection, no
//     failover. OnMigration reports RESUMED.
//   - the target unreachable, refusing, or not answering in time: the
//     engine sends mig_failed to the source and goes on there (FAILED); held
//     commands go to the source. If the source connection was lost as well,
//     the session recovers as after any loss (reconnection to the source).
//
// A loss of the source connection before MIGRATING abandons the migration
// (FAILED, "connection lost") and is handled as any loss; a loss while
// MIGRATING is part of the move and triggers nothing by itself.
//
// With Options.Migration off the hello does not declare it, so servers
// refuse to migrate the connection ("connection cannot migrate"); a migrate
// frame that comes anyway is answered mig_failed with that reason.

// Migration states reported through OnMigration: Open Server's names, and
// RESUMED when the session resumed on its target.
const (
	MigrationRequested = wire.MigRequested
	MigrationReady     = wire.MigReady
	MigrationMigrating = wire.MigMigrating
	MigrationCancelled = wire.MigCancelled
	MigrationFailed    = wire.MigFailed
	MigrationResumed   = "RESUMED"
)

// MigrationEvent is one step of a migration as the engine saw it.
type MigrationEvent struct {
	State  string
	Mig    string // the server's migration id
	Target string // URL of the target
	Reason string // FAILED: why
}

// migrationRun is the migration under way (loop goroutine only).
type migrationRun struct {
	id, target string
	phase      string // REQUESTED, READY, MIGRATING
	heldFrom   int64  // the first send number held
	srcLost    bool   // the source connection was lost while MIGRATING
	cancel     context.CancelFunc
}

type evMigDialed struct {
	m   *migrationRun
	ans answer
}

// holding reports whether new commands are held (a migration is under way).
func (s *Session) holding() bool { return s.mg != nil }

// attentionNow reports whether an attention may go to the live connection
// at once: the source serves until it starts the migration.
func (s *Session) attentionNow() bool { return s.mg == nil || s.mg.phase != MigrationMigrating }

func (s *Session) migTimeout() time.Duration {
	if s.opts.MigrationTimeout > 0 {
		return s.opts.MigrationTimeout
	}
	return s.opts.ConnectTimeout
}

func (s *Session) migEvent(state, mig, target, reason string) {
	if cb := s.opts.OnMigration; cb != nil {
		ev := MigrationEvent{State: state, Mig: mig, Target: target, Reason: reason}
		s.disp.q.push(func() { cb(ev) })
	}
}

// handleMore handles the loop events of requests and migration.
func (s *Session) handleMore(ev event) {
	switch e := ev.(type) {
	case evRequest:
		e.reply <- s.doRequest(e)
	case evCancel:
		e.reply <- s.doCancel(e)
	case evMigDialed:
		s.onMigDialed(e)
	}
}

// discardMore answers or releases such an event after the close.
func (s *Session) discardMore(ev event) {
	switch e := ev.(type) {
	case evRequest:
		e.reply <- ErrClosed
	case evCancel:
		e.reply <- ErrClosed
	case evMigDialed:
		e.ans.discard()
	}
}

// onFrameMore handles the frames of requests and migration; false: not one.
func (s *Session) onFrameMore(f wire.Frame) bool {
	switch f.T {
	case wire.TRow:
		s.onRow(f)
	case wire.TDone:
		s.onDone(f)
	case wire.TMigrate:
		s.onMigrate(f)
	default:
		return false
	}
	return true
}

func (s *Session) onMigrate(f wire.Frame) {
	if !s.opts.Migration {
		s.cur.send(wire.Frame{T: wire.TMigFailed, Mig: f.Mig, Reason: wire.ReasonCannotMigrate})
		s.migEvent(MigrationFailed, f.Mig, f.Target, wire.ReasonCannotMigrate)
		return
	}
	m := s.mg
	switch f.State {
	case wire.MigRequested:
		switch {
		case m == nil:
			m = &migrationRun{id: f.Mig, heldFrom: s.nextN}
			s.mg = m
		case m.id == f.Mig && m.phase != MigrationMigrating: // a re-target
		default:
			s.report(protocolf("migrate %s to %s while migration %s is %s", f.Mig, f.Target, m.id, m.phase))
			return
		}
		m.target, m.phase = f.Target, MigrationRequested
		s.migEvent(MigrationRequested, m.id, m.target, "")
		s.cur.send(wire.Frame{T: wire.TMigReady, Mig: m.id})
		m.phase = MigrationReady
		s.migEvent(MigrationReady, m.id, m.target, "")
	case wire.MigCancelled:
		if m == nil || m.id != f.Mig || m.phase == MigrationMigrating {
			s.report(protocolf("migration %s cancelled out of turn", f.Mig))
			return
		}
		s.mg = nil
		s.migEvent(MigrationCancelled, m.id, m.target, "")
		s.unhold(m)
	case wire.MigMigrating:
		if m == nil || m.id != f.Mig || m.phase != MigrationReady {
			s.report(protocolf("migration %s started out of turn", f.Mig))
			return
		}
		m.phase, m.target = MigrationMigrating, f.Target
		s.migEvent(MigrationMigrating, m.id, m.target, "")
		s.cur.send(wire.Frame{T: wire.TMigLeaving, Mig: m.id})
		s.dialTarget(m)
	}
}

// dialTarget makes the one bounded attempt on the migration's target.
func (s *Session) dialTarget(m *migrationRun) {
	ctx, cancel := context.WithTimeout(context.Background(), s.migTimeout())
	m.cancel = cancel
	h := s.hello()
	h.Mig = m.id
	url, hello := m.target, wire.Encode(h)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		ans := handshake(ctx, s.http, url, hello)
		if !s.mb.push(evMigDialed{m, ans}) {
			ans.discard()
		}
	}()
}

func (s *Session) onMigDialed(e evMigDialed) {
	m := e.m
	if s.mg != m {
		e.ans.discard()
		return
	}
	m.cancel()
	s.mg = nil
	f := e.ans.f
	var why string
	switch {
	case e.ans.err != nil:
		why = e.ans.err.Error()
	case f.T == wire.TRefused:
		why = "refused by the target: " + f.Reason
	case f.T != wire.TResumed:
		why = fmt.Sprintf("%s answer from the target", f.T)
	case f.Session != s.id:
		why = fmt.Sprintf("the target resumed session %s, not %s", f.Session, s.id)
	}
	if why != "" {
		if f.T == wire.TWelcome || f.T == wire.TResumed { // a session we will not use
			s.adopt(e.ans.ws, m.target).finish()
		} else {
			e.ans.discard()
		}
		s.report(&MigrationError{Target: m.target, Reason: why})
		s.migEvent(MigrationFailed, m.id, m.target, why)
		if !m.srcLost && s.cur != nil {
			s.cur.send(wire.Frame{T: wire.TMigFailed, Mig: m.id, Reason: "target unreachable: " + why})
			s.unhold(m)
			return
		}
		s.onLost(fmt.Errorf("migration to %s failed (%s) and the source connection was lost", m.target, why))
		return
	}
	old := s.cur
	s.server = m.target
	if f.PingMS > 0 {
		s.pingMS = f.PingMS
	}
	s.cur = s.adopt(e.ans.ws, m.target)
	if old != nil {
		s.retire(old)
	}
	s.migEvent(MigrationResumed, m.id, m.target, "")
	received, sent := f.Received, s.nextN-1
	if received > sent {
		s.closeWith(ClosedFailed, ReasonHandshake, protocolf("target received %d of %d sends", received, sent), true)
		return
	}
	s.buf.ackThrough(received)
	if first, ok := s.buf.first(); received < sent && (!ok || first != received+1) {
		s.closeWith(ClosedFailed, ReasonLostMessages,
			fmt.Errorf("target received up to %d, recovery buffer starts at %d", received, first), true)
		return
	}
	for _, p := range s.buf.all() {
		s.cur.send(wire.Frame{T: wire.TSend, N: p.n, Data: p.payload})
	}
	for _, t := range s.unsent {
		s.cur.send(wire.Frame{T: wire.TSub, Topic: t})
	}
	s.unsent = nil
	s.afterResume(f)
}

// unhold sends what the migration held to the live connection, which keeps
// the session.
func (s *Session) unhold(m *migrationRun) {
	for _, p := range s.buf.all() {
		if p.n >= m.heldFrom {
			s.cur.send(wire.Frame{T: wire.TSend, N: p.n, Data: p.payload})
		}
	}
	for _, t := range s.unsent {
		s.cur.send(wire.Frame{T: wire.TSub, Topic: t})
	}
	s.unsent = nil
	s.flushRequests()
}

// retire keeps the source connection of a completed migration until its
// server closes it ("migrated"), at most closeGrace: its frames and its end
// mean nothing to the session any more.
func (s *Session) retire(c *conn) {
	s.retired = slices.DeleteFunc(s.retired, func(c *conn) bool { return c.ctx.Err() != nil })
	s.retired = append(s.retired, c)
	time.AfterFunc(closeGrace, c.abort)
}

// migLost handles the loss of the live connection during a migration: true
// when it needs nothing more (the source went away while MIGRATING: the
// target decides). Before MIGRATING the migration is abandoned and the loss
// is handled as any other.
func (s *Session) migLost(cause error) bool {
	m := s.mg
	if m == nil {
		return false
	}
	if m.phase == MigrationMigrating {
		m.srcLost = true
		s.cur.abort()
		s.cur = nil
		return true
	}
	s.mg = nil
	s.migEvent(MigrationFailed, m.id, m.target, "connection lost: "+cause.Error())
	return false
}

// dropMigration ends whatever migration is under way and every retired
// connection: the session closes or fails over.
func (s *Session) dropMigration() {
	if m := s.mg; m != nil {
		if m.cancel != nil {
			m.cancel()
		}
		s.mg = nil
	}
	for _, c := range s.retired {
		c.abort()
	}
	s.retired = nil
}

// MigrationError is a migration that did not complete, reported through
// OnError before the session goes on on its source.
type MigrationError struct {
	Target string // URL
	Reason string
}

func (e *MigrationError) Error() string {
	return fmt.Sprintf("client: migration to %s failed: %s", e.Target, e.Reason)
}
