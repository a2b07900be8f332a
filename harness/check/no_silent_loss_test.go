package check

import (
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestNoSilentLoss(t *testing.T) {
	no := false
	// refused: session A lost at 400ms; on resume at 600ms the server's buffer
	// no longer covers the gap (session.lost); then the given client events.
	refused := func(then ...history.Event) history.History {
		s := pubStory(3, 1, 2, 3)
		rec := s.lose(400, "cut", "A")
		s.attempts(rec, 100)
		s.add(
			ev(600, "accept", "server=s1", "conn=s1#3"),
			ev(600.5, "handshake", "server=s1", "conn=s1#3", "session=A", "ok=false", "reason=lost_messages"),
			ev(601, "session.lost", "server=s1", "conn=s1#3", "session=A"),
		)
		return s.add(then...).hist()
	}
	// holey: 1..3 received, outage, resume at 600ms, then 6 and 7 delivered
	// live (4, 5 published during the outage never replayed).
	holey := func(then ...history.Event) history.History {
		s := pubStory(3, 1, 2, 3)
		rec := s.lose(400, "cut", "A")
		s.add(ev(450, "publish", "server=s1", "topic=prices", "seq=4"), ev(500, "publish", "server=s1", "topic=prices", "seq=5"))
		s.attempts(rec, 100)
		s.resume(600, "A")
		s.add(
			ev(700, "publish", "server=s1", "topic=prices", "seq=6"), ev(700.5, "deliver", "server=s1", "session=A", "topic=prices", "seq=6"), ev(701, "message", "topic=prices", "seq=6"),
			ev(750, "publish", "server=s1", "topic=prices", "seq=7"), ev(750.5, "deliver", "server=s1", "session=A", "topic=prices", "seq=7"), ev(751, "message", "topic=prices", "seq=7"),
		)
		return s.add(then...).hist()
	}
	// liveHole: a hole on a live connection (2 never arrives), then a close.
	liveHole := func(then ...history.Event) history.History {
		return pubStory(4, 1, 3, 4).add(then...).hist()
	}
	runCases(t, []tcase{
		{name: "session.lost then closed lost_messages", cfg: &NoSilentLoss{},
			h: refused(state(603, rR, cF, "A", "reason=lost_messages")), verdict: OK},
		{name: "hole on a live connection, then closed", cfg: &NoSilentLoss{},
			h: liveHole(state(260, cA, cF, "A", "reason=lost_messages")), verdict: OK},
		{name: "resumed silently after session.lost", cfg: &NoSilentLoss{},
			h: refused(state(603, rR, cA, "A")), verdict: Failed,
			detail: []string{`client 0 went on CONNECTED_ACTIVE at 603.0ms after server s1 refused session "A" for lost messages (session.lost at 601.0ms): resumed silently`}},
		{name: "session.lost, client never closed", cfg: &NoSilentLoss{},
			h: refused(), verdict: Failed,
			detail: []string{`server s1 recorded session.lost for "A" at 601.0ms but client 0 never closed CLOSED_FAILED (lost_messages)`, "last state RECOVERING_RECONNECT at 402.0ms"}},
		{name: "resumed with a hole", cfg: &NoSilentLoss{}, h: holey(), verdict: Failed,
			detail: []string{`client 0 resumed CONNECTED_ACTIVE at 602.0ms with a hole: client 0 session "A" topic "prices": seqs 4..5 missing (got seq 6 at 701.0ms)`}},
		{name: "hole on a live connection, never closed", cfg: &NoSilentLoss{}, h: liveHole(), verdict: Failed,
			detail: []string{`silent loss: client 0 session "A" topic "prices": seq 2 missing (got seq 3 at 201.0ms)`}},
		{name: "nothing lost", cfg: &NoSilentLoss{}, h: pubStory(3, 1, 2, 3).hist(), verdict: Unknown,
			detail: []string{"nothing to judge: no session.lost and no gap", "expect_loss: false"}},
		{name: "nothing lost, as expected", cfg: &NoSilentLoss{ExpectLoss: &no}, h: pubStory(3, 1, 2, 3).hist(), verdict: OK,
			detail: []string{"3 message(s) received"}},
		// A check with nothing to judge is never OK: a driver that never
		// connected, or a session that never received anything, lost nothing.
		{name: "expect_loss false, a driver that never connected", cfg: &NoSilentLoss{ExpectLoss: &no},
			h: (&story{}).add(ev(0, "op", "op=connect"), ev(300, "reply", "op=connect", "reason=timeout")).hist(), verdict: Unknown,
			detail: []string{"nothing to judge: no client received a message"}},
		{name: "expect_loss false, a session that received nothing", cfg: &NoSilentLoss{ExpectLoss: &no},
			h: pubStory(3).hist(), verdict: Unknown, detail: []string{"nothing to judge"}},
		{name: "expect_loss false, messages the client claims on a subscription no server recorded", cfg: &NoSilentLoss{ExpectLoss: &no},
			h: (&story{}).connect(5, "A").add(ev(100, "message", "topic=prices", "seq=1")).hist(), verdict: Unknown},
		{name: "lost_messages close without a loss", cfg: &NoSilentLoss{ExpectLoss: &no},
			h: pubStory(3, 1, 2, 3).add(state(300, cA, cF, "A", "reason=lost_messages")).hist(), verdict: Failed,
			detail: []string{"closed CLOSED_FAILED (lost_messages) at 300.0ms though nothing was lost"}},
		{name: "hole though no loss was expected", cfg: &NoSilentLoss{ExpectLoss: &no}, h: holey(), verdict: Failed,
			detail: []string{"with a hole"}},
	})
}
