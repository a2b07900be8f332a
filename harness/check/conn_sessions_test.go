package check

import (
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// Sessions that are their connections (conn_sessions.go), in histories as
// the NATS pack records them (packs/nats/sessions.go): an answered handshake
// names the session (server_id/client_id) and the server records its
// session.create with retention_ms 0 and scope connection; the connection's
// end is conn.close, then session.disconnect (transport, or idle for a stale
// connection) and session.expire. A client that comes back does so on a new
// session, which it names in its CONNECTED_ACTIVE.

// connScope is the NATS pack's session.create; zeroRetention is a session
// protocol's server granting retention 0, which says nothing of scope.
var (
	connScope     = []string{"retention_ms=0", "scope=" + ScopeConnection}
	zeroRetention = []string{"retention_ms=0", "ping_ms=100"}
)

// natsPhase is the nats.go driver's phase of each state (drivers/nats.go).
var natsPhase = map[string]string{
	cg: "connecting", cA: "connected", rR: "recovering",
	cBC: "closed_by_client", cBS: "closed_by_server", cF: "closed_failed",
}

// nstate is a client-0 state event on s1 carrying the driver's phase.
func nstate(ms float64, from, to, session string, kv ...string) history.Event {
	return state(ms, from, to, session, append([]string{"phase=" + natsPhase[to]}, kv...)...)
}

// natsScen is scen() with s1 a NATS server (no retention past a connection).
func natsScen(mods ...func(*scenario.Scenario)) *scenario.Scenario {
	return scen(append([]func(*scenario.Scenario){func(sc *scenario.Scenario) {
		sc.Servers[0].Kind, sc.Servers[0].Retention = "nats", 0
	}}, mods...)...)
}

func optOut(sc *scenario.Scenario) { sc.Client.Reconnect.Enabled = false }

// natsStart: the client's first CONNECTING, 1ms before its first connection.
func natsStart(s *story, ms float64) {
	s.add(ev(ms-1, history.KindState, "from=", "to="+cg, "server=s1", "phase="+natsPhase[cg]))
}

// natsConnect: a connection accepted at ms whose handshake is answered with
// session sess, created by the server with attrs; the client reports
// from → CONNECTED_ACTIVE on sess 2ms after the accept. It returns the
// connection.
func natsConnect(s *story, ms float64, from, sess string, attrs []string) string {
	c := s.nextConn()
	s.add(
		ev(ms, "accept", "server=s1", "conn="+c),
		ev(ms+0.5, "handshake", "server=s1", "conn="+c, "ok=true", "session="+sess, "name=faultline-0"),
		ev(ms+0.6, "session.create", append([]string{"server=s1", "conn=" + c, "session=" + sess}, attrs...)...),
		nstate(ms+2, from, cA, sess),
	)
	return c
}

// natsEnd: at ms the server's side of connection c (session sess) ended with
// the NATS reason nreason, and the session with it, as the NATS pack maps
// it (packs/nats/sessions.go).
func natsEnd(s *story, ms float64, c, sess, nreason string) {
	why := history.DisconnTransport
	switch nreason {
	case "stale":
		why = history.DisconnIdle
	case "lame_duck":
		why = history.DisconnGoingAway
	case "server_close", "killed":
		why = history.DisconnServer
	}
	s.add(
		ev(ms, "conn.close", "server=s1", "conn="+c, "session="+sess, "reason="+nreason),
		ev(ms, "session.disconnect", "server=s1", "conn="+c, "session="+sess, "reason="+why, "conn_reason="+nreason),
		ev(ms, "session.expire", "server=s1", "session="+sess),
	)
}

// natsCut: a cut of s1 at ms; the server sees connection c end 1ms later.
func natsCut(s *story, ms float64, c, sess string) {
	s.add(ev(ms, "fault.on", "link=s1", "verb=cut"))
	natsEnd(s, ms+1, c, sess, "eof")
}

// natsFail: an attempt accepted at ms whose connection is reset 1ms later,
// before any handshake; it returns the close time.
func natsFail(s *story, ms float64) float64 {
	c := s.nextConn()
	s.add(ev(ms, "accept", "server=s1", "conn="+c), ev(ms+1, "conn.close", "server=s1", "conn="+c, "reason=eof"))
	return ms + 1
}

// R4: the client is back when the server creates the new session it names.
func TestReconnectWindowConnSessions(t *testing.T) {
	// healed: session SRV/1 on s1#1; a cut at 400ms (the server ends the
	// connection at 401, the client is RECOVERING at 402); failing attempts
	// 100, 200, 400ms after each close (the last closed at 1105ms, so
	// attempt 3 is due at 1905ms: bound 505ms + 50ms); the heal at 1400ms.
	healed := func(create []string) *story {
		s := &story{}
		natsStart(s, 5)
		c := natsConnect(s, 5, cg, "SRV/1", create)
		natsCut(s, 400, c, "SRV/1")
		s.add(nstate(402, cA, rR, "SRV/1"))
		t := 402.0
		for _, d := range []float64{100, 200, 400} {
			t = natsFail(s, t+d)
		}
		s.add(ev(1400, "fault.off", "link=s1", "verb=cut"))
		return s
	}
	// back: healed, then the client's attempt at ms lands on the new session
	// SRV/2.
	back := func(ms float64) history.History {
		s := healed(connScope)
		natsConnect(s, ms, rR, "SRV/2", connScope)
		return s.hist()
	}
	runCases(t, []tcase{
		{name: "back on the new session within the bound", cfg: &ReconnectWindow{}, sc: natsScen(), h: back(1905), verdict: OK,
			detail: []string{"1 heal(s): each client back within its bound (1 on a new session: their sessions are their connections)"}},
		{name: "back on the new session too late", cfg: &ReconnectWindow{}, sc: natsScen(), h: back(2300), verdict: Failed,
			detail: []string{"client 0: reconnect window 900.6ms > bound 555.0ms", "heal at 1400.0ms, create at 2300.6ms"}},
		{name: "a resume of the old session is not the way back", cfg: &ReconnectWindow{}, sc: natsScen(), h: func() history.History {
			s := healed(connScope)
			c := s.nextConn()
			s.add(ev(1905, "accept", "server=s1", "conn="+c),
				ev(1905.5, "handshake", "server=s1", "conn="+c, "ok=true", "session=SRV/1", "resume=true"),
				ev(1905.6, "session.resume", "server=s1", "conn="+c, "session=SRV/1"),
				nstate(1907, rR, cA, "SRV/1"))
			return s.hist()
		}(), verdict: Failed,
			detail: []string{`client 0: no server session.create of the new session the client named after the heal at 1400.0ms`,
				`session "SRV/1" was its connection (scope connection)`, "recovered (CONNECTED_ACTIVE) at 1907.0ms"}},
		{name: "the client names a session the server never created", cfg: &ReconnectWindow{}, sc: natsScen(), h: func() history.History {
			s := healed(connScope)
			natsConnect(s, 1905, rR, "SRV/2", connScope)
			h := s.hist()
			for i := range h { // the client reports another session than the server's
				if h[i].Kind == history.KindState && h[i].Session == "SRV/2" {
					h[i].Session = "SRV/3"
				}
			}
			return h
		}(), verdict: Failed,
			detail: []string{"no server session.create of the new session the client named after the heal at 1400.0ms"}},
		{name: "never back", cfg: &ReconnectWindow{}, sc: natsScen(), h: healed(connScope).add(
			nstate(3402, rR, cF, "SRV/1", "reason=reconnect_timeout")).hist(), verdict: Failed,
			detail: []string{"no server session.create of the new session", "went CLOSED_FAILED (reconnect_timeout) at 3402.0ms"}},
	})
}

// R7: the server's record of the lost connection's end stands for its close.
func TestNoReconnectConnSessions(t *testing.T) {
	// lost: session SRV/1 on s1#1, cut at 400ms, the client CLOSED_FAILED at
	// 402ms; ended: whether the server recorded the connection's end.
	lost := func(ended bool, then ...history.Event) history.History {
		s := &story{}
		natsStart(s, 5)
		c := natsConnect(s, 5, cg, "SRV/1", connScope)
		if ended {
			natsCut(s, 400, c, "SRV/1")
		} else {
			s.add(ev(400, "fault.on", "link=s1", "verb=cut"))
		}
		s.add(nstate(402, cA, cF, "SRV/1", "reason=connection_lost"))
		return s.add(then...).hist()
	}
	runCases(t, []tcase{
		{name: "the connection's end is the server's close", cfg: &NoReconnect{}, sc: natsScen(optOut), h: lost(true), verdict: OK,
			detail: []string{"its session ended with the connection (the server keeps nothing past it)"}},
		{name: "the server never saw the connection end", cfg: &NoReconnect{}, sc: natsScen(optOut), h: lost(false), verdict: Failed,
			detail: []string{`the server never recorded the end of session "SRV/1"'s connection after cut on s1 at 400.0ms`}},
		{name: "a disconnect before the fault is not the loss's evidence", cfg: &NoReconnect{}, sc: natsScen(optOut), h: func() history.History {
			h := lost(true)
			for i := range h {
				if h[i].Source == history.SrcServer && h[i].T == msd(401) {
					h[i].T = msd(300) // recorded 100ms before the cut: another end
				}
			}
			return (&story{evs: h}).hist()
		}(), verdict: Failed,
			detail: []string{`the server never recorded the end of session "SRV/1"'s connection after cut on s1 at 400.0ms`}},
		{name: "an attempt on a new session after the loss", cfg: &NoReconnect{}, sc: natsScen(optOut), h: func() history.History {
			s := &story{}
			natsStart(s, 5)
			c := natsConnect(s, 5, cg, "SRV/1", connScope)
			natsCut(s, 400, c, "SRV/1")
			s.add(nstate(402, cA, cF, "SRV/1", "reason=connection_lost"))
			s.add(ev(500, "fault.off", "link=s1", "verb=cut"))
			c2 := s.nextConn()
			s.add(ev(600, "accept", "server=s1", "conn="+c2),
				ev(600.5, "handshake", "server=s1", "conn="+c2, "ok=true", "session=SRV/2"),
				ev(600.6, "session.create", append([]string{"server=s1", "conn=" + c2, "session=SRV/2"}, connScope...)...))
			return s.hist()
		}(), verdict: Failed,
			detail: []string{"opt-out client 0 made 1 attempt(s) after cut on s1 at 400.0ms: server accept s1#2 at 600.0ms"}},
		{name: "the opt-out client reconnects onto a new session", cfg: &NoReconnect{}, sc: natsScen(optOut), h: func() history.History {
			s := &story{}
			natsStart(s, 5)
			c := natsConnect(s, 5, cg, "SRV/1", connScope)
			natsCut(s, 400, c, "SRV/1")
			s.add(nstate(402, cA, rR, "SRV/1"), ev(500, "fault.off", "link=s1", "verb=cut"))
			natsConnect(s, 600, rR, "SRV/2", connScope)
			return s.hist()
		}(), verdict: Failed,
			detail: []string{"client 0 went RECOVERING_RECONNECT at 402.0ms after cut on s1 at 400.0ms, expected CONNECTED_ACTIVE → CLOSED_FAILED at once",
				"opt-out client 0 entered RECOVERING_RECONNECT at 402.0ms", "made 1 attempt(s) after cut on s1 at 400.0ms: server accept s1#2 at 600.0ms"}},
	})
}

// R8 by client: the connection's end after the close op, with no loss fault
// in force, is the server's record of the close.
func TestDeliberateCloseConnSessions(t *testing.T) {
	// open: session SRV/1 on s1#1 from 5ms, then the given events.
	open := func(evs ...history.Event) *story {
		s := &story{}
		natsStart(s, 5)
		natsConnect(s, 5, cg, "SRV/1", connScope)
		return s.add(evs...)
	}
	op := ev(500, "op", "op=close", "client=0", "id=9")
	closed := nstate(502, cA, cBC, "SRV/1", "reason=closed_by_client")
	// closedAt: open, the close op, the server's end of s1#1 at ms.
	closedAt := func(ms float64, evs ...history.Event) *story {
		s := open(op, closed)
		natsEnd(s, ms, "s1#1", "SRV/1", "eof")
		return s.add(evs...)
	}
	by := &DeliberateClose{By: "client"}
	runCases(t, []tcase{
		{name: "the connection's end is the server's record", cfg: by, sc: natsScen(), h: closedAt(501).hist(), verdict: OK},
		{name: "a slow link is no loss", cfg: by, sc: natsScen(), h: closedAt(501,
			ev(300, "fault.on", "link=s1", "verb=slow", "latency=50ms", "jitter=0s", "direction=both")).hist(), verdict: OK},
		{name: "the server never saw the connection end", cfg: by, sc: natsScen(), h: open(op, closed).hist(), verdict: Failed,
			detail: []string{`the server never recorded the end of session "SRV/1"'s connection after the harness op close at 500.0ms`}},
		{name: "the end came before the close op", cfg: by, sc: natsScen(), h: func() history.History {
			s := open(ev(450, "fault.on", "link=s1", "verb=cut"), op, closed)
			natsEnd(s, 451, "s1#1", "SRV/1", "eof")
			return s.hist()
		}(), verdict: Failed,
			detail: []string{`the server never recorded the end of session "SRV/1"'s connection after the harness op close at 500.0ms`}},
		{name: "closed into a blackhole: the end is the fault's", cfg: by, sc: natsScen(), h: func() history.History {
			// The client's close goes into the blackhole; the server ends
			// the connection as stale at 700ms, while the blackhole holds.
			s := open(ev(450, "fault.on", "link=s1", "verb=blackhole"), op, closed,
				ev(700, "nats.err", "server=s1", "conn=s1#1", "reason=Stale Connection"),
				ev(1000, "fault.off", "link=s1", "verb=blackhole"))
			natsEnd(s, 700, "s1#1", "SRV/1", "stale")
			return s.hist()
		}(), verdict: Failed,
			detail: []string{`session "SRV/1"'s connection ended at 700.0ms with a loss fault in force on s1: the server's evidence cannot tell the client's close from the fault`}},
		{name: "a cut just as the connection ends", cfg: by, sc: natsScen(), h: closedAt(501, ev(501, "fault.on", "link=s1", "verb=cut")).hist(), verdict: Failed,
			detail: []string{"connection ended at 501.0ms with a loss fault in force on s1"}},
		{name: "reconnects onto a new session after the close", cfg: by, sc: natsScen(), h: func() history.History {
			s := closedAt(501)
			c := s.nextConn()
			return s.add(ev(700, "accept", "server=s1", "conn="+c),
				ev(700.5, "handshake", "server=s1", "conn="+c, "ok=true", "session=SRV/2"),
				ev(700.6, "session.create", append([]string{"server=s1", "conn=" + c, "session=SRV/2"}, connScope...)...)).hist()
		}(), verdict: Failed,
			detail: []string{"reconnect after deliberate close: 1 server accept(s) after the harness op close at 500.0ms: s1#2 at 700.0ms"}},
	})
}

// A session protocol's server that grants retention 0 (no scope) still
// closes its sessions by message and resumes them: the connection's end and
// a new session are not its evidence.
func TestZeroRetentionIsNoConnScope(t *testing.T) {
	// R4: back on a new session, as a connection-scoped client would be.
	healedOnNew := func(create []string) history.History {
		s := &story{}
		natsStart(s, 5)
		c := natsConnect(s, 5, cg, "SRV/1", create)
		natsCut(s, 400, c, "SRV/1")
		s.add(nstate(402, cA, rR, "SRV/1"))
		t := 402.0
		for _, d := range []float64{100, 200, 400} {
			t = natsFail(s, t+d)
		}
		s.add(ev(1400, "fault.off", "link=s1", "verb=cut"))
		natsConnect(s, 1905, rR, "SRV/2", create)
		return s.hist()
	}
	// R7: the connection ends, the client closes; close: the server's
	// session.close after it, if any.
	lost := func(create []string, close ...history.Event) history.History {
		s := &story{}
		natsStart(s, 5)
		c := natsConnect(s, 5, cg, "SRV/1", create)
		natsCut(s, 400, c, "SRV/1")
		s.add(nstate(402, cA, cF, "SRV/1", "reason=connection_lost"))
		return s.add(close...).hist()
	}
	// R8: the client closes, the connection ends.
	closedByClient := func(create []string, close ...history.Event) history.History {
		s := &story{}
		natsStart(s, 5)
		c := natsConnect(s, 5, cg, "SRV/1", create)
		s.add(ev(500, "op", "op=close", "client=0", "id=9"), nstate(502, cA, cBC, "SRV/1", "reason=closed_by_client"))
		natsEnd(s, 501, c, "SRV/1", "eof")
		return s.add(close...).hist()
	}
	otherScope := []string{"retention_ms=0", "scope=session"}
	runCases(t, []tcase{
		{name: "R4 scope connection: a new session is the way back", cfg: &ReconnectWindow{}, sc: natsScen(), h: healedOnNew(connScope), verdict: OK},
		{name: "R4 retention 0: a new session is not a resume", cfg: &ReconnectWindow{}, h: healedOnNew(zeroRetention), verdict: Failed,
			detail: []string{`client 0: no server session.resume of "SRV/1" after the heal at 1400.0ms`}},
		{name: "R4 another scope: a new session is not a resume", cfg: &ReconnectWindow{}, h: healedOnNew(otherScope), verdict: Failed,
			detail: []string{`no server session.resume of "SRV/1"`}},
		{name: "R7 retention 0: the connection's end is no close", cfg: &NoReconnect{}, sc: scen(optOut), h: lost(zeroRetention), verdict: Failed,
			detail: []string{`the server never closed session "SRV/1" with reason no_reconnect after cut on s1 at 400.0ms`}},
		{name: "R7 retention 0: closed no_reconnect", cfg: &NoReconnect{}, sc: scen(optOut),
			h: lost(zeroRetention, ev(401.5, "session.close", "server=s1", "session=SRV/1", "reason=no_reconnect")), verdict: OK,
			detail: []string{"the server closed its session (no_reconnect)"}},
		{name: "R8 retention 0: the connection's end is no close", cfg: &DeliberateClose{By: "client"}, h: closedByClient(zeroRetention), verdict: Failed,
			detail: []string{`the server never recorded session.close of "SRV/1" after the harness op close at 500.0ms`}},
		{name: "R8 retention 0: closed closed_by_client", cfg: &DeliberateClose{By: "client"},
			h: closedByClient(zeroRetention, ev(501, "session.close", "server=s1", "session=SRV/1", "reason=closed_by_client")), verdict: OK},
	})
}
