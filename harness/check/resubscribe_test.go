package check

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// resubOpts shapes resubStory.
type resubOpts struct {
	value    string  // the contract's resubscribe value ("": no term)
	again    bool    // the client subscribes again on the new connection
	resumed  bool    // the server resumes the session instead (subscriptions kept)
	upAt     float64 // the client's CONNECTED_ACTIVE on the new connection (0: never)
	secondAt float64 // a second loss of the new connection (0: none)
}

// resubStory: a client subscribed to prices on s1#1 at 200ms; the broker
// publishes every 100ms from 300ms to 3.9s; a cut at 1s; the client is back
// on s1#2 at 2s, where the server begins its session afresh (a clean
// session: session.create) unless resumed.
func resubStory(o resubOpts) history.History {
	s := &story{}
	c := map[string]any{"delivery": map[string]string{"value": "at_most_once", "cite": "lib publish()"}}
	if o.value != "" {
		c[termResubscribe] = map[string]string{"value": o.value, "cite": "lib onConnect()"}
	}
	b, _ := json.Marshal(c)
	s.add(admitted(0, "s1", "s1#1", "s1/c")...)
	s.add(ev(0.1, "state", "to=CONNECTING", "server=s1"), state(1, cg, cA, "s1/c"),
		ev(2, history.KindReply, "client=0", "op=connect", "id=1", "ok=true", "contract="+string(b)),
		ev(200, "subscribe", "server=s1", "conn=s1#1", "session=s1/c", "topic=prices"),
		ev(1000, "fault.on", "link=s1", "verb=cut"), ev(1000.5, "conn.close", "server=s1", "conn=s1#1", "session=s1/c", "reason=eof"),
		state(1001, cA, rR, "s1/c"))
	begin := "session.create"
	if o.resumed {
		begin = "session.resume"
	}
	s.add(ev(2000, "accept", "server=s1", "conn=s1#2"), ev(2000.3, "handshake", "server=s1", "conn=s1#2", "session=s1/c", "ok=true"),
		ev(2000.4, begin, "server=s1", "conn=s1#2", "session=s1/c"))
	if o.upAt > 0 {
		s.add(state(o.upAt, rR, cA, "s1/c"))
	}
	end := 4000.0
	if o.secondAt > 0 {
		end = o.secondAt
		s.add(ev(o.secondAt, "conn.close", "server=s1", "conn=s1#2", "session=s1/c", "reason=eof"), state(o.secondAt+1, cA, rR, "s1/c"))
	}
	subscribed := o.again || o.resumed
	if o.again {
		s.add(ev(2002, "subscribe", "server=s1", "conn=s1#2", "session=s1/c", "topic=prices"))
	}
	for n := 1; n <= 37; n++ {
		t := 200 + 100*float64(n)
		s.add(ev(t, "publish", "server=s1", "topic=prices", fmt.Sprintf("seq=%d", n)))
		conn := ""
		switch {
		case t < 1000:
			conn = "s1#1"
		case t > 2002 && t < end && subscribed:
			conn = "s1#2"
		}
		if conn != "" {
			s.add(ev(t+0.2, "deliver", "server=s1", "conn="+conn, "session=s1/c", "topic=prices", fmt.Sprintf("seq=%d", n)),
				ev(t+0.5, "message", "topic=prices", fmt.Sprintf("seq=%d", n)))
		}
	}
	s.add(ev(4500, "step", "step=end"))
	return s.hist()
}

func TestResubscribe(t *testing.T) {
	cfg := &Resubscribe{}
	runCases(t, []tcase{
		{name: "driver: subscribed again", cfg: cfg, h: resubStory(resubOpts{value: resubDriver, again: true, upAt: 2001}), verdict: OK,
			detail: []string{"every held topic was subscribed again on each of 1 connection(s) the server began afresh (19 message(s) published after, 19 delivered), as resubscribe: driver (lib onConnect())"}},
		{name: "auto: never subscribed again", cfg: cfg, h: resubStory(resubOpts{value: resubAuto, upAt: 2001}), verdict: Failed,
			detail: []string{`client 0 on s1#2 (session "s1/c" begun afresh by s1 at 2000.4ms: the server held none of its subscriptions): "prices" never subscribed again; 19 message(s) published on it while the client held the connection (to 4500.0ms), 0 delivered to it, 0 reported by the client; resubscribe: auto (lib onConnect())`}},
		{name: "none: the loss, informational", cfg: cfg, h: resubStory(resubOpts{value: resubNone, upAt: 2001}), verdict: Informational,
			detail: []string{`"prices" never subscribed again; 19 message(s) published`, "resubscribe: none (lib onConnect())"}},
		{name: "none: yet subscribed again", cfg: cfg, h: resubStory(resubOpts{value: resubNone, again: true, upAt: 2001}), verdict: Failed,
			detail: []string{`"prices" subscribed again at 2002.0ms, 1.6ms later`, "a re-subscription the contract does not declare"}},
		{name: "no term: what happened, informational", cfg: cfg, h: resubStory(resubOpts{again: true, upAt: 2001}), verdict: Informational,
			detail: []string{"subscribed again", "not judged: resubscribe: not declared"}},
		{name: "the server resumed the session: nothing to judge", cfg: cfg, h: resubStory(resubOpts{value: resubDriver, resumed: true, upAt: 2001}), verdict: Unknown,
			detail: []string{"nothing to judge: no reconnect onto a session the server began afresh"}},
		{name: "the client never came up on it", cfg: cfg, h: resubStory(resubOpts{value: resubAuto}), verdict: Unknown,
			detail: []string{"never reported CONNECTED_ACTIVE on s1#2"}},
		{name: "held too briefly", cfg: cfg, h: resubStory(resubOpts{value: resubAuto, upAt: 2001, secondAt: 2500}), verdict: Unknown,
			detail: []string{"held s1#2 only 499.0ms"}},
		{name: "another topic", cfg: &Resubscribe{Topic: "other"}, h: resubStory(resubOpts{value: resubAuto, upAt: 2001}), verdict: Unknown},
	})
}
