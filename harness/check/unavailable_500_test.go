package check

import "testing"

func TestUnavailable500(t *testing.T) {
	u := &Unavailable500{Expect500: 1}

	allDown := newRT("s1", "s2")
	allDown.sends(10, "s1", "s2")
	allDown.cut(100, "s1")
	allDown.cut(100, "s2")
	allDown.send(110, "")
	allDown.send(120, "")
	allDown.heal(500, "s1")
	allDown.heal(500, "s2")
	allDown.sends(600, "s1", "s2")

	drop := newRT("s1", "s2")
	drop.sends(10, "s1")
	id := drop.sendOp(20, "", 1, 1, 100, true)
	drop.route(20.1, id, 1, 1, "s2")
	drop.recv(20.5, id, 1, 1, "s2", 150)
	drop.sends(400, "s1") // its answer was due by 320ms (timeout 100ms + lag 200ms)

	notDue := newRT("s1", "s2")
	id = notDue.sendOp(20, "", 1, 1, 100, true)
	notDue.route(20.1, id, 1, 1, "s2")
	notDue.sends(200, "s1") // the run ends before the answer is due

	phantom := newRT("s1", "s2")
	id = phantom.sendOp(10, "", 1, 1, 100, true)
	phantom.route(10.1, id, 1, 1, "s1")
	phantom.resp(11, id, 200, "s1")

	lies := newRT("s1", "s2")
	lies.view(300, "s1", "disconnected", 0)
	lies.view(300, "s2", "disconnected", 0)
	lies.send(310, "")

	eager := newRT("s1", "s2")
	eager.send(310, "")

	queued := newRT("s1", "s2")
	queued.cut(100, "s1")
	queued.cut(100, "s2")
	id = queued.sendOp(110, "", 1, 1, 100, true)
	queued.resp(400, id, 500, "")

	causeless := newRT("s1", "s2")
	id = causeless.sendOp(300, "", 1, 1, 100, true)
	causeless.route(300.1, id, 1, 1, "s1")
	causeless.recv(300.5, id, 1, 1, "s1", 150)
	causeless.resp(301, id, 502, "s1")

	lost := newRT("s1", "s2")
	id = lost.sendOp(300, "", 1, 1, 100, true)
	lost.route(300.1, id, 1, 1, "s1")
	lost.cut(300.2, "s1")
	lost.resp(301.2, id, 502, "s1")

	refused := newRT("s1", "s2")
	refused.sends(10, "s1")
	id = refused.sendOp(20, "", 1, 1, 100, false)
	refused.recv(20.5, id, 1, 1, "s2", 150)

	twice := newRT("s1", "s2")
	id = twice.sendOp(10, "", 1, 1, 100, true)
	twice.route(10.1, id, 1, 1, "s1")
	twice.recv(10.5, id, 1, 1, "s1", 150)
	twice.recv(10.6, id, 1, 1, "s1", 150)
	twice.resp(11, id, 200, "s1")

	healthy := newRT("s1", "s2")
	healthy.sends(10, "s1", "s2")

	runRouteCases(t, 2, []tcase{
		{name: "500 while every instance is cut, 200 after", cfg: u, h: allDown.hist(), verdict: OK},
		{name: "drops a message", cfg: u, h: drop.hist(), verdict: Failed,
			detail: []string{"message 4 (sent at 20.0ms on e1, routed to s2) was never answered: dropped or queued for ever"}},
		{name: "unanswered at the end but not yet due", cfg: &Unavailable500{}, h: notDue.hist(), verdict: OK},
		{name: "200 without a receipt", cfg: u, h: phantom.hist(), verdict: Failed,
			detail: []string{"message 3 answered 200 by s1 at 11.0ms, but part 1 was received nowhere (server)"}},
		{name: "500 while instances were up", cfg: u, h: lies.hist(), verdict: Failed,
			detail: []string{"message 3 answered 500 at 310.1ms, but s1 connected on s1#1 since 1.0ms"}},
		{name: "500 against its own view", cfg: u, h: eager.hist(), verdict: Failed,
			detail: []string{"message 3 answered 500 at 310.1ms while the router's own view had s1 eligible"}},
		{name: "500 only later: queued", cfg: u, h: queued.hist(), verdict: Failed,
			detail: []string{"message 3 got its 500 at 400.0ms, after the op's reply at 110.2ms: queued, not refused at once"}},
		{name: "502 without a cause", cfg: u, h: causeless.hist(), verdict: Failed,
			detail: []string{"message 3 answered 502 () at 301.0ms, but its instance s1 was connected, writable and not removed"}},
		{name: "502 when its instance is cut", cfg: &Unavailable500{}, h: lost.hist(), verdict: OK},
		{name: "refused by the edge but delivered", cfg: &Unavailable500{}, h: refused.hist(), verdict: Failed,
			detail: []string{"message 4 was refused by its edge, yet s2 received part 1"}},
		{name: "received twice", cfg: &Unavailable500{}, h: twice.hist(), verdict: Failed,
			detail: []string{"message 3 part 1 was received 2 times"}},
		{name: "no 500 where the scenario wants one", cfg: u, h: healthy.hist(), verdict: Failed,
			detail: []string{"0 messages answered 500, the scenario expects at least 1"}},
	})
}
