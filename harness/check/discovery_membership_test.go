package check

import (
	"testing"

	"github.com/faultline/faultline/harness/scenario"
)

func TestDiscoveryMembership(t *testing.T) {
	dm := &DiscoveryMembership{Within: Ptr(500 * msd(1))}
	sc := rscen(3, func(sc *scenario.Scenario) { sc.Client.Servers = []string{"s1", "s2"} })

	// s3 joins at 100ms and takes its turns; s1 leaves at 300ms.
	story := func(removedGets bool) *rt {
		r := newRT("s1", "s2")
		r.sends(10, "s1", "s2", "s1")
		id := r.opAt(100, "discovery.add", "server=s3")
		r.replyAt(100.1, "discovery.add", id, true)
		r.view(100.2, "s3", "added", 0)
		r.connect(102, "s3")
		r.sends(110, "s2", "s3", "s1", "s2", "s3", "s1")
		id = r.opAt(300, "discovery.remove", "server=s1")
		r.replyAt(300.1, "discovery.remove", id, true)
		r.view(300.2, "s1", "removed", 0)
		if removedGets {
			r.send(305, "s1")
		}
		r.add(ev(301, "conn.close", "server=s1", "conn=s1#1", "reason=closed_by_router"))
		r.sends(310, "s2", "s3", "s2", "s3")
		return r
	}
	ok := story(false)
	stale := story(true)

	silentAdd := newRT("s1", "s2")
	id := silentAdd.opAt(100, "discovery.add", "server=s3")
	silentAdd.replyAt(100.1, "discovery.add", id, true)
	silentAdd.sends(110, "s1", "s2", "s1", "s2", "s1", "s2")

	restart := newRT("s1", "s2")
	id = restart.opAt(100, "discovery.add", "server=s3")
	restart.replyAt(100.1, "discovery.add", id, true)
	restart.view(100.2, "s3", "added", 0)
	restart.add(ev(100.5, "conn.close", "server=s1", "conn=s1#1", "reason=closed_by_router"))
	restart.connect(101, "s3")
	restart.connect(101, "s1")

	unasked := newRT("s1", "s2")
	unasked.sends(10, "s1", "s2")
	unasked.view(50, "s3", "added", 0)

	runRouteCases(t, 3, []tcase{
		{name: "added joins, removed leaves", cfg: dm, sc: sc, h: ok.hist(), verdict: OK},
		{name: "keeps routing to a removed instance", cfg: dm, sc: sc, h: stale.hist(), verdict: Failed,
			detail: []string{"message 14 part 1 was routed to s1 at 305.1ms, after its removal at 300.2ms",
				"s1 received message 14 part 1 (sent at 305.0ms) after its removal at 300.2ms (server)"}},
		{name: "added but never followed", cfg: dm, sc: sc, h: silentAdd.hist(), verdict: Failed,
			detail: []string{"the router's view never followed the discovery.add of s3 at 100.0ms",
				"s3 was added at 100.0ms, but the router did not connect to it within 500.0ms (server)"}},
		{name: "a restart", cfg: dm, sc: sc, h: restart.hist(), verdict: Failed,
			detail: []string{"s1's router connection s1#1 closed at 100.5ms, 0.5ms after the discovery.add of s3: the router restarted?"}},
		{name: "a change nobody asked for", cfg: dm, sc: sc, h: unasked.hist(), verdict: Failed,
			detail: []string{"the router added s3 at 50.0ms without a discovery op", "nothing to judge: no discovery op"}},
	})
}
