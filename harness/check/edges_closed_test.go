package check

import "testing"

func TestEdgesClosed(t *testing.T) {
	ec := &EdgesClosed{}
	// Both instances cut at 100ms; the router closes e1 at once; a new edge
	// e2 is accepted at 150ms and its message gets a 500; e1 refuses.
	story := func(closeAt float64, reopen, reopenOK bool) *rt {
		r := newRT("s1", "s2")
		r.sends(10, "s1", "s2")
		r.cut(100, "s1")
		r.cut(100, "s2")
		if closeAt > 0 {
			r.add(cev(closeAt, "edge", "edge=e1", "state=closed", "reason=no_instances"))
		}
		if reopen {
			r.edge(150, "e2", reopenOK)
		}
		r.heal(1000, "s1")
		r.heal(1000, "s2")
		return r
	}
	ok := story(101.1, true, true)
	ok.sendOp(120, "", 1, 1, 100, false) // on the closed e1: refused

	late := story(0, true, true)
	neverReopened := story(101.1, false, false)
	refusedNew := story(101.1, true, false)

	tookIt := story(101.1, true, true)
	id := tookIt.sendOp(120, "", 1, 1, 100, true) // the closed e1 takes it
	tookIt.resp(120.1, id, 500, "")

	eager := newRT("s1", "s2")
	eager.sends(10, "s1", "s2")
	eager.add(cev(300, "edge", "edge=e1", "state=closed", "reason=no_instances"))
	eager.edge(310, "e2", true)

	calm := newRT("s1", "s2")
	calm.sends(10, "s1", "s2")

	runRouteCases(t, 2, []tcase{
		{name: "closed at once, new edge accepted, closed edge refuses", cfg: ec, h: ok.hist(), verdict: OK},
		{name: "edges left open", cfg: ec, h: late.hist(), verdict: Failed,
			detail: []string{"every instance was lost at 100.0ms (server/link), but edge e1 was still open 300.0ms later"}},
		{name: "no new edge tried", cfg: ec, h: neverReopened.hist(), verdict: Failed,
			detail: []string{"no edge was opened after the router closed its edges at 101.1ms: nothing shows new ones are accepted"}},
		{name: "new edge refused", cfg: ec, h: refusedNew.hist(), verdict: Failed,
			detail: []string{"edge e2 was refused at 150.0ms after the router had closed its edges (refused): new edges must still be accepted"}},
		{name: "closed edge takes a message", cfg: ec, h: tookIt.hist(), verdict: Failed,
			detail: []string{"edge e1 was closed at 101.1ms, yet took message 6 part 1 at 120.0ms"}},
		{name: "closed while instances were up", cfg: ec, h: eager.hist(), verdict: Failed,
			detail: []string{"the router closed edge e1 at 300.0ms while some instance was connected and unfaulted (server/link)",
				"the router closed edge e1 at 300.0ms while its own view had [s1 s2] connected"}},
		{name: "never all lost", cfg: ec, h: calm.hist(), verdict: Unknown,
			detail: []string{"nothing to judge: the instances were never all lost for longer than 300.0ms"}},
	})
}
