package check

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// acctScen: n clients, each asked to connect at 0s.
func acctScen(n int, mods ...func(*scenario.Scenario)) *scenario.Scenario {
	return scen(append([]func(*scenario.Scenario){func(sc *scenario.Scenario) {
		sc.Clients = n
		sc.Steps = []scenario.Step{{At: 0, Client: &scenario.ClientStep{Op: "connect"}}}
	}}, mods...)...)
}

// joined: client c's connect op at ms, and a session created through the link.
func joined(c int, ms float64) []history.Event {
	cl, conn, sess := fmt.Sprint("client=", c), fmt.Sprint("conn=s1#", 100+c), fmt.Sprint("session=S", c)
	return []history.Event{
		ev(ms, "op", "op=connect", cl),
		ev(ms+1, "state", "to="+cg, "server=s1", cl),
		ev(ms+2, "link.accept", "link=s1", fmt.Sprint("conn=127.0.0.1:", 40000+c)),
		ev(ms+3, "accept", "server=s1", conn),
		ev(ms+4, "handshake", "server=s1", conn, "ok=true", sess),
		ev(ms+5, "session.create", "server=s1", conn, sess),
		ev(ms+6, "state", "from="+cg, "to="+cA, "server=s1", sess, cl),
		ev(ms+7, "reply", "op=connect", "ok=true", cl),
	}
}

// refusedConnect: client c's connect op at ms; the connect fails at ms+50
// with err (the engine's own words).
func refusedConnect(c int, ms float64, err string) []history.Event {
	cl := fmt.Sprint("client=", c)
	return []history.Event{
		ev(ms, "op", "op=connect", cl),
		ev(ms+1, "state", "to="+cg, "server=s1", cl),
		ev(ms+49, "error", "reason=attempt on ws://127.0.0.1:1234/ failed: "+err, cl),
		ev(ms+50, "state", "from="+cg, "to="+cF, "server=s1", "reason=connection_error", cl),
		ev(ms+51, "reply", "op=connect", "reason=session CLOSED_FAILED", cl),
	}
}

// dialErr is the Go engine's dial error naming the attempt's local address.
func dialErr(addr, cause string) string {
	return "dial ws://127.0.0.1:1234/: failed to send handshake request: read tcp " + addr + "->127.0.0.1:1234: " + cause
}

// attempt: a link accept of addr at ms, the server's accept of it as conn,
// and the server's handshake when answer is not "".
func attemptRecs(ms float64, addr, conn, answer string) []history.Event {
	out := []history.Event{ev(ms, "link.accept", "link=s1", "conn="+addr), ev(ms+0.5, "accept", "server=s1", "conn="+conn)}
	if answer != "" {
		out = append(out, ev(ms+1, "handshake", "server=s1", "conn="+conn, "ok=false", "reason="+answer))
	}
	return out
}

func hist(parts ...[]history.Event) history.History {
	s := &story{}
	for _, p := range parts {
		s.add(p...)
	}
	return s.hist()
}

func TestAccount(t *testing.T) {
	reset := "read: connection reset by peer"
	cases := []struct {
		name    string
		sc      *scenario.Scenario
		h       history.History
		verdict string // "" when every client is accounted for
		detail  []string
	}{
		// Accounted for.
		{name: "every client connected", sc: acctScen(2), h: hist(joined(0, 0), joined(1, 1))},
		{name: "a router's clients are T1–T6's", sc: rscen(2), h: nil},
		{name: "a reset in force on its server during its connect", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 1, reset), []history.Event{
				ev(0.5, "fault.on", "link=s1", "verb=reset"), ev(30, "fault.off", "link=s1", "verb=reset")})},
		{name: "a client the scenario never asks to connect", sc: acctScen(2, func(sc *scenario.Scenario) {
			sc.Steps[0].Client.Only = []int{0}
		}), h: hist(joined(0, 0))},
		{name: "closed by the harness before it connected", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 1, reset), []history.Event{ev(20, "op", "op=close", "client=1")})},
		{name: "its server was killed", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 10, "connection refused"), []history.Event{ev(5, "process.kill", "server=s1")})},

		{name: "its server refused the handshake, as a step asked", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 10, "connection refused: not authorised"), []history.Event{
				ev(5, "step", "step=server s1 refuse_connack"),
				ev(10.5, "accept", "server=s1", "conn=s1#7"),
				ev(11, "handshake", "server=s1", "conn=s1#7", "ok=false", "reason=not_authorized")})},
		{name: "its server refused the handshake, as a step on it asked (structured)", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 10, "connection refused: not authorised"), []history.Event{
				stepOn(5, "refuse", "s1"),
				ev(10.5, "accept", "server=s1", "conn=s1#7"),
				ev(11, "handshake", "server=s1", "conn=s1#7", "ok=false", "reason=not_authorized")})},
		// A step that came after the refusal did not ask for it.
		{name: "its server refused the handshake before the step on it", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 10, "connection refused: not authorised"), []history.Event{
				ev(10.5, "accept", "server=s1", "conn=s1#7"),
				ev(11, "handshake", "server=s1", "conn=s1#7", "ok=false", "reason=not_authorized"),
				stepOn(40, "refuse", "s1")}),
			verdict: Failed, detail: []string{"the servers answered them and the SDK did not connect"}},
		// A step on another server asked for nothing of s1.
		{name: "its server refused the handshake; the step acted on another server", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 10, "connection refused: not authorised"), []history.Event{
				stepOn(5, "server s10 refuse_connack", "s10"),
				ev(10.5, "accept", "server=s1", "conn=s1#7"),
				ev(11, "handshake", "server=s1", "conn=s1#7", "ok=false", "reason=not_authorized")}),
			verdict: Failed, detail: []string{"the servers answered them and the SDK did not connect"}},
		// A refusal no step asked for explains nothing: the servers
		// answered, and the SDK did not connect.
		{name: "its server refused the handshake, unasked", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 10, "connection refused: not authorised"), []history.Event{
				ev(10.5, "accept", "server=s1", "conn=s1#7"),
				ev(11, "handshake", "server=s1", "conn=s1#7", "ok=false", "reason=not_authorized")}),
			verdict: Failed, detail: []string{"client accounting: 1 of 2 client(s) never connected", "the servers answered them and the SDK did not connect"}},

		// The client's word alone connects nothing: a CONNECTED_ACTIVE on a
		// session no server created or resumed is the SDK's failure.
		{name: "connected on a session no server opened", sc: acctScen(2),
			h: hist(joined(0, 0), []history.Event{
				ev(1, "op", "op=connect", "client=1"),
				ev(2, "state", "to="+cg, "server=s1", "client=1"),
				ev(3, "state", "from="+cg, "to="+cA, "server=s1", "session=ghost", "client=1"),
				ev(4, "reply", "op=connect", "ok=true", "client=1")}),
			verdict: Failed, detail: []string{`client 1 reported CONNECTED_ACTIVE on a session no server created or resumed (first: client 1, session "ghost" at 3.0ms`}},

		// Unaccounted for: the harness could not serve them.
		{name: "connects reset with no trace at the link (listen backlog)", sc: acctScen(3),
			h:       hist(joined(0, 0), refusedConnect(1, 1, reset), refusedConnect(2, 2, reset)),
			verdict: Unknown,
			detail: []string{
				"client accounting: 2 of 3 client(s) never connected, and no fault, kill or close op explains it",
				`2 clients (1, 2) tried ("CLOSED_FAILED (connection_error): connection reset by peer" ×2; connects from 1.0ms to 52.0ms)`,
				"the links took 0 connection(s) that did not become sessions (0 dial(s) to a server failed), the servers accepted 0 such and answered 0",
				"the attempts of at least 2 client(s) never reached the links (a listen-backlog reset, or a harness failure): the harness could not serve them",
			}},
		{name: "the link could not dial its live server", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 1, "EOF"), []history.Event{
				ev(10, "link.accept", "link=s1", "conn=127.0.0.1:5"),
				ev(11, "link.dial_fail", "link=s1", "conn=127.0.0.1:5", "reason=dial tcp: connection refused")}),
			verdict: Unknown, detail: []string{"(1 dial(s) to a server failed)", "the links took them but could not reach their live servers for 1 (link.dial_fail)"}},
		{name: "the harness never sent it its connect op", sc: acctScen(2), h: hist(joined(0, 0)),
			verdict: Unknown, detail: []string{"the harness could not serve client 1: it never sent them their connect op"}},
		{name: "taken by the link, accepted, never answered", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 1, "i/o timeout"), []history.Event{
				ev(10, "link.accept", "link=s1", "conn=127.0.0.1:5"), ev(11, "accept", "server=s1", "conn=s1#7")}),
			verdict: Unknown, detail: []string{"the servers accepted 1 such and answered 0", "the servers did not answer 1 client(s)", "the harness cannot tell which"}},

		// Attributed by the addresses the client's errors name.
		{name: "attributed: no link took its attempt (listen backlog)", sc: acctScen(2),
			h:       hist(joined(0, 0), refusedConnect(1, 1, dialErr("127.0.0.1:43704", reset))),
			verdict: Unknown,
			detail: []string{`client 1 tried ("CLOSED_FAILED (connection_error): connection reset by peer" ×1; connects from 1.0ms)`,
				"no link took their attempts: there is no link.accept of the addresses their errors name (a listen-backlog reset, or a harness failure): the harness could not serve them (first: client 1's 127.0.0.1:43704)"}},
		{name: "attributed: the link could not dial", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 1, dialErr("127.0.0.1:5", "EOF")), []history.Event{
				ev(10, "link.accept", "link=s1", "conn=127.0.0.1:5"), ev(11, "link.dial_fail", "link=s1", "conn=127.0.0.1:5", "reason=refused")}),
			verdict: Unknown, detail: []string{"could not reach the live server (link.dial_fail)"}},
		{name: "attributed: accepted, never answered", sc: acctScen(2),
			h:       hist(joined(0, 0), refusedConnect(1, 1, dialErr("127.0.0.1:5", "i/o timeout")), attemptRecs(10, "127.0.0.1:5", "s1#7", "")),
			verdict: Unknown, detail: []string{"the servers accepted their attempts and never answered them", "the harness cannot tell which"}},
		{name: "attributed: the server answered", sc: acctScen(2),
			h:       hist(joined(0, 0), refusedConnect(1, 1, dialErr("127.0.0.1:5", "bad frame")), attemptRecs(10, "127.0.0.1:5", "s1#7", "handshake_rejected")),
			verdict: Failed, detail: []string{"client 1 tried", "the servers answered their attempts and the SDK did not connect"}},
		{name: "attributed: its address taken by a link only long after its connect", sc: acctScen(2),
			h:       hist(joined(0, 0), refusedConnect(1, 1, dialErr("127.0.0.1:5", reset)), attemptRecs(5000, "127.0.0.1:5", "s1#7", "handshake_rejected")),
			verdict: Unknown, detail: []string{"no link took their attempts"}},
		{name: "a cut during its connect, after the link took it", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 1, dialErr("127.0.0.1:5", reset)), attemptRecs(10, "127.0.0.1:5", "s1#7", ""),
				[]history.Event{ev(40, "fault.on", "link=s1", "verb=cut")})},
		{name: "a cut during its connect, which no link had taken (held for seconds)", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 1, dialErr("127.0.0.1:5", reset)),
				[]history.Event{ev(40, "fault.on", "link=s1", "verb=cut")}),
			verdict: Unknown, detail: []string{"no link took their attempts"}},
		{name: "unattributed: a cut during its connect, after the links took an attempt", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 1, reset), []history.Event{
				ev(10, "link.accept", "link=s1", "conn=127.0.0.1:5"), ev(40, "fault.on", "link=s1", "verb=cut")})},
		{name: "unattributed: a cut during its connect, before any link took it", sc: acctScen(2),
			h:       hist(joined(0, 0), refusedConnect(1, 1, reset), []history.Event{ev(40, "fault.on", "link=s1", "verb=cut")}),
			verdict: Unknown, detail: []string{"connects from 1.0ms to 40.0ms", "the attempts of at least 1 client(s) never reached the links"}},
		{name: "its server was killed, and up again before the connect", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 100, "connection refused"), []history.Event{
				ev(5, "process.kill", "server=s1"), ev(8, "process.start", "server=s1")}),
			verdict: Unknown},

		// Unaccounted for: the SDK's.
		{name: "the server answered and the client did not connect", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 1, "handshake_rejected"), []history.Event{
				ev(10, "link.accept", "link=s1", "conn=127.0.0.1:5"), ev(11, "accept", "server=s1", "conn=s1#7"),
				ev(12, "handshake", "server=s1", "conn=s1#7", "ok=false", "reason=handshake_rejected")}),
			verdict: Failed, detail: []string{"client 1 tried", "answered 1: the servers answered them and the SDK did not connect"}},
		{name: "a session created that no client claimed", sc: acctScen(2),
			h: hist(joined(0, 0), refusedConnect(1, 1, "bad frame"), []history.Event{
				ev(10, "link.accept", "link=s1", "conn=127.0.0.1:5"), ev(11, "accept", "server=s1", "conn=s1#7"),
				ev(12, "handshake", "server=s1", "conn=s1#7", "ok=true", "session=Z"),
				ev(12.5, "session.create", "server=s1", "conn=s1#7", "session=Z")}),
			verdict: Failed, detail: []string{"the servers accepted 0 such and answered 1", "the SDK did not connect"}},
		{name: "the client never reported a state for its connect", sc: acctScen(2),
			h:       hist(joined(0, 0), []history.Event{ev(1, "op", "op=connect", "client=1"), ev(2, "reply", "op=connect", "ok=true", "client=1")}),
			verdict: Failed, detail: []string{"client 1 never reported a state after their connect op (the SDK never tried; first sent at 1.0ms; replied ok at 2.0ms)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, found := Account(tc.h, tc.sc)
			if tc.verdict == "" {
				if found {
					t.Fatalf("every client is accounted for, yet: %s %s", r.Verdict, r.Detail)
				}
				return
			}
			if !found || r.Verdict != tc.verdict {
				t.Fatalf("found %v, verdict %s, want %s\ndetail: %s", found, r.Verdict, tc.verdict, r.Detail)
			}
			for _, f := range tc.detail {
				if !strings.Contains(r.Detail, f) {
					t.Errorf("detail %q\nlacks %q", r.Detail, f)
				}
			}
			for _, m := range r.Measurements {
				if m.Evidence == "" {
					t.Errorf("measurement %q names no evidence", m.Name)
				}
			}
			if testing.Verbose() {
				t.Logf("%s: %s", r.Verdict, r.Detail)
			}
		})
	}
}

// TestAccountOverridesOK: merged into a check's result (as the runner does),
// an unaccounted client makes an OK check UNKNOWN and keeps both details.
func TestAccountOverridesOK(t *testing.T) {
	h := hist(joined(0, 0), refusedConnect(1, 1, "read: connection reset by peer"))
	ok := Pass(time.Second, nil, "all good")
	acct, found := Account(h, acctScen(2))
	m := Merge(ok, acct)
	if !found || m.Verdict != Unknown || !strings.Contains(m.Detail, "all good; client accounting: 1 of 2") {
		t.Fatalf("merged: %s %q", m.Verdict, m.Detail)
	}
	failed := Merge(Fail(0, nil, "broken"), acct)
	if failed.Verdict != Failed {
		t.Errorf("FAILED must win over the accounting's UNKNOWN: %s", failed.Verdict)
	}
}

// stepOn is a fired step that acted on server, as the runner records it.
func stepOn(ms float64, text, server string) history.Event {
	e := ev(ms, "step", "step="+text)
	e.Attrs["server"] = server
	return e
}
