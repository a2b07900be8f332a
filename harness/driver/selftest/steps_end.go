package selftest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// The steps that end sessions and the process: streaming requests, close,
// a second session, another client's session, exit, the lifecycle rule
// over everything reported, and the end of stdin.

// requestRows is the short request's length; longRows the one cancelled.
const (
	requestRows = 3
	longRows    = 1_000_000
)

func (t *tester) stepRequest(s *Step) {
	if !t.feat[driver.FeatMigration] {
		s.skip("the hello does not declare migration: request and cancel were only checked to be refused (undeclared-ops)")
		return
	}
	if !t.needSession(s) {
		return
	}
	own := t.srv.kind.Protocol == fakeserver.OwnProtocol
	r, ok := t.do(s, 0, driver.Op{Op: driver.OpRequest, Rows: requestRows})
	if !ok {
		return
	}
	if !r.r.OK && !own {
		// A real library's migration is its server's going away (a lame
		// duck, a GOAWAY): streaming requests are faultline's protocol's.
		s.Summary = fmt.Sprintf("request refused (%q): streaming requests (M1–M6) are faultline's session protocol's; %s declares migration for its server's going-away", r.r.Error, t.rep.Hello.SDK)
		return
	}
	if !accepted(s, "request", r, "a driver that declares migration serves streaming requests") {
		return
	}
	id := r.r.Re
	done, ok := t.c.waitEvent(0, t.cfg.Timeout, func(e evRec) bool { return e.e.Type == driver.EvDone && e.e.Request == id })
	if !ok {
		s.fail("no done event for request %d within %s (%s); expected rows 1…%d, then {\"type\":\"done\",\"request\":%d}", id, ms(t.cfg.Timeout), r.where(), requestRows, id)
		return
	}
	var ns []int64
	for _, e := range t.c.eventsSince(0) {
		if e.e.Type == driver.EvRow && e.e.Request == id {
			ns = append(ns, e.e.N)
			if e.n > done.n {
				s.fail("%s: a row after its request's done (line %d); expected every row before the done", e.where(), done.n)
			}
		}
	}
	if fmt.Sprint(ns) != fmt.Sprint([]int64{1, 2, 3}) {
		s.fail("request %d's rows were %v; expected 1, 2, 3, each once, in order", id, ns)
	}
	if done.e.Cancelled {
		s.fail("%s: done cancelled, but no cancel was sent; expected \"cancelled\" only after a cancel", done.where())
	}
	// A long request, cancelled after its first row.
	lr, ok := t.do(s, 0, driver.Op{Op: driver.OpRequest, Rows: longRows})
	if !ok || !accepted(s, "request", lr, "a driver that declares migration serves streaming requests") {
		return
	}
	lid := lr.r.Re
	if _, ok := t.c.waitEvent(0, t.cfg.Timeout, func(e evRec) bool { return e.e.Type == driver.EvRow && e.e.Request == lid }); !ok {
		s.fail("no row of request %d within %s (%s); expected rows from 1", lid, ms(t.cfg.Timeout), lr.where())
		return
	}
	cr, ok := t.do(s, 0, driver.Op{Op: driver.OpCancel, Request: lid})
	if !ok || !accepted(s, "cancel", cr, "a cancel of a running request is taken") {
		return
	}
	cd, ok := t.c.waitEvent(0, t.cfg.Timeout, func(e evRec) bool { return e.e.Type == driver.EvDone && e.e.Request == lid })
	switch {
	case !ok:
		s.fail("no done event for the cancelled request %d within %s of the cancel (%s); expected {\"type\":\"done\",\"request\":%d,\"cancelled\":true}", lid, ms(t.cfg.Timeout), cr.where(), lid)
	case !cd.e.Cancelled:
		s.fail("%s: the cancelled request's done without \"cancelled\": true; expected the attention acknowledged", cd.where())
	default:
		s.Summary = fmt.Sprintf("request of %d rows: rows 1-%d then done; a request of %d cancelled after its first row: done cancelled", requestRows, requestRows, longRows)
	}
}

// closeSession closes client's session and holds it to the protocol:
// the reply ok, a state event into CLOSED_BY_CLIENT with reason
// closed_by_client, for the session it had.
func (t *tester) closeSession(s *Step, client int) bool {
	mark := t.c.mark()
	r, ok := t.do(s, client, driver.Op{Op: driver.OpClose})
	if !ok || !accepted(s, "close", r, "a close of a live session is taken") {
		return false
	}
	cl := clientKey(t, client)
	e, ok := t.c.waitEvent(mark, t.cfg.Timeout, func(e evRec) bool {
		return e.client == cl && e.e.Type == driver.EvState && driver.IsClosed(e.e.To)
	})
	if !ok {
		s.fail("no state event into CLOSED_BY_CLIENT within %s of the close (%s); expected the session closed deliberately%s", ms(t.cfg.Timeout), r.where(), t.statesText(t.c, mark, client))
		return false
	}
	if e.e.To != driver.ClosedByClient {
		s.fail("%s: a close op ended the session in %s; expected CLOSED_BY_CLIENT", e.where(), e.e.To)
	}
	if e.e.Reason != driver.ReasonClosedByClient {
		s.fail("%s: reason %q; expected %q (the checks match on close reasons)", e.where(), e.e.Reason, driver.ReasonClosedByClient)
	}
	if e.e.Session != "" && e.e.Session != t.sess[client] {
		s.fail("%s: the close names session %q, but the session open was %q; expected the session that closed", e.where(), e.e.Session, t.sess[client])
	}
	t.sess[client] = ""
	return true
}

func (t *tester) stepClose(s *Step) {
	if !t.needSession(s) {
		return
	}
	sess := t.sess[0]
	if !t.closeSession(s, 0) {
		return
	}
	s.Summary = fmt.Sprintf("session %q: CLOSED_BY_CLIENT, reason closed_by_client", sess)
}

// stepConnectAgain: a closed session stays closed; only a new connect
// starts a new one. A driver may refuse a second connect (an op that cannot
// be served now is refused), but scenarios that connect after a close then
// cannot run on it.
func (t *tester) stepConnectAgain(s *Step) {
	if !t.needServer(s) {
		return
	}
	switch {
	case !t.opened:
		s.skip("not run: no first session (see connect)")
		return
	case t.sess[0] != "":
		s.skip("not run: the first session did not close (see close)")
		return
	}
	mark := t.c.mark()
	op := t.connectOp()
	r, ok := t.do(s, 0, op)
	if !ok {
		return
	}
	if !r.r.OK {
		if t.c.mark() > mark {
			if e, moved := t.c.waitEvent(mark, 0, func(e evRec) bool { return e.e.Type == driver.EvState && e.client == 0 }); moved {
				s.fail("%s: a state event for a connect it refused; expected a refused op to change nothing", e.where())
			}
		}
		s.Summary = fmt.Sprintf("a second connect on the same client was refused (%q)", r.r.Error)
		s.note("a scenario that connects a client again after its close cannot run on this driver")
		return
	}
	up, ok := t.c.waitEvent(mark, t.cfg.Timeout, func(e evRec) bool {
		return e.client == 0 && e.e.Type == driver.EvState && e.e.To == driver.ConnectedActive
	})
	if !ok {
		s.fail("no CONNECTED_ACTIVE within %s of a second connect it accepted (%s)%s", ms(t.cfg.Timeout), r.where(), t.statesText(t.c, mark, 0))
		return
	}
	t.sess[0] = up.e.Session
	s.Summary = fmt.Sprintf("a new session %q: CONNECTING → CONNECTED_ACTIVE (left open for exit)", up.e.Session)
}

// stepSessions: a multi-session driver keeps its clients apart: client
// 1's session opens and closes with its events naming client 1, and
// client 0 sees nothing of it.
func (t *tester) stepSessions(s *Step) {
	if !t.multi {
		s.skip("one session per process: nothing to keep apart")
		return
	}
	if !t.needServer(s) {
		return
	}
	mark := t.c.mark()
	up, ok := t.connect(s, t.c, 1)
	if !ok {
		return
	}
	t.sess[1] = up.e.Session
	if !t.closeSession(s, 1) {
		return
	}
	for _, e := range t.c.eventsSince(mark) {
		if e.client == 0 && e.e.Type == driver.EvState {
			s.fail("%s: client 0's state changed while client 1 connected and closed; expected each client's events for its own session only", e.where())
		}
	}
	s.Summary = fmt.Sprintf("client 1 beside client 0: its session %q opened and closed, every event naming client 1", up.e.Session)
}

func (t *tester) stepExit(s *Step) {
	open := t.sess[0]
	mark := t.c.mark()
	op := driver.Op{Op: driver.OpExit}
	op.ID = t.nextID(0)
	sent := time.Now()
	if err := t.c.send(op); err != nil {
		s.fail("op %s could not be written (%v); expected a driver that reads its stdin until the exit op", opText(op), err)
		t.dead = "its stdin is closed"
		return
	}
	exited := t.p.waitExit(t.cfg.ExitWait)
	took := time.Since(sent)
	// Its last lines are in the pipe: read them before judging.
	t.c.wait(settle, func() bool { return t.c.ended })
	t.c.mu.Lock()
	r, answered := t.c.replies[op.ID]
	t.c.mu.Unlock()
	if !exited {
		s.fail("still running %s after the exit op; expected it to close its sessions and end (the harness kills its process group %s after the exit)", ms(took), ms(DefaultExitWait))
		t.dead = "it did not exit"
		return
	}
	t.dead = "it exited"
	closed := false
	if open != "" {
		_, closed = t.c.waitEvent(mark, 0, func(e evRec) bool {
			return e.client == 0 && e.e.Type == driver.EvState && e.e.To == driver.ClosedByClient
		})
		if !closed {
			s.fail("session %q was open at the exit, and the driver ended without a state event into CLOSED_BY_CLIENT; expected the exit to close it like a close op%s", open, t.statesText(t.c, mark, 0))
		}
	}
	reply := "unanswered (allowed: answer it if you can)"
	if answered {
		reply = fmt.Sprintf("answered ok %v on line %d", r.r.OK, r.n)
	}
	s.Summary = fmt.Sprintf("%s; exited (%s) %s after it", reply, t.p.exitText(), ms(took))
	if closed {
		s.Summary += fmt.Sprintf("; its open session %q closed CLOSED_BY_CLIENT", open)
	}
	if t.p.exitErr != nil {
		s.note("a non-zero exit status after an exit op: the harness does not judge it, but a clean exit is 0")
	}
}

// stepLifecycle judges everything the driver reported with the lifecycle
// check every run applies (U1), over the same history a run records: the
// connect ops, the state events and the server's own records.
func (t *tester) stepLifecycle(s *Step) {
	switch {
	case t.rep.Hello == nil:
		s.skip("not run: no well-formed hello")
		return
	case t.srv == nil:
		s.skip("not run: no session was opened (%s)", t.why)
		return
	}
	c, ok := check.New("lifecycle")
	if !ok {
		s.fail("the lifecycle check is not registered")
		return
	}
	h := t.log.Events()
	res := c.Check(check.Input{History: h, Scenario: t.srv.sc, Requirement: "U1"})
	switch res.Verdict {
	case check.OK:
		s.Summary = "U1 OK: " + res.Detail
	case check.Unknown:
		s.skip("not judged: %s", res.Detail)
	default:
		s.fail("U1 %s: %s%s", res.Verdict, res.Detail, lineAt(h, res.At))
	}
}

// lineAt names the driver's line recorded at t, if one was.
func lineAt(h history.History, at time.Duration) string {
	for _, e := range h {
		if e.T == at && e.Kind == history.KindState {
			if n, err := strconv.Atoi(e.Attr("line")); err == nil {
				return fmt.Sprintf(" (first offending line: %d)", n)
			}
		}
	}
	return ""
}

// stepEOF starts the driver once more, opens a session when there is a
// server, and ends its stdin without an exit op: it must exit.
func (t *tester) stepEOF(s *Step) {
	if t.rep.Hello == nil {
		s.skip("not run: no well-formed hello")
		return
	}
	p, err := startProc(t.cfg.Argv, t.cfg.Dir, []string{"FAULTLINE_DRIVER=2"})
	if err != nil {
		s.fail("could not start it again: %v", err)
		return
	}
	defer p.kill()
	c := newConv(p, t.cfg.Timeout, history.NewLog(history.NewClock()))
	defer func() { s.Problems = append(s.Problems, c.takeProblems()...) }()
	if !c.wait(t.cfg.Timeout, func() bool { return c.hello != nil || c.helloErr != "" }) || c.hello == nil {
		s.fail("the second process gave no well-formed hello within %s", ms(t.cfg.Timeout))
		return
	}
	session := ""
	if t.srv != nil {
		c.byURL[t.srv.url] = serverName
		c.sessionOf = t.srv.kind.ClientSession
		sub := &Step{}
		if up, ok := t.connect(sub, c, 0); ok {
			session = up.e.Session
		} else {
			s.note("its connect opened no session, so only an idle driver's exit was seen: %s", strings.Join(sub.Problems, "; "))
		}
	}
	mark := c.mark()
	began := time.Now()
	p.closeStdin()
	if !p.waitExit(t.cfg.ExitWait) {
		s.fail("still running %s after its stdin closed (no exit op); expected it to exit when its stdin ends (the harness kills its process group %s after)", ms(time.Since(began)), ms(DefaultExitWait))
		return
	}
	s.Summary = fmt.Sprintf("a second process exited (%s) %s after its stdin closed", p.exitText(), ms(time.Since(began)))
	if session != "" {
		c.wait(settle, func() bool { return c.ended })
		if _, ok := c.waitEvent(mark, 0, func(e evRec) bool { return e.e.Type == driver.EvState && driver.IsClosed(e.e.To) }); ok {
			s.Summary += fmt.Sprintf("; its session %q closed first", session)
		} else {
			s.note("its session %q ended with the process, without a state event into CLOSED_BY_CLIENT", session)
		}
	}
}
