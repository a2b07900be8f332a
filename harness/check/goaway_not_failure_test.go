package check

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// M6 for a gRPC client told to go away, in histories as the gRPC pack
// records them: the neutral going_away on the client's connection (grace
// 500ms), the connection's close at the end of the grace (conn.close goaway,
// session.disconnect going_away), the client's new connection and session,
// and its RPCs (send → receive, request → request, subscribe → subscribe).

// gaScen: one grpc server s1 and one client.
func gaScen() *scenario.Scenario {
	return scen(func(sc *scenario.Scenario) { sc.Servers[0].Kind, sc.Servers[0].Retention = "grpc", 0 })
}

// gaStory: client 0 on s1#1 (session A) from 5ms, with a subscription to
// prices and a request (op 3) open; s1 tells s1#1 to go away at 600ms
// (grace 500ms) and closes it at 1100ms.
func gaStory() *story {
	s := &story{}
	s.add(ev(0.2, history.KindOp, "client=0", "op=connect", "id=1"),
		ev(1, history.KindState, "to="+cg, "server=s1"))
	s.connect(5, "A")
	s.add(ev(8, history.KindReply, "client=0", "op=connect", "id=1", "ok=true"),
		ev(200, history.KindOp, "client=0", "op=subscribe", "topic=prices", "id=2"),
		ev(201, history.KindSubscribe, "server=s1", "conn=s1#1", "session=A", "topic=prices"),
		ev(202, history.KindReply, "client=0", "op=subscribe", "id=2", "ok=true"),
		ev(400, history.KindOp, "client=0", "op=request", "id=3", "rows=100"),
		ev(401, history.KindRequest, "server=s1", "conn=s1#1", "session=A", "req=3", "rows=100"),
		ev(402, history.KindReply, "client=0", "op=request", "id=3", "ok=true"),
		ev(600, history.KindGoingAway, "server=s1", "conn=s1#1", "grace_ms=500", "notice=goaway"),
		ev(1100, history.KindConnClose, "server=s1", "conn=s1#1", "session=A", "reason=goaway", "grace=expired"),
		ev(1100, history.KindSessionDisconn, "server=s1", "conn=s1#1", "session=A", "reason=going_away", "conn_reason=goaway"),
		ev(3000, history.KindStep, "step=end"))
	return s
}

// gaMove: the client leaves CONNECTED_ACTIVE at 602ms (native IDLE) and is
// back at 606ms on session B, created on s1#2 at 605ms.
func gaMove(s *story) *story {
	return s.add(state(602, cA, rR, "A", "native=IDLE"),
		ev(603, "accept", "server=s1", "conn=s1#2"),
		ev(603.5, "handshake", "server=s1", "conn=s1#2", "ok=true"),
		ev(605, history.KindSessionCreate, "server=s1", "conn=s1#2", "session=B"),
		state(606, rR, cA, "B", "native=READY"))
}

// gaSend: a send op at 800ms (reply ok), received on conn/sess.
func gaSend(s *story, ok bool, conn, sess string) *story {
	s.add(ev(800, history.KindOp, "client=0", "op=send", "id=4"),
		ev(800.5, history.KindReply, "client=0", "op=send", "id=4", "ok="+map[bool]string{true: "true", false: "false"}[ok], "reason=rpc error: code = Unavailable"))
	if conn != "" {
		s.add(ev(801, history.KindReceive, "server=s1", "conn="+conn, "session="+sess, "seq=1"))
	}
	return s
}

func TestGoawayNotFailure(t *testing.T) {
	sc := gaScen()
	runCases(t, []tcase{
		{name: "moved, next RPC on the new connection: OK", cfg: &GoawayNotFailure{}, sc: sc, h: gaSend(gaMove(gaStory()), true, "s1#2", "B").hist(), verdict: OK,
			detail: []string{"1 client(s) told to go away took it as the end of a connection, not a failure",
				`its next RPC, client 0 send n=1 (op 4 at 800.0ms), served on s1 s1#2 (session "B") at 801.0ms`,
				"the old connection ended at 1100.0ms (going_away: goaway)",
				`new session "B" created by s1 on s1#2 at 605.0ms, 5.0ms after the notice`,
				"the client reported RECOVERING_RECONNECT (native IDLE) at 602.0ms, CONNECTED_ACTIVE again at 606.0ms (4.0ms between connections)"}},
		{name: "stayed CONNECTED_ACTIVE, next RPC on a new connection: OK", cfg: &GoawayNotFailure{}, sc: sc, h: gaSend(gaStory().add(
			ev(700, "accept", "server=s1", "conn=s1#2"), ev(701, history.KindSessionCreate, "server=s1", "conn=s1#2", "session=B")), true, "s1#2", "B").hist(), verdict: OK,
			detail: []string{`served on s1 s1#2 (session "B") at 801.0ms`, "it stayed CONNECTED_ACTIVE throughout"}},
		{name: "stayed CONNECTED_ACTIVE, two clients, a session no client names: FAILED", cfg: &GoawayNotFailure{}, sc: scen(func(sc *scenario.Scenario) { sc.Clients = 2 }), h: gaSend(gaStory().add(
			ev(700, "accept", "server=s1", "conn=s1#2"), ev(701, history.KindSessionCreate, "server=s1", "conn=s1#2", "session=B")), true, "s1#2", "B").hist(), verdict: Failed,
			detail: []string{"client 0 send n=1 (op 4 at 800.0ms), accepted by the driver, reached no server"}},
		{name: "closed failed after the notice: FAILED", cfg: &GoawayNotFailure{}, sc: sc, h: gaSend(gaStory().add(state(1101, cA, cF, "A", "reason=connection_lost")), true, "s1#2", "B").hist(), verdict: Failed,
			detail: []string{`client 0 on s1 s1#1 (session "A", GOAWAY notice at 600.0ms): CLOSED_FAILED (connection_lost) at 1101.0ms, 501.0ms after the notice: a server going away is not a failure`}},
		{name: "a failover after the notice: FAILED", cfg: &GoawayNotFailure{}, sc: sc, h: gaSend(gaStory().add(state(602, cA, cg, "A", "reason=connection_lost")), true, "s1#2", "B").hist(), verdict: Failed,
			detail: []string{"CONNECTING (connection_lost) at 602.0ms"}},
		{name: "the next RPC failed: FAILED", cfg: &GoawayNotFailure{}, sc: sc, h: gaSend(gaMove(gaStory()), false, "", "").hist(), verdict: Failed,
			detail: []string{"its send at 800.0ms, after the notice, failed (refused: rpc error: code = Unavailable): the next RPC must go to a new connection"}},
		{name: "the next RPC on the connection told to go away: FAILED", cfg: &GoawayNotFailure{}, sc: sc, h: gaSend(gaMove(gaStory()), true, "s1#1", "A").hist(), verdict: Failed,
			detail: []string{"client 0 send n=1 (op 4 at 800.0ms) was served on the connection told to go away (s1 s1#1 receive at 801.0ms)"}},
		{name: "left and never back though it sent: FAILED", cfg: &GoawayNotFailure{}, sc: sc, h: gaSend(gaStory().add(state(602, cA, rR, "A", "native=IDLE"),
			ev(800.8, history.KindSessionCreate, "server=s1", "conn=s1#2", "session=B")), true, "s1#2", "B").hist(), verdict: Failed,
			detail: []string{"it left CONNECTED_ACTIVE (RECOVERING_RECONNECT at 602.0ms) and, though it started RPCs after the notice, was not CONNECTED_ACTIVE on a new session by 2100.0ms"}},
		{name: "back on a session no server created: FAILED", cfg: &GoawayNotFailure{}, sc: sc, h: gaSend(gaStory().add(state(602, cA, rR, "A"), state(606, rR, cA, "Z")), true, "s1#2", "B").add(
			ev(700, history.KindSessionCreate, "server=s1", "conn=s1#2", "session=B")).hist(), verdict: Failed,
			detail: []string{`CONNECTED_ACTIVE in session "Z" at 606.0ms, which no server created`}},
		{name: "no RPC after the notice: UNKNOWN", cfg: &GoawayNotFailure{}, sc: sc, h: gaMove(gaStory()).hist(), verdict: Unknown,
			detail: []string{"nothing to judge: 1 client(s) on a notified connection started no RPC after the notice"}},
		{name: "no notice: UNKNOWN", cfg: &GoawayNotFailure{}, sc: sc, h: func() history.History { s := &story{}; s.connect(5, "A"); return s.hist() }(), verdict: Unknown,
			detail: []string{"nothing to judge: no server said it was going away"}},
		{name: "a notice to another connection: UNKNOWN", cfg: &GoawayNotFailure{}, sc: sc, h: func() history.History {
			s := &story{}
			s.connect(5, "A")
			s.add(ev(600, history.KindGoingAway, "server=s1", "conn=s1#9", "grace_ms=500", "notice=goaway"))
			return s.hist()
		}(), verdict: Unknown, detail: []string{"no client was on s1 s1#9 at its GOAWAY notice at 600.0ms"}},
		{name: "the old connection lost under a cut: not judged", cfg: &GoawayNotFailure{}, sc: sc, h: func() history.History {
			s := &story{}
			s.connect(5, "A")
			s.add(ev(600, history.KindGoingAway, "server=s1", "conn=s1#1", "grace_ms=500", "notice=goaway"),
				ev(700, history.KindFaultOn, "link=s1", "verb=cut"),
				ev(701, history.KindSessionDisconn, "server=s1", "conn=s1#1", "session=A", "reason=transport"),
				state(702, cA, cF, "A"))
			return s.hist()
		}(), verdict: Unknown, detail: []string{"not judged: its connection ended at 701.0ms under a loss fault on s1"}},
		{name: "bad settle", cfg: &GoawayNotFailure{Settle: Ptr(-time.Second)}, sc: sc, h: gaStory().hist(), verdict: Failed, detail: []string{"bad parameters: settle must not be negative"}},
	})
}
