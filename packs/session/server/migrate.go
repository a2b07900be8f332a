package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

// Migration (Open Server's states; docs/requirements.md, M). A session server
// asks each of its live sessions to move to another server that shares its
// context store:
//
//	REQUESTED  migrate{mig,target,REQUESTED} sent; rows go on; the server may
//	           re-target (the same frame with a new target) or cancel
//	READY      the client answered mig_ready and holds its new commands; the
//	           server may still re-target or cancel until it starts (hold)
//	MIGRATING  started: no cancel any more. Results are postponed, the
//	           context is put into the store and migrate{MIGRATING} sent.
//	           Commands read from here on are not run but forwarded into the
//	           context; the client's mig_leaving (its last frame here)
//	           seals it, or the grace does. The connection stays open.
//	           → the target takes the context on the client's hello: this
//	             server records migration.handoff, forgets the session and
//	             closes the connection with reason "migrated".
//	           → the client reports mig_failed (the target could not be
//	             reached), or comes back here with a resume: FAILED, this
//	             server reclaims the context, runs the forwarded commands
//	             and goes on serving (rows resume where they were).
//	CANCELLED  cancelled before MIGRATING: the client goes on here.
//	FAILED     the client reported failure, or cannot migrate at all
//	           ("connection cannot migrate": it did not declare migration in
//	           its hello; nothing is sent to it), or its connection was lost
//	           before MIGRATING.
//
// Open Server's disconnect caveat (a command sent just before the server
// drops the connection may get lost): the source never drops a migrating
// connection before it has read the client's mig_leaving or the grace has
// passed, and whatever it reads meanwhile goes into the shared context, which
// the target waits for (up to the grace) before resuming. So a command the
// client sent just before it saw MIGRATING runs on the target, and the source
// closes only once the target has the session.

var (
	_ fakeserver.Migrator = (*Server)(nil)
	_ fakeserver.RowPacer = (*Server)(nil)
)

// serverExtra is a server's migration and request settings (guarded by mu).
type serverExtra struct {
	store   fakeserver.ContextStore
	resolve func(name string) (string, bool)
	pace    time.Duration
	migN    int
}

type migration struct {
	id     string
	target string // server name
	url    string
	state  string
	hold   time.Duration
	timer  *time.Timer
	gen    int
	sealed bool
}

func (m *migration) stopTimer() {
	m.gen++
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
}

func (s *Server) grace() time.Duration {
	if s.opts.MigrationGrace > 0 {
		return s.opts.MigrationGrace
	}
	return fakeserver.DefaultMigrationGrace
}

// SetPeers implements Migrator. A nil Store keeps the one the server has.
func (s *Server) SetPeers(p fakeserver.Peers) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Store != nil {
		s.mx.store = p.Store
	}
	s.mx.resolve = p.Resolve
}

func (s *Server) recordMig(sess *session, m *migration, state, reason string, kv ...string) {
	e := history.Event{Kind: history.KindMigration, Session: sess.id, Reason: reason,
		Attrs: map[string]string{"state": state, "mig": m.id, "target": m.target}}
	if sess.conn != nil {
		e.Conn = sess.conn.id
	}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attrs[kv[i]] = kv[i+1]
	}
	s.record(e)
}

// liveLocked lists the sessions with a connection, by id (a stable order).
func (s *Server) liveLocked() []*session {
	var out []*session
	for _, sess := range s.sessions {
		if sess.conn != nil && !sess.conn.ended {
			out = append(out, sess)
		}
	}
	slices.SortFunc(out, func(a, b *session) int {
		if a.id < b.id {
			return -1
		}
		if a.id > b.id {
			return 1
		}
		return 0
	})
	return out
}

// Migrate implements Migrator.
func (s *Server) Migrate(to string, hold time.Duration) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, nil
	}
	if to == s.name {
		return 0, fmt.Errorf("server %s cannot migrate sessions to itself", s.name)
	}
	if s.mx.resolve == nil || s.mx.store == nil {
		return 0, fmt.Errorf("server %s has no peers to migrate to (no context store or name resolution)", s.name)
	}
	url, ok := s.mx.resolve(to)
	if !ok {
		return 0, fmt.Errorf("server %s: no address for migration target %q", s.name, to)
	}
	asked := 0
	for _, sess := range s.liveLocked() {
		m := sess.mx.mig
		if !sess.mx.canMigrate {
			s.recordMig(sess, &migration{target: to}, wire.MigFailed, wire.ReasonCannotMigrate)
			continue
		}
		switch {
		case m == nil:
			s.mx.migN++
			m = &migration{id: s.name + "-m" + strconv.Itoa(s.mx.migN), target: to, url: url, hold: hold, state: wire.MigRequested}
			sess.mx.mig = m
			s.recordMig(sess, m, wire.MigRequested, "")
		case m.state == wire.MigRequested || m.state == wire.MigReady:
			m.stopTimer()
			old := m.target
			m.target, m.url, m.hold, m.state = to, url, hold, wire.MigRequested
			s.recordMig(sess, m, wire.MigRequested, "", "retarget", "true", "previous", old)
		default: // MIGRATING: too late to change anything
			s.recordMig(sess, m, m.state, "retarget_refused", "asked", to)
			continue
		}
		asked++
		sess.conn.queueLocked(outItem{f: wire.Frame{T: wire.TMigrate, Mig: m.id, Target: m.url, State: wire.MigRequested}})
	}
	return asked, nil
}

// CancelMigration implements Migrator.
func (s *Server) CancelMigration() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	n := 0
	for _, sess := range s.liveLocked() {
		m := sess.mx.mig
		switch {
		case m == nil:
		case m.state == wire.MigRequested || m.state == wire.MigReady:
			m.stopTimer()
			sess.mx.mig = nil
			s.recordMig(sess, m, wire.MigCancelled, "")
			sess.conn.queueLocked(outItem{f: wire.Frame{T: wire.TMigrate, Mig: m.id, State: wire.MigCancelled}})
			n++
		default:
			s.recordMig(sess, m, m.state, "cancel_refused")
		}
	}
	return n
}

// handleExtraLocked handles the frames of requests and migration, and every
// command of a session that is migrating away. handled false: the caller
// handles f as before.
func (s *Server) handleExtraLocked(c *wsConn, sess *session, f wire.Frame) (handled, keep bool) {
	switch f.T {
	case wire.TMigReady, wire.TMigFailed, wire.TMigLeaving:
		s.onMigFrameLocked(c, sess, f)
		return true, !c.ended
	}
	if m := sess.mx.mig; m != nil && m.state == wire.MigMigrating {
		switch f.T {
		case wire.TSend, wire.TSub, wire.TReq, wire.TAttn:
			s.forwardLocked(c, sess, m, f)
			return true, true
		case wire.TClose: // the client closes its session mid-migration: nothing moves
			s.reclaimLocked(sess, m, "closed_by_client")
			return false, false
		}
	}
	switch f.T {
	case wire.TReq:
		s.onReqLocked(c, sess, f)
		return true, !c.ended
	case wire.TAttn:
		s.onAttnLocked(c.id, sess, f, false)
		return true, !c.ended
	}
	return false, false
}

func (s *Server) onMigFrameLocked(c *wsConn, sess *session, f wire.Frame) {
	m := sess.mx.mig
	if m == nil || f.Mig != m.id {
		return // a late answer to a migration that is over: nothing to do
	}
	switch f.T {
	case wire.TMigReady:
		if m.state != wire.MigRequested {
			return
		}
		m.state = wire.MigReady
		s.recordMig(sess, m, wire.MigReady, "")
		if m.hold <= 0 {
			s.startLocked(sess, m)
			return
		}
		m.stopTimer()
		gen := m.gen
		m.timer = time.AfterFunc(m.hold, func() { s.migTick(sess, m, gen, s.startLocked) })
	case wire.TMigLeaving:
		if m.state == wire.MigMigrating {
			s.sealLocked(sess, m, "leaving")
		}
	case wire.TMigFailed:
		reason := f.Reason
		if reason == "" {
			reason = "client reported failure"
		}
		s.failLocked(sess, m, reason)
	}
}

// migTick runs f for migration m of sess if it is still current.
func (s *Server) migTick(sess *session, m *migration, gen int, f func(*session, *migration)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.sessions[sess.id] != sess || sess.mx.mig != m || m.gen != gen {
		return
	}
	m.timer = nil
	f(sess, m)
}

// startLocked moves to MIGRATING: results are postponed, the context is
// shared, and the client is told to go.
func (s *Server) startLocked(sess *session, m *migration) {
	m.stopTimer()
	c := sess.conn
	abort := func(reason string) {
		sess.mx.mig = nil
		s.recordMig(sess, m, wire.MigFailed, reason)
		if c != nil { // let the client go on here
			c.queueLocked(outItem{f: wire.Frame{T: wire.TMigrate, Mig: m.id, State: wire.MigCancelled}})
		}
	}
	if c == nil || c.ended {
		sess.mx.mig = nil
		s.recordMig(sess, m, wire.MigFailed, "connection lost")
		return
	}
	if s.mx.store == nil {
		abort("no context store")
		return
	}
	m.state = wire.MigMigrating
	for _, r := range sess.mx.reqs {
		sess.mx.stop(r) // postponed: the target (or this server, on failure) goes on
	}
	err := s.mx.store.Put(s.contextLocked(sess, m), func() { s.migratedAway(sess, m) })
	if err != nil {
		m.state = wire.MigReady
		abort(err.Error())
		s.resumeRequestsLocked(sess, nil)
		return
	}
	s.recordMig(sess, m, wire.MigMigrating, "")
	c.queueLocked(outItem{f: wire.Frame{T: wire.TMigrate, Mig: m.id, Target: m.url, State: wire.MigMigrating}})
	gen := m.gen
	m.timer = time.AfterFunc(s.grace(), func() {
		s.migTick(sess, m, gen, func(sess *session, m *migration) { s.sealLocked(sess, m, "grace") })
	})
}

// contextLocked is the session's shareable context for migration m.
func (s *Server) contextLocked(sess *session, m *migration) fakeserver.SessionContext {
	c := fakeserver.SessionContext{Session: sess.id, Token: sess.token, Retention: sess.retention, NoReconnect: sess.noReconnect,
		Received: sess.received, Mig: m.id, From: s.name, Target: m.target}
	c.Topics = slices.Sorted(maps.Keys(sess.topics))
	for _, id := range sess.mx.order {
		c.Requests = append(c.Requests, sess.mx.reqs[id].RequestState)
	}
	return c
}

// forwardLocked puts a command read while migrating away into the shared
// context, for the target to run.
func (s *Server) forwardLocked(c *wsConn, sess *session, m *migration, f wire.Frame) {
	ok := s.mx.store.Forward(sess.id, m.id, f)
	e := history.Event{Kind: history.KindMigrationForward, Session: sess.id, Conn: c.id, Seq: f.N,
		Attrs: map[string]string{"mig": m.id, "what": f.T}}
	if f.Req != 0 {
		e.Attrs["req"] = itoa64(f.Req)
	}
	if f.Topic != "" {
		e.Topic = f.Topic
	}
	if !ok {
		e.Attrs["dropped"] = "true"
	}
	s.record(e)
}

// sealLocked marks the shared context complete.
func (s *Server) sealLocked(sess *session, m *migration, how string) {
	if m.sealed {
		return
	}
	m.sealed = true
	m.stopTimer()
	n, ok := s.mx.store.Seal(sess.id, m.id)
	e := history.Event{Kind: history.KindMigrationSeal, Session: sess.id,
		Attrs: map[string]string{"mig": m.id, "how": how, "forwarded": strconv.Itoa(n)}}
	if sess.conn != nil {
		e.Conn = sess.conn.id
	}
	if !ok {
		e.Attrs["gone"] = "true"
	}
	s.record(e)
}

// failLocked ends migration m without moving: the session stays here.
func (s *Server) failLocked(sess *session, m *migration, reason string) {
	m.stopTimer()
	if m.state != wire.MigMigrating {
		sess.mx.mig = nil
		s.recordMig(sess, m, wire.MigFailed, reason)
		return
	}
	s.reclaimLocked(sess, m, reason)
}

// reclaimLocked takes the shared context back (FAILED, reason): the
// forwarded commands run here and the postponed rows resume. false when the
// target already took the session.
func (s *Server) reclaimLocked(sess *session, m *migration, reason string) bool {
	m.stopTimer()
	sess.mx.mig = nil
	c, ok := s.mx.store.Reclaim(sess.id, m.id)
	if !ok {
		s.recordMig(sess, m, wire.MigFailed, reason+"; the target already has the session")
		return false
	}
	s.recordMig(sess, m, wire.MigFailed, reason, "forwarded", strconv.Itoa(len(c.Late)))
	conn := ""
	if sess.conn != nil {
		conn = sess.conn.id
	}
	s.applyLateLocked(sess, conn, c.Late)
	if sess.conn != nil {
		for _, id := range sess.mx.order {
			if r := sess.mx.reqs[id]; !r.Done {
				s.runLocked(sess, r)
			}
		}
	}
	return true
}

// applyLateLocked runs commands forwarded into a shared context, in order.
// Requests are only registered: the caller starts them (with the client's
// pending rows on a resume). Acks are not sent: a resume's received covers
// them, and on the source the client's next ack is cumulative.
func (s *Server) applyLateLocked(sess *session, conn string, late []wire.Frame) {
	for _, f := range late {
		switch f.T {
		case wire.TSend:
			e := history.Event{Kind: history.KindReceive, Session: sess.id, Conn: conn, Seq: f.N, Attrs: map[string]string{"forwarded": "true"}}
			if f.N <= sess.received {
				e.Attrs["dup"] = "true"
			} else {
				sess.received = f.N
			}
			s.record(e)
			if sess.conn != nil {
				sess.conn.queueLocked(outItem{f: wire.Frame{T: wire.TAck, N: f.N}})
			}
		case wire.TSub:
			sess.topics[f.Topic] = true
			s.record(history.Event{Kind: history.KindSubscribe, Session: sess.id, Topic: f.Topic, Attrs: map[string]string{"forwarded": "true"}})
		case wire.TReq:
			e := history.Event{Kind: history.KindRequest, Session: sess.id, Conn: conn,
				Attrs: map[string]string{"req": itoa64(f.Req), "rows": itoa64(f.Rows), "forwarded": "true"}}
			if sess.mx.reqs[f.Req] != nil {
				e.Attrs["dup"] = "true"
				s.record(e)
				continue
			}
			r := &request{RequestState: fakeserver.RequestState{ID: f.Req, Rows: f.Rows, Next: 1, Every: s.rowEvery()}}
			e.Attrs["every_ms"] = strconv.FormatFloat(float64(r.Every)/float64(time.Millisecond), 'f', -1, 64)
			s.record(e)
			sess.mx.add(r)
		case wire.TAttn:
			s.onAttnLocked(conn, sess, f, true)
		}
	}
}

// migratedAway runs when the target took the session: this server forgets
// it and closes its connection ("migrated": not a loss, not a close of the
// session).
func (s *Server) migratedAway(sess *session, m *migration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.sessions[sess.id] != sess {
		return
	}
	m.stopTimer()
	e := history.Event{Kind: history.KindMigrationHandoff, Session: sess.id, Attrs: map[string]string{"mig": m.id, "target": m.target}}
	c := sess.conn
	if c != nil {
		e.Conn = c.id
	}
	s.record(e)
	sess.mx.mig = nil
	sess.mx.stopTimers()
	s.forgetLocked(sess)
	if c != nil && !c.ended {
		c.finishLocked(wire.ReasonMigrated)
	}
}

// detachMigratingLocked handles the loss of a session's connection while a
// migration is under way. Before MIGRATING the migration fails. While
// MIGRATING the client is on its way to the target: the context is sealed
// with what arrived, and the session is kept here (for the retention, at
// least the grace) in case the client comes back; true means the caller
// must not close or expire it now.
func (s *Server) detachMigratingLocked(sess *session) bool {
	for _, r := range sess.mx.reqs {
		sess.mx.stop(r)
	}
	m := sess.mx.mig
	switch {
	case m == nil:
		return false
	case m.state != wire.MigMigrating:
		m.stopTimer()
		sess.mx.mig = nil
		s.recordMig(sess, m, wire.MigFailed, "connection lost")
		return false
	}
	s.sealLocked(sess, m, "lost")
	sess.conn = nil
	keep := max(sess.retention, 2*s.grace())
	gen := sess.gen
	sess.timer = time.AfterFunc(keep, func() { s.expire(sess, gen) })
	return true
}

// reclaimOnResumeLocked: a client that resumes here while its migration
// away is under way did not reach the target; the session stays here.
// false: the target already took it.
func (s *Server) reclaimOnResumeLocked(sess *session) bool {
	m := sess.mx.mig
	if m == nil {
		return true
	}
	if m.state != wire.MigMigrating {
		m.stopTimer()
		sess.mx.mig = nil
		s.recordMig(sess, m, wire.MigFailed, "resumed on the source")
		return true
	}
	return s.reclaimLocked(sess, m, "resumed on the source")
}

// dropExtrasLocked releases what a forgotten session holds of requests and
// migration: a migration under way is taken back from the store (the
// session is closed, so nothing may resume it elsewhere).
func (s *Server) dropExtrasLocked(sess *session) {
	sess.mx.stopTimers()
	if m := sess.mx.mig; m != nil && m.state == wire.MigMigrating && s.mx.store != nil {
		s.mx.store.Reclaim(sess.id, m.id)
	}
	sess.mx.mig = nil
}

// helloMigrated is the target's side: a hello naming a migration resumes
// the session from the shared context, waiting (up to the grace) for the
// source to seal it, then sends what the source postponed.
func (s *Server) helloMigrated(c *wsConn, f wire.Frame) bool {
	s.mu.Lock()
	store := s.mx.store
	s.mu.Unlock()
	var sc fakeserver.SessionContext
	sealed := false
	handoff := func() {}
	err := errors.New("no context store")
	if store != nil {
		ctx, cancel := context.WithTimeout(c.ctx, s.grace())
		sc, sealed, handoff, err = store.Take(ctx, f.Session, f.Token, f.Mig, s.name)
		cancel()
	}
	// The source lets the session go once it is resumed here, after our
	// lock is released (it takes the source's).
	resumed := false
	defer func() {
		if resumed {
			handoff()
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	giveBack := func() { // taken, but not served here: the session stays with the source
		_ = store.Put(sc, handoff)
		store.Seal(sc.Session, sc.Mig)
	}
	if s.closed || c.ended {
		if err == nil {
			giveBack()
		}
		s.lostLocked(c, "", "shutdown")
		return false
	}
	if err == nil && s.sessions[sc.Session] != nil {
		giveBack()
		err = fmt.Errorf("session %s already exists here", sc.Session)
	}
	if err != nil {
		s.refuseLocked(c, wire.ReasonUnknownSession, f)
		s.record(history.Event{Kind: history.KindSessionUnknown, Session: f.Session, Conn: c.id,
			Reason: err.Error(), Attrs: map[string]string{"mig": f.Mig}})
		return false
	}
	sess := &session{id: sc.Session, token: sc.Token, retention: sc.Retention, noReconnect: sc.NoReconnect,
		received: sc.Received, topics: map[string]bool{}, evicted: map[string]int64{}}
	sess.mx.canMigrate = f.Migration
	for _, t := range sc.Topics {
		sess.topics[t] = true
	}
	for _, rs := range sc.Requests {
		sess.mx.add(&request{RequestState: rs})
	}
	s.sessions[sess.id] = sess
	a := helloAttrs(f)
	a["mig"] = f.Mig
	s.record(history.Event{Kind: history.KindHandshake, Conn: c.id, Session: sess.id, OK: true, Attrs: a})
	s.record(history.Event{Kind: history.KindMigrationResume, Session: sess.id, Conn: c.id, Attrs: map[string]string{
		"mig": sc.Mig, "from": sc.From, "sealed": strconv.FormatBool(sealed), "forwarded": strconv.Itoa(len(sc.Late)),
		"received": itoa64(sc.Received), "requests": strconv.Itoa(len(sc.Requests))}})
	s.applyLateLocked(sess, c.id, sc.Late) // no connection attached yet: no frames, only evidence
	s.attachLocked(sess, c)
	c.queueLocked(outItem{startPing: true, f: wire.Frame{T: wire.TResumed, Session: sess.id, Received: sess.received,
		PingMS: s.opts.Ping.Milliseconds(), Reqs: sess.mx.known(f.Pending)}})
	s.resumeRequestsLocked(sess, f.Pending)
	resumed = true
	return true
}
