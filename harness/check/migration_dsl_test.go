package check

import (
	"fmt"
	"strconv"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// A DSL for migration histories. Client 0 holds session A on s1
// (connection s1#1) from 5ms; the harness's ops and their OK replies, the
// servers' request/row/done/attention and migration events and the
// client's row/done/migration reports are added by time.
//
//	s := newM()
//	s.request(100, 1, 10)                 // op request id 1, 10 rows; s1 receives it
//	s.rows("s1", 1, 1, 4, 101, 2)         // s1 writes rows 1..4 from 101ms every 2ms; the client reports each
//	m := s.migrate(200, "s2")             // REQUESTED → READY → MIGRATING → seal → resume on s2, handoff
//	s.rows("s2", 1, 5, 10, m.resume+1, 2)
//	s.done("s2", 1, 250, false)

type mstory struct {
	story
	ops int
}

type mig struct {
	requested, ready, migrating, resume, handoff float64
}

func newM() *mstory {
	s := &mstory{}
	s.connect(5, "A")
	return s
}

func conn(server string) string {
	if server == "s1" {
		return "s1#1"
	}
	return server + "#9"
}

// op: the harness sends op at ms with attrs, the driver replies OK 0.2ms later.
func (s *mstory) op(ms float64, op string, kv ...string) int {
	s.ops++
	id := strconv.Itoa(s.ops)
	s.add(ev(ms, history.KindOp, append([]string{"op=" + op, "id=" + id}, kv...)...),
		ev(ms+0.2, history.KindReply, "op="+op, "id="+id, "ok=true"))
	return s.ops
}

// request: op request (its id is the op's id) at ms, received by s1 0.5ms later.
func (s *mstory) request(ms float64, rows int) int {
	id := s.op(ms, "request", "rows="+strconv.Itoa(rows))
	s.add(ev(ms+0.5, "request", "server=s1", "conn=s1#1", "session=A", "req="+strconv.Itoa(id), "rows="+strconv.Itoa(rows)))
	return id
}

// rows: server writes rows from..to of req every `every` ms from at; the
// client reports each 0.5ms after it was written. It returns when the next
// row would be due.
func (s *mstory) rows(server string, req, from, to int, at, every float64) float64 {
	for n := from; n <= to; n++ {
		s.add(ev(at, "row", "server="+server, "conn="+conn(server), "session=A", "req="+strconv.Itoa(req), "seq="+strconv.Itoa(n)),
			crow(at+0.5, req, n))
		at += every
	}
	return at
}

func crow(ms float64, req, n int) history.Event {
	return ev(ms, history.KindRow, "src=client", "request="+strconv.Itoa(req), "seq="+strconv.Itoa(n))
}

func cdone(ms float64, req int, cancelled bool) history.Event {
	return ev(ms, history.KindDone, "src=client", "request="+strconv.Itoa(req), "cancelled="+strconv.FormatBool(cancelled))
}

// done: server writes the final done of req at ms; the client reports it 0.5ms later.
func (s *mstory) done(server string, req int, ms float64, cancelled bool) {
	s.add(ev(ms, "done", "server="+server, "conn="+conn(server), "session=A", "req="+strconv.Itoa(req), "cancelled="+strconv.FormatBool(cancelled)),
		cdone(ms+0.5, req, cancelled))
}

func cmig(ms float64, state, target string) history.Event {
	return ev(ms, history.KindMigration, "src=client", "state="+state, "target="+target)
}

func smig(ms float64, state, target string, kv ...string) history.Event {
	return ev(ms, history.KindMigration, append([]string{"server=s1", "conn=s1#1", "session=A", "mig=s1-m1", "state=" + state, "target=" + target}, kv...)...)
}

// start: s1 requests a migration to target at ms; the client answers READY
// and s1 starts at once (MIGRATING at ms+2); the client leaves (seal).
func (s *mstory) start(ms float64, target string) mig {
	s.add(smig(ms, migRequested, target),
		cmig(ms+0.5, migRequested, target), cmig(ms+0.6, migReady, target),
		smig(ms+1, migReady, target), smig(ms+2, migMigrating, target),
		cmig(ms+2.5, migMigrating, target),
		ev(ms+3, history.KindMigrationSeal, "server=s1", "conn=s1#1", "session=A", "mig=s1-m1", "how=leaving", "forwarded=0"))
	return mig{requested: ms, ready: ms + 1, migrating: ms + 2}
}

// migrate: start, then the target resumes at ms+20, s1 hands off and closes
// ("migrated"), the client reports RESUMED.
func (s *mstory) migrate(ms float64, target string) mig {
	m := s.start(ms, target)
	m.resume, m.handoff = ms+20, ms+20.5
	s.add(ev(ms+19.5, "accept", "server="+target, "conn="+conn(target)),
		ev(ms+19.8, "handshake", "server="+target, "conn="+conn(target), "session=A", "ok=true", "resume=true", "mig=s1-m1"),
		ev(ms+20, history.KindMigrationResume, "server="+target, "conn="+conn(target), "session=A", "mig=s1-m1", "from=s1", "sealed=true"),
		ev(ms+20.5, history.KindMigrationHandoff, "server=s1", "conn=s1#1", "session=A", "mig=s1-m1", "target="+target),
		ev(ms+21, "conn.close", "server=s1", "conn=s1#1", "reason=migrated"),
		cmig(ms+21, migResumed, target))
	return m
}

// fail: the client reports the target unreachable at ms; s1 records FAILED.
func (s *mstory) fail(ms float64, target string) {
	s.add(cmig(ms, migFailed, target), smig(ms+0.5, migFailed, target, "reason=target unreachable"))
}

func (s *mstory) h() history.History { return s.hist() }

// mscen is scen() with s2 and s3.
func mscen(mods ...func(*scenario.Scenario)) *scenario.Scenario {
	return scen(append([]func(*scenario.Scenario){func(sc *scenario.Scenario) {
		sc.Servers = append(sc.Servers, scenario.Server{Name: "s2", Kind: "session"}, scenario.Server{Name: "s3", Kind: "session"})
	}}, mods...)...)
}

func reqStr(id int) string { return fmt.Sprintf("req=%d", id) }
