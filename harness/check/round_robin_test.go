package check

import "testing"

func TestRoundRobin(t *testing.T) {
	rr := &RoundRobin{}
	healthy := newRT("s1", "s2", "s3")
	healthy.sends(10, "s1", "s2", "s3", "s1", "s2", "s3")

	wrong := newRT("s1", "s2", "s3")
	wrong.sends(10, "s1", "s3", "s2")

	lied := newRT("s1", "s2")
	lied.sends(10, "s1")
	id := lied.sendOp(20, "", 1, 1, 100, true)
	lied.route(20.1, id, 1, 1, "s2")
	lied.recv(20.5, id, 1, 1, "s1", 150)
	lied.resp(21, id, 200, "s1")

	silent := newRT("s1", "s2")
	id = silent.sendOp(10, "", 1, 1, 100, true)
	silent.recv(10.5, id, 1, 1, "s1", 150)
	silent.resp(11, id, 200, "s1")

	skipCut := newRT("s1", "s2", "s3")
	skipCut.cut(5, "s2")
	skipCut.sends(10, "s1", "s3", "s1", "s3")
	skipCut.heal(100, "s2")
	skipCut.sends(200, "s1", "s2", "s3")

	order := &rt{conns: map[string]int{}, live: map[string]string{}}
	order.opAt(0, "connect")
	order.edge(0.1, "e1", true)
	order.view(0.2, "s2", "added", 0)
	order.view(0.2, "s1", "added", 0)
	order.connect(1, "s1")
	order.connect(1, "s2")
	order.sends(10, "s2", "s1")

	dead := newRT("s1", "s2")
	dead.add(ev(5, "conn.close", "server=s2", "conn=s2#1", "reason=transport")) // the router never noticed
	dead.sends(500, "s1", "s2")

	runRouteCases(t, 3, []tcase{
		{name: "healthy", cfg: rr, h: healthy.hist(), verdict: OK},
		{name: "skipping a cut instance is the rotation", cfg: rr, h: skipCut.hist(), verdict: OK},
		{name: "wrong order", cfg: rr, h: wrong.hist(), verdict: Failed,
			detail: []string{"message 4 went to s3 at 20.1ms; the round robin over the router's view (from the pointer: s2 (eligible), s3 (eligible), s1 (eligible)) gives s2"}},
		{name: "claim differs from the receipt", cfg: rr, sc: rscen(2), h: lied.hist(), verdict: Failed,
			detail: []string{"message 4 part 1: the router said s2, but s1 received it at 20.5ms (server)"}},
		{name: "routing not reported", cfg: rr, sc: rscen(2), h: silent.hist(), verdict: Failed,
			detail: []string{"s1 received message 3 part 1 at 10.5ms, which the router never reported routing"}},
		{name: "list out of the discovery's order", cfg: rr, sc: rscen(2), h: order.hist(), verdict: Failed,
			detail: []string{"the router's circular list began as [s2,s1], want the discovery's initial members in order [s1,s2]"}},
		{name: "routed to an instance without a connection", cfg: rr, sc: rscen(2), h: dead.hist(), verdict: Failed,
			detail: []string{"message 4 was routed to s2 at 510.1ms, but s2 had no router connection then (server)"}},
		{name: "too few messages", cfg: &RoundRobin{MinMessages: 10}, h: healthy.hist(), verdict: Unknown,
			detail: []string{"nothing to judge: 6 first part(s) routed, want at least 10"}},
	})
}

// Shares are judged from the receipts: a router whose claims follow the
// rotation while the instances receive something else is caught twice.
func TestRoundRobinShares(t *testing.T) {
	r := newRT("s1", "s2")
	for i := 0; i < 6; i++ {
		id := r.sendOp(10+float64(i)*10, "", 1, 1, 100, true)
		claim := []string{"s1", "s2"}[i%2]
		r.route(10.1+float64(i)*10, id, 1, 1, claim)
		r.recv(10.5+float64(i)*10, id, 1, 1, "s1", 150) // s1 gets everything
		r.resp(11+float64(i)*10, id, 200, "s1")
	}
	runRouteCases(t, 2, []tcase{{name: "one instance takes every turn", cfg: &RoundRobin{}, h: r.hist(), verdict: Failed,
		detail: []string{"while every member was eligible the instances' shares differ by 6 (map[s1:6 s2:0]): not a round robin"}}})
}
