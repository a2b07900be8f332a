package check

import (
	"encoding/json"
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// M1 for a NATS client whose server enters lame duck mode, in histories as
// the NATS pack records them: nats.lame_duck and the neutral going_away
// (the notice), the server's conn.close (lame_duck at the end of the grace,
// eof when the client left) with its session.disconnect (going_away,
// transport), and the new session the client lands on,
// created by another server (session.create scope connection).

// ldScen: NATS servers s1, s2 and one client given both.
func ldScen() *scenario.Scenario {
	return natsScen(func(sc *scenario.Scenario) {
		sc.Servers = append(sc.Servers, scenario.Server{Name: "s2", Kind: "nats"})
		sc.Client.Servers = []string{"s1", "s2"}
	})
}

// ldContract is a connect reply's contract with lame_duck = value ("": the
// driver declared no contract); reconnect names the driver's addition, as
// the nats.go driver does.
func ldContract(value string) history.Event {
	if value == "" {
		return ev(3, "reply", "op=connect", "ok=true", "client=0", "id=1")
	}
	c := map[string]any{"lame_duck": map[string]string{"value": value, "cite": "nats.go processInfo(): test"}}
	if value == lameDuckMoves {
		c["lame_duck"] = map[string]string{"value": value, "cite": "driver: LameDuckModeHandler calls nc.ForceReconnect()"}
		c["driver_adds"] = []map[string]string{{"what": "nc.ForceReconnect() from LameDuckModeHandler", "why": "nats.go only notifies"}}
	}
	b, _ := json.Marshal(c)
	return ev(3, "reply", "op=connect", "ok=true", "client=0", "id=1", "contract="+string(b))
}

// ldStory: client 0 on s1 (session S1/1, conn s1#1) from 5ms with the given
// contract; s1 enters lame duck mode at 1000ms (grace 500ms) and sends its
// ldm INFO.
func ldStory(contract string) *story {
	s := ldOnS1(contract)
	s.add(ev(1000, "nats.lame_duck", "server=s1", "grace_ms=500"),
		ev(1000, "going_away", "server=s1", "grace_ms=500", "notice=lame_duck"),
		ev(1000.1, "nats.info", "server=s1", "conn=s1#1", "ldm=true", "connect_urls="))
	return s
}

// ldOnS1: client 0 on s1 (session S1/1, conn s1#1) from 5ms with the given
// contract, no notice yet.
func ldOnS1(contract string) *story {
	s := &story{}
	natsStart(s, 5)
	s.add(ldContract(contract))
	natsConnect(s, 5, cg, "S1/1", connScope)
	return s
}

// ldEnd: s1's side of s1#1 ends at ms with the NATS reason.
func ldEnd(s *story, ms float64, reason string) { natsEnd(s, ms, "s1#1", "S1/1", reason) }

// ldLand: the client, RECOVERING since ms-1, lands at ms on server srv's new
// session sess (accept, handshake, session.create; CONNECTED_ACTIVE 2ms
// after the accept).
func ldLand(s *story, ms float64, srv, sess string) {
	c := srv + "#9"
	s.add(
		nstate(ms-1, cA, rR, "S1/1"),
		ev(ms, "accept", "server="+srv, "conn="+c),
		ev(ms+0.5, "handshake", "server="+srv, "conn="+c, "ok=true", "session="+sess),
		ev(ms+0.6, "session.create", append([]string{"server=" + srv, "conn=" + c, "session=" + sess}, connScope...)...),
		cst(ms+2, 0, rR, cA, srv, sess, "phase=connected"),
	)
}

func TestLameDuck(t *testing.T) {
	// moved: the client leaves s1 1ms after the notice (eof) and lands on
	// s2 at 1002ms (created 1002.6ms): handoff 2.6ms, 1.6ms without a
	// connection.
	moved := func(contract string) history.History {
		s := ldStory(contract)
		ldEnd(s, 1001, "eof")
		ldLand(s, 1002, "s2", "S2/1")
		return s.hist()
	}
	// stayed: the client stays until s1 closes it at the end of the grace,
	// then lands on s2 at 1503ms.
	stayed := func(contract string) history.History {
		s := ldStory(contract)
		ldEnd(s, 1500, "lame_duck")
		ldLand(s, 1503, "s2", "S2/1")
		return s.hist()
	}
	// claimed: moved, but the client names session S2/9, which s2 never
	// created.
	claimed := func(contract string) history.History {
		h := moved(contract)
		for i := range h {
			if h[i].Kind == history.KindState && h[i].Session == "S2/1" {
				h[i].Session = "S2/9"
			}
		}
		return h
	}
	lc := func(name string, h history.History, want string, frags ...string) tcase {
		return tcase{name: name, cfg: &LameDuck{}, sc: ldScen(), h: h, verdict: want, detail: frags}
	}
	cases := []tcase{
		lc("moves on the notice, lands on s2 before the grace ends", moved(lameDuckMoves), OK, "1 client(s) moved on the lame duck notice (lame_duck: reconnect (driver: LameDuckModeHandler calls nc.ForceReconnect())",
			"added by the driver: nc.ForceReconnect() from LameDuckModeHandler", "handoff (notice → landing) at most 2.6ms, at most 1.6ms without a connection"),
		lc("make before break: on s2 before s1 lets go", func() history.History {
			s := ldStory(lameDuckMoves)
			c := "s2#1"
			s.add(ev(1010, "accept", "server=s2", "conn="+c),
				ev(1010.5, "handshake", "server=s2", "conn="+c, "ok=true", "session=S2/1"),
				ev(1010.6, "session.create", append([]string{"server=s2", "conn=" + c, "session=S2/1"}, connScope...)...),
				cst(1012, 0, cA, cA, "s2", "S2/1", "phase=connected"))
			ldEnd(s, 1500, "lame_duck")
			return s.hist()
		}(), OK, "at most 0.0ms without a connection"),
		lc("reconnect says it moves, but it stayed until the server closed it", stayed(lameDuckMoves), Failed, `client 0 on s1 (session "S1/1", lame duck notice at 1000.0ms): lame_duck: reconnect (`,
			"it stayed until s1 closed its connection (going_away: lame_duck) at 1500.0ms, 500.0ms after the notice; it landed on s2 (session \"S2/1\") only at 1503.6ms"),
		lc("left, never landed elsewhere", func() history.History {
			s := ldStory(lameDuckMoves)
			ldEnd(s, 1001, "eof")
			s.add(nstate(1001.5, cA, rR, "S1/1"), nstate(2500, rR, cF, "S1/1", "reason=reconnect_aborted"))
			return s.hist()
		}(), Failed, "says it moves on the notice, but it never landed on another server: its connection to s1 ended (transport: eof) at 1001.0ms, 1.0ms after the notice",
			"last state CLOSED_FAILED at 2500.0ms (reconnect_aborted)"),
		lc("never left, never landed", func() history.History {
			s := ldStory(lameDuckMoves)
			return s.add(ev(2000, "step", "step=end")).hist()
		}(), Failed, "never landed on another server: its connection to s1 never ended"),
		lc("a landing no server created", claimed(lameDuckMoves), Failed, `the client claims CONNECTED_ACTIVE on s2 in session "S2/9" at 1004.0ms, which no server created (no server session.create)`),
		lc("the client names another server than the session's", func() history.History {
			h := moved(lameDuckMoves)
			for i := range h {
				if h[i].Kind == history.KindState && h[i].Session == "S2/1" {
					h[i].Server = "s3"
				}
			}
			return h
		}(), Failed, `claims CONNECTED_ACTIVE on s3 in session "S2/1" at 1004.0ms, but s2 created that session`),
		lc("the new session is the lame server's own", func() history.History {
			s := ldStory(lameDuckMoves)
			ldEnd(s, 1001, "eof")
			ldLand(s, 1002, "s1", "S1/2")
			return s.hist()
		}(), Failed, `new session "S1/2" at 1004.0ms is on s1 itself, the server in lame duck mode`),

		// The library only notifies (nats.go alone), or declares nothing:
		// INFORMATIONAL with what happened, the term cited.
		lc("notify: stayed until the server's close, then landed", stayed(lameDuckNotifies), Informational, "the library does not move on a lame duck notice by its own contract, so M1 is not asked of it",
			"lame_duck: notify (nats.go processInfo(): test); s1 closed its connection (going_away: lame_duck) at 1500.0ms, 500.0ms after the notice",
			`it landed on s2 (session "S2/1") at 1503.6ms, 503.6ms after the notice, 3.6ms without a connection`),
		lc("notify, yet it left at once", moved(lameDuckNotifies), Informational, "lame_duck: notify", "its connection to s1 ended (transport: eof) at 1001.0ms"),
		lc("notify: never landed elsewhere", func() history.History {
			s := ldStory(lameDuckNotifies)
			ldEnd(s, 1500, "lame_duck")
			s.add(nstate(1501, cA, rR, "S1/1"))
			return s.hist()
		}(), Informational, "it never landed on another server"),
		lc("no contract declared", stayed(""), Informational, "lame_duck: not declared"),
		lc("lame_duck none", stayed("none"), Informational, "lame_duck: none"),
		lc("notify: a landing no server created", claimed(lameDuckNotifies), Failed, `which no server created`),

		// Nothing to judge.
		lc("no lame duck mode", func() history.History {
			s := ldOnS1(lameDuckMoves)
			return s.hist()
		}(), Unknown, "nothing to judge: no server said it was going away"),
		lc("nobody on the lame server", func() history.History {
			s := ldOnS1(lameDuckMoves)
			return s.add(ev(1000, "going_away", "server=s2", "grace_ms=500")).hist()
		}(), Unknown, "nothing to judge: 0 client(s) on a server in lame duck mode", "no client was connected to s2 at its going-away notice at 1000.0ms"),
		lc("a GOAWAY to another connection concerns not the client's", func() history.History {
			s := ldOnS1(lameDuckMoves)
			return s.add(ev(1000, "going_away", "server=s1", "conn=s1#7", "notice=goaway")).hist()
		}(), Unknown, "no client was connected to s1"),
		lc("a GOAWAY to the client's connection, which moves", func() history.History {
			s := ldOnS1(lameDuckMoves)
			s.add(ev(1000, "going_away", "server=s1", "conn=s1#1", "notice=goaway", "grace_ms=500"))
			ldEnd(s, 1001, "eof")
			ldLand(s, 1002, "s2", "S2/1")
			return s.hist()
		}(), OK, "1 client(s) moved"),
		lc("after a GOAWAY, back on the same server on a new connection", func() history.History {
			s := ldOnS1(lameDuckMoves)
			s.add(ev(1000, "going_away", "server=s1", "conn=s1#1", "notice=goaway", "grace_ms=500"))
			ldEnd(s, 1001, "eof")
			ldLand(s, 1002, "s1", "S1/2")
			return s.hist()
		}(), OK, "1 client(s) moved"),
		lc("after lame duck mode, back on the same server: no move", func() history.History {
			s := ldStory(lameDuckMoves)
			ldEnd(s, 1001, "eof")
			ldLand(s, 1002, "s1", "S1/2")
			return s.hist()
		}(), Failed, "is on s1 itself, the server in lame duck mode"),
		lc("the client had left before the notice", func() history.History {
			s := ldOnS1(lameDuckMoves)
			ldEnd(s, 500, "eof")
			ldLand(s, 502, "s2", "S2/1")
			return s.add(ev(1000, "going_away", "server=s1", "grace_ms=500")).hist()
		}(), Unknown, "no client was connected to s1"),
		lc("a cut ends the connection", func() history.History {
			s := ldStory(lameDuckMoves)
			s.add(ev(1000.5, "fault.on", "link=s1", "verb=cut"))
			ldEnd(s, 1001, "eof")
			ldLand(s, 1002, "s2", "S2/1")
			return s.hist()
		}(), Unknown, "not judged: its connection to s1 ended at 1001.0ms with a loss fault in force (cut on s1 at 1000.5ms)"),
		lc("the server is killed in the grace", func() history.History {
			s := ldStory(lameDuckMoves)
			ldEnd(s, 1200, "killed")
			ldLand(s, 1300, "s2", "S2/1")
			return s.hist()
		}(), Unknown, "ended at 1200.0ms for another cause than the server's going away (server: killed)"),
	}
	runCases(t, cases)
}

// The measurements: the handoff (notice → landing) and the time without a
// connection, from the servers' stamps.
func TestLameDuckMeasurements(t *testing.T) {
	s := ldStory(lameDuckMoves)
	ldEnd(s, 1001, "eof")
	ldLand(s, 1002, "s2", "S2/1")
	r := (&LameDuck{}).Check(Input{History: s.hist(), Scenario: ldScen(), Requirement: "M1"})
	if r.Verdict != OK {
		t.Fatalf("%s: %s", r.Verdict, r.Detail)
	}
	want := map[string]float64{
		"client 0 on s1: notice → left":              1,
		"client 0 on s1: handoff (notice → landing)": 2.6,
		"client 0 on s1: without a connection":       1.6,
		"clients on a server in lame duck mode":      1,
		"left before the server's close":             1,
		"closed by the server (going_away)":          0,
	}
	got := map[string]Measurement{}
	for _, m := range r.Measurements {
		got[m.Name] = m
	}
	for n, v := range want {
		m, ok := got[n]
		if !ok {
			t.Errorf("no measurement %q in %v", n, r.Measurements)
			continue
		}
		if d := m.Value - v; d > 1e-6 || d < -1e-6 {
			t.Errorf("%s = %v, want %v", n, m.Value, v)
		}
	}
	if m := got["client 0 on s1: handoff (notice → landing)"]; m.Span == nil || m.Span.From != msd(1000) || m.Expected != "before the server's close (grace 500.0ms)" {
		t.Errorf("handoff: span %v, expected %q", m.Span, m.Expected)
	}
	if r.At != msd(1002.6) {
		t.Errorf("at %s, want the landing's create", dur(r.At))
	}
}
