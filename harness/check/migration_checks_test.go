package check

import (
	"strconv"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// inBatch: request 1 (10 rows) streams from s1 (rows 1..4), s1 migrates the
// session to s2 at 110ms (resume at 130ms), s2 sends rows 5..10 and the done.
func inBatch() (*mstory, int, mig) {
	s := newM()
	id := s.request(100, 10)
	s.rows("s1", id, 1, 4, 101, 2)
	m := s.migrate(110, "s2")
	s.rows("s2", id, 5, 10, m.resume+1, 2)
	s.done("s2", id, m.resume+14, false)
	return s, id, m
}

func without(h history.History, drop func(history.Event) bool) history.History {
	return h.Filter(func(e history.Event) bool { return !drop(e) })
}

func clientRow(req, n int) func(history.Event) bool {
	return func(e history.Event) bool {
		return e.Source == history.SrcClient && e.Kind == history.KindRow && e.Attr("request") == strconv.Itoa(req) && e.Seq == int64(n)
	}
}

func TestRowsExactlyOnce(t *testing.T) {
	good, id, m := inBatch()
	dup, _, _ := inBatch()
	dup.add(crow(m.resume+3.7, id, 5)) // row 5 reported twice
	lost, _, _ := inBatch()
	afterDone, _, _ := inBatch()
	afterDone.add(crow(m.resume+20, id, 10))
	ghost, _, _ := inBatch() // s2 never wrote row 8, yet the client reports it
	noDone, _, _ := inBatch()
	uninterrupted := newM()
	uid := uninterrupted.request(100, 3)
	uninterrupted.rows("s1", uid, 1, 3, 101, 2)
	uninterrupted.done("s1", uid, 107, false)
	zero := 0
	runCases(t, []tcase{
		{name: "rows across the move exactly once", cfg: &RowsExactlyOnce{}, sc: mscen(), h: good.h(), verdict: OK,
			detail: []string{"1 interrupted by a migration"}},
		{name: "duplicated row", cfg: &RowsExactlyOnce{}, sc: mscen(), h: dup.h(), verdict: Failed,
			detail: []string{"duplicated row 5"}},
		{name: "lost row", cfg: &RowsExactlyOnce{}, sc: mscen(), h: without(lost.h(), clientRow(id, 7)), verdict: Failed,
			detail: []string{"lost row 7"}},
		{name: "lost last rows", cfg: &RowsExactlyOnce{}, sc: mscen(),
			h:       without(lost.h(), func(e history.Event) bool { return clientRow(id, 9)(e) || clientRow(id, 10)(e) }),
			verdict: Failed, detail: []string{"rows 9..10 never arrived"}},
		{name: "row after the done", cfg: &RowsExactlyOnce{}, sc: mscen(), h: afterDone.h(), verdict: Failed,
			detail: []string{"after the final done"}},
		{name: "row no server wrote", cfg: &RowsExactlyOnce{}, sc: mscen(),
			h: without(ghost.h(), func(e history.Event) bool {
				return e.Source == history.SrcServer && e.Kind == history.KindRow && e.Seq == 8
			}), verdict: Failed, detail: []string{"client reports row 8 that no server wrote"}},
		{name: "no final done", cfg: &RowsExactlyOnce{}, sc: mscen(),
			h: without(noDone.h(), func(e history.Event) bool { return e.Kind == history.KindDone }), verdict: Failed,
			detail: []string{"never ended"}},
		{name: "nothing interrupted", cfg: &RowsExactlyOnce{}, sc: mscen(), h: uninterrupted.h(), verdict: Unknown,
			detail: []string{"nothing to judge"}},
		{name: "nothing interrupted, none asked", cfg: &RowsExactlyOnce{MinInterrupted: &zero}, sc: mscen(), h: uninterrupted.h(), verdict: OK},
	})
}

func TestHandoffWindow(t *testing.T) {
	good, _, _ := inBatch()
	failed := newM()
	failed.start(110, "s2")
	failed.fail(400, "s2")
	wrong := newM()
	wrong.migrate(110, "s3")
	wrong.add(smig(111.5, migRequested, "s2", "retarget=true")) // the last target named is s2, the resume is on s3
	noHandoff, _, _ := inBatch()
	stillServing, id, m := inBatch()
	stillServing.add(ev(m.handoff+1, "row", "server=s1", "conn=s1#1", "session=A", reqStr(id), "seq=5"))
	refused := newM()
	refused.add(ev(110, history.KindMigration, "server=s1", "conn=s1#1", "session=A", "state=FAILED", "target=s2", "reason=connection cannot migrate"))
	runCases(t, []tcase{
		{name: "moved", cfg: &HandoffWindow{Within: Ptr(100 * time.Millisecond)}, sc: mscen(), h: good.h(), verdict: OK,
			detail: []string{"p50 20.0ms"}},
		{name: "window too long", cfg: &HandoffWindow{Within: Ptr(10 * time.Millisecond)}, sc: mscen(), h: good.h(), verdict: Failed,
			detail: []string{"handoff window 20.0ms exceeds 10.0ms"}},
		{name: "failed", cfg: &HandoffWindow{}, sc: mscen(), h: failed.h(), verdict: Failed,
			detail: []string{"did not complete: FAILED (target unreachable)"}},
		{name: "resumed on another server", cfg: &HandoffWindow{}, sc: mscen(), h: wrong.h(), verdict: Failed,
			detail: []string{"resumed on s3, not on its target s2"}},
		{name: "source never let go", cfg: &HandoffWindow{}, sc: mscen(),
			h: without(noHandoff.h(), func(e history.Event) bool { return e.Kind == history.KindMigrationHandoff }), verdict: Failed,
			detail: []string{"never let the session go"}},
		{name: "source still serving", cfg: &HandoffWindow{}, sc: mscen(), h: stillServing.h(), verdict: Failed,
			detail: []string{"still served the session after its handoff"}},
		{name: "client cannot migrate", cfg: &HandoffWindow{}, sc: mscen(), h: refused.h(), verdict: Failed,
			detail: []string{"could not migrate"}},
		{name: "no migration", cfg: &HandoffWindow{}, sc: mscen(), h: newM().h(), verdict: Unknown,
			detail: []string{"nothing to judge"}},
		{name: "client silent", cfg: &HandoffWindow{}, sc: mscen(),
			h:       without(good.h(), func(e history.Event) bool { return e.Source == history.SrcClient && e.Attr("state") == migResumed }),
			verdict: NonStrict, detail: []string{"never reported RESUMED"}},
	})
}

// heldStory: a send issued during the migration (at 115ms, MIGRATING) is
// received by s2 after the resume; a request issued then, likewise.
func heldStory() (*mstory, mig) {
	s, _, m := inBatch()
	s.op(90, "send")
	s.add(ev(90.5, "receive", "server=s1", "conn=s1#1", "session=A", "seq=1"))
	s.op(115, "send")
	id := s.op(116, "request", "rows=2")
	s.add(ev(m.resume+1, "receive", "server=s2", "conn=s2#9", "session=A", "seq=2"),
		ev(m.resume+1.2, "request", "server=s2", "conn=s2#9", "session=A", reqStr(id), "rows=2"))
	s.rows("s2", id, 1, 2, m.resume+2, 1)
	s.done("s2", id, m.resume+5, false)
	return s, m
}

func TestNoCommandLost(t *testing.T) {
	good, _ := heldStory()
	lostReq, _ := heldStory()
	lostReq.op(117, "request", "rows=5") // accepted, never reaches a server
	lostSend, m := heldStory()
	lostSend.op(118, "send")
	lostSend.add(ev(m.migrating+3, history.KindMigrationForward, "server=s1", "conn=s1#1", "session=A", "mig=s1-m1", "what=send", "seq=3", "dropped=true"))
	notHeld, _, _ := inBatch()
	notHeld.op(90, "send")
	notHeld.add(ev(90.5, "receive", "server=s1", "conn=s1#1", "session=A", "seq=1"))
	notHeld.op(111.2, "send") // after READY, before MIGRATING: sent to s1 anyway
	notHeld.add(ev(111.5, "receive", "server=s1", "conn=s1#1", "session=A", "seq=2"))
	twice, _ := heldStory()
	twice.add(ev(m.resume+3, "receive", "server=s2", "conn=s2#9", "session=A", "seq=1"))
	// The caveat: an attention sent to s1 while the client is READY arrives
	// after MIGRATING; s1 forwards it and s2 runs it.
	crossing, id, m2 := inBatch()
	crossing.op(111.8, "cancel", "request="+strconv.Itoa(id))
	crossing.add(ev(m2.migrating+0.5, history.KindMigrationForward, "server=s1", "conn=s1#1", "session=A", "mig=s1-m1", "what=attn", reqStr(id)),
		ev(m2.resume+0.1, "attention", "server=s2", "conn=s2#9", "session=A", reqStr(id), "outcome=cancelled", "forwarded=true"))
	runCases(t, []tcase{
		{name: "held and delivered after the resume", cfg: &NoCommandLost{Held: true, MinHeld: 2}, sc: mscen(), h: good.h(), verdict: OK,
			detail: []string{"2 issued during a migration"}},
		{name: "lost request", cfg: &NoCommandLost{}, sc: mscen(), h: lostReq.h(), verdict: Failed,
			detail: []string{"lost: client 0 request 5", "never reached a server"}},
		{name: "lost send dropped by the source", cfg: &NoCommandLost{}, sc: mscen(), h: lostSend.h(), verdict: Failed,
			detail: []string{"lost: client 0 send n=3", "the shared context was gone"}},
		{name: "not held", cfg: &NoCommandLost{Held: true}, sc: mscen(), h: notHeld.h(), verdict: Failed,
			detail: []string{"not held: client 0 send n=2", "reached s1 at 111.5ms"}},
		{name: "not held is fine without held", cfg: &NoCommandLost{}, sc: mscen(), h: notHeld.h(), verdict: OK},
		{name: "delivered twice", cfg: &NoCommandLost{}, sc: mscen(), h: twice.h(), verdict: Failed,
			detail: []string{"reached the servers 2 times"}},
		{name: "forwarded attention runs on the target", cfg: &NoCommandLost{Held: true, MinForwarded: 1}, sc: mscen(), h: crossing.h(), verdict: OK},
		{name: "forwarded attention never run", cfg: &NoCommandLost{}, sc: mscen(),
			h: without(crossing.h(), func(e history.Event) bool { return e.Kind == history.KindAttention }), verdict: Failed,
			detail: []string{"lost: client 0 cancel of request 1", "no server ran it"}},
		{name: "nothing forwarded", cfg: &NoCommandLost{MinForwarded: 1}, sc: mscen(), h: good.h(), verdict: Unknown,
			detail: []string{"nothing to judge"}},
	})
}

// cancelStory: request 1 (100 rows) streams from s1, the migration starts
// at 110ms, the application cancels at 115ms (held), s2 resumes at 130ms,
// writes rows 5 and 6, then gets the attention and acknowledges it.
func cancelStory() (*mstory, int, mig) {
	s := newM()
	id := s.request(100, 100)
	s.rows("s1", id, 1, 4, 101, 2)
	m := s.migrate(110, "s2")
	s.op(115, "cancel", "request="+strconv.Itoa(id))
	s.rows("s2", id, 5, 6, m.resume+1, 1)
	s.add(ev(m.resume+3, "attention", "server=s2", "conn=s2#9", "session=A", reqStr(id), "outcome=cancelled"))
	s.done("s2", id, m.resume+3.1, true)
	return s, id, m
}

func TestCancelAcknowledged(t *testing.T) {
	good, id, m := cancelStory()
	rowAfter, _, _ := cancelStory()
	rowAfter.add(crow(m.resume+5, id, 7)) // the client delivers a row after the ack
	serverAfter, _, _ := cancelStory()
	serverAfter.add(ev(m.resume+4, "row", "server=s2", "conn=s2#9", "session=A", reqStr(id), "seq=7"))
	never, _, _ := cancelStory()
	runCases(t, []tcase{
		{name: "acknowledged during migration", cfg: &CancelAcknowledged{DuringMigration: true, Within: Ptr(50 * time.Millisecond)}, sc: mscen(), h: good.h(), verdict: OK,
			detail: []string{"1 during a migration", "1 cancelled"}},
		{name: "row after the acknowledgment", cfg: &CancelAcknowledged{}, sc: mscen(), h: rowAfter.h(), verdict: Failed,
			detail: []string{"row 7", "after the acknowledgment"}},
		{name: "server row after the acknowledgment", cfg: &CancelAcknowledged{}, sc: mscen(), h: serverAfter.h(), verdict: Failed,
			detail: []string{"server s2 wrote row 7", "after acknowledging the attention"}},
		{name: "never acknowledged", cfg: &CancelAcknowledged{}, sc: mscen(),
			h: without(never.h(), func(e history.Event) bool { return e.Kind == history.KindDone }), verdict: Failed,
			detail: []string{"never acknowledged"}},
		{name: "too slow", cfg: &CancelAcknowledged{Within: Ptr(10 * time.Millisecond)}, sc: mscen(), h: good.h(), verdict: Failed,
			detail: []string{"more than 10.0ms"}},
		{name: "none during a migration", cfg: &CancelAcknowledged{DuringMigration: true}, sc: mscen(), h: func() history.History {
			s := newM()
			id := s.request(100, 100)
			s.rows("s1", id, 1, 2, 101, 2)
			s.op(104, "cancel", "request="+strconv.Itoa(id))
			s.add(ev(104.5, "attention", "server=s1", "conn=s1#1", "session=A", reqStr(id), "outcome=cancelled"))
			s.done("s1", id, 104.6, true)
			return s.h()
		}(), verdict: Unknown, detail: []string{"no cancel was issued during a migration"}},
	})
}

// failedStory: the target is unreachable; the client reports FAILED at
// 400ms, s1 takes the session back and finishes the request.
func failedStory() *mstory {
	s := newM()
	id := s.request(100, 6)
	s.rows("s1", id, 1, 3, 101, 2)
	s.start(110, "s2")
	s.fail(400, "s2")
	s.rows("s1", id, 4, 6, 401, 2)
	s.done("s1", id, 407, false)
	return s
}

func TestMigrationFailedIntact(t *testing.T) {
	good := failedStory()
	left := failedStory()
	left.add(state(402, cA, rR, "A"))
	moved, _, _ := inBatch()
	closed := failedStory()
	closed.add(ev(410, "session.close", "server=s1", "session=A", "reason=closed_by_server"))
	refused := newM()
	refused.add(ev(110, history.KindMigration, "server=s1", "conn=s1#1", "session=A", "state=FAILED", "target=s2", "reason=connection cannot migrate"))
	claims := failedStory()
	claims.add(cmig(420, migResumed, "s2"))
	runCases(t, []tcase{
		{name: "failed, session intact", cfg: &MigrationFailedIntact{Outcome: "failed", Within: Ptr(time.Second)}, sc: mscen(), h: good.h(), verdict: OK},
		{name: "reason", cfg: &MigrationFailedIntact{Reason: "unreachable"}, sc: mscen(), h: good.h(), verdict: OK},
		{name: "wrong outcome", cfg: &MigrationFailedIntact{Outcome: "cancelled"}, sc: mscen(), h: good.h(), verdict: Failed,
			detail: []string{"ended failed", "expected cancelled"}},
		{name: "client left", cfg: &MigrationFailedIntact{}, sc: mscen(), h: left.h(), verdict: Failed,
			detail: []string{"went CONNECTED_ACTIVE → RECOVERING_RECONNECT"}},
		{name: "completed after all", cfg: &MigrationFailedIntact{}, sc: mscen(), h: moved.h(), verdict: Failed,
			detail: []string{"completed (resumed on s2"}},
		{name: "source closed it", cfg: &MigrationFailedIntact{}, sc: mscen(), h: closed.h(), verdict: Failed,
			detail: []string{"let the session go"}},
		{name: "refused", cfg: &MigrationFailedIntact{Outcome: "refused", Reason: "connection cannot migrate"}, sc: mscen(), h: refused.h(), verdict: OK},
		{name: "refused, other reason asked", cfg: &MigrationFailedIntact{Reason: "unreachable"}, sc: mscen(), h: refused.h(), verdict: Failed,
			detail: []string{`expected it to contain "unreachable"`}},
		{name: "client claims a move", cfg: &MigrationFailedIntact{}, sc: mscen(), h: claims.h(), verdict: Failed,
			detail: []string{"reports RESUMED on s2, but no server resumed"}},
		{name: "client silent", cfg: &MigrationFailedIntact{}, sc: mscen(),
			h:       without(good.h(), func(e history.Event) bool { return e.Source == history.SrcClient && e.Kind == history.KindMigration }),
			verdict: NonStrict, detail: []string{"never reported how it ended"}},
	})
}

func TestMigrationNoReconnect(t *testing.T) {
	good, _, _ := inBatch()
	// The migration's own disconnect (s1 closes "migrated") taken for a loss:
	// the client reconnects to s1.
	reconnect, _, m := inBatch()
	reconnect.add(state(m.handoff+1, cA, rR, "A", "server=s1"),
		ev(m.handoff+100, "accept", "server=s1", "conn=s1#2"),
		ev(m.handoff+100.5, "handshake", "server=s1", "conn=s1#2", "ok=false", "session=A", "resume=true", "reason=unknown_session"))
	failover, _, m2 := inBatch()
	failover.add(state(m2.handoff+1, cA, cg, "A", "reason=connection_lost"))
	serverOnly, _, m3 := inBatch()
	serverOnly.add(ev(m3.resume+50, "accept", "server=s2", "conn=s2#10"),
		ev(m3.resume+50.5, "handshake", "server=s2", "conn=s2#10", "ok=true", "session=A", "resume=true"))
	cutButMoved, _, m4 := inBatch()
	cutButMoved.add(ev(m4.migrating+5, "fault.on", "link=s1", "verb=cut"), state(m4.migrating+6, cA, rR, "A"))
	cutNotMoved := failedStory()
	cutNotMoved.add(ev(200, "fault.on", "link=s1", "verb=cut"), state(201, cA, rR, "A"), state(260, rR, cA, "A"))
	runCases(t, []tcase{
		{name: "no reconnect", cfg: &MigrationNoReconnect{}, sc: mscen(), h: good.h(), verdict: OK,
			detail: []string{"no reconnect, no failover"}},
		{name: "reconnect fired by the migration's disconnect", cfg: &MigrationNoReconnect{}, sc: mscen(), h: reconnect.h(), verdict: Failed,
			detail: []string{"left CONNECTED_ACTIVE for RECOVERING_RECONNECT", "after the source's migration disconnect"}},
		{name: "failover fired by the migration", cfg: &MigrationNoReconnect{}, sc: mscen(), h: failover.h(), verdict: Failed,
			detail: []string{"left CONNECTED_ACTIVE for CONNECTING (connection_lost)"}},
		{name: "server sees a reconnect", cfg: &MigrationNoReconnect{}, sc: mscen(), h: serverOnly.h(), verdict: Failed,
			detail: []string{"s2 saw the session resume again"}},
		{name: "a cut source is no excuse once moved", cfg: &MigrationNoReconnect{}, sc: mscen(), h: cutButMoved.h(), verdict: Failed,
			detail: []string{"RECOVERING_RECONNECT"}},
		{name: "a cut source excuses a failed migration", cfg: &MigrationNoReconnect{}, sc: mscen(), h: cutNotMoved.h(), verdict: OK},
		{name: "nothing to judge", cfg: &MigrationNoReconnect{}, sc: mscen(), h: newM().h(), verdict: Unknown,
			detail: []string{"nothing to judge"}},
	})
}

func TestMigrationCheckersRegisteredAndValidate(t *testing.T) {
	for _, name := range []string{"handoff_window", "rows_exactly_once", "no_command_lost", "cancel_acknowledged", "migration_failed_intact", "migration_no_reconnect"} {
		if _, ok := New(name); !ok {
			t.Errorf("checker %s is not registered", name)
		}
	}
	neg := -1
	for _, c := range []validator{&HandoffWindow{Within: Ptr(-time.Second)}, &HandoffWindow{MinMigrations: Ptr(-1)}, &HandoffWindow{MinMigrations: Ptr(0)}, &RowsExactlyOnce{MinInterrupted: &neg},
		&NoCommandLost{MinHeld: 1}, &NoCommandLost{MinForwarded: -1}, &CancelAcknowledged{Within: Ptr(time.Duration(-1))},
		&MigrationFailedIntact{Outcome: "moved"}, &MigrationNoReconnect{Settle: Ptr(time.Duration(-1))}} {
		if c.Validate() == nil {
			t.Errorf("%T %+v must not validate", c, c)
		}
	}
}

// The client's RESUMED is held against the target's migration.resume of the
// same instant: within the stamps' slack plus the machine's stall between
// them it agrees; beyond it, late or early, the result is NON-STRICT.
func TestHandoffWindowClientClaim(t *testing.T) {
	// inBatch() (REQUESTED at 110ms, s2 resumes at 130ms), with the client's
	// RESUMED (131ms) moved to claim.
	claimAt := func(claim float64, extra ...history.Event) history.History {
		s, _, _ := inBatch()
		s.add(extra...)
		h := without(s.h(), func(e history.Event) bool {
			return e.Source == history.SrcClient && e.Attr("state") == migResumed
		})
		return (&story{evs: append(h, cmig(claim, migResumed, "s2"))}).hist()
	}
	stall := func(at float64, d string) history.Event { return ev(at, history.KindStall, "src=harness", "for="+d) }
	runCases(t, []tcase{
		{name: "claim within the slack", cfg: &HandoffWindow{}, sc: mscen(), h: claimAt(139), verdict: OK},
		{name: "claim within slack + stall", cfg: &HandoffWindow{}, sc: mscen(), h: claimAt(170, stall(165, "35ms")), verdict: OK},
		{name: "claim 200ms late", cfg: &HandoffWindow{}, sc: mscen(), h: claimAt(330), verdict: NonStrict,
			detail: []string{"client 0 RESUMED at 330.0ms, target s2 migration.resume at 130.0ms: gap 200.0ms > slack 10.0ms (the client's claim is late)"}},
		{name: "claim early", cfg: &HandoffWindow{}, sc: mscen(), h: claimAt(112), verdict: NonStrict,
			detail: []string{"client 0 RESUMED at 112.0ms, target s2 migration.resume at 130.0ms: gap 18.0ms > slack 10.0ms (the client's claim is early)"}},
	})
}

// An explicit within of 0 is zero, never "measured only"; min_migrations 0
// would judge nothing, so it is a bad parameter.
func TestHandoffWindowExplicitZero(t *testing.T) {
	good, _, _ := inBatch()
	runCases(t, []tcase{
		{name: "within unset: measured only", cfg: &HandoffWindow{}, sc: mscen(), h: good.h(), verdict: OK},
		{name: "within 0", cfg: &HandoffWindow{Within: Ptr(time.Duration(0))}, sc: mscen(), h: good.h(), verdict: Failed,
			detail: []string{"handoff window 20.0ms exceeds 0.0ms"}},
		{name: "min_migrations 0", cfg: &HandoffWindow{MinMigrations: Ptr(0)}, sc: mscen(), h: good.h(), verdict: Failed,
			detail: []string{"bad parameters: min_migrations must be at least 1"}},
		{name: "min_migrations 2", cfg: &HandoffWindow{MinMigrations: Ptr(2)}, sc: mscen(), h: good.h(), verdict: Unknown,
			detail: []string{"1 migration(s) in the history", "want at least 2"}},
	})
}

// As in migration-target-slow: the target's link delays its answer by its
// latency, so the client's RESUMED trails the target's resume by that much.
func TestHandoffWindowClientClaimAcrossASlowTarget(t *testing.T) {
	claimAt := func(claim float64) history.History {
		s, _, _ := inBatch()
		s.add(ev(1, history.KindFaultOn, "link=s2", "verb=slow", "latency=150ms", "jitter=0s", "direction=both"))
		h := without(s.h(), func(e history.Event) bool {
			return e.Source == history.SrcClient && e.Attr("state") == migResumed
		})
		return (&story{evs: append(h, cmig(claim, migResumed, "s2"))}).hist()
	}
	runCases(t, []tcase{
		{name: "RESUMED one latency after the resume", cfg: &HandoffWindow{}, sc: mscen(), h: claimAt(281), verdict: OK},
		{name: "RESUMED beyond the latency", cfg: &HandoffWindow{}, sc: mscen(), h: claimAt(330), verdict: NonStrict,
			detail: []string{"gap 200.0ms > slack 10.0ms + link 160.0ms"}},
	})
}
