package check

import (
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestSkipIneligible(t *testing.T) {
	sk := &SkipIneligible{ExpectSkips: []string{"s2"}}

	// From 300ms (beyond the lag, so that s2's connection is solidly live)
	// s2 is throttled: it takes its turns but receives them late, 1200 bytes
	// in flight by 303.6ms.
	throttled := newRT("s1", "s2", "s3")
	throttled.add(ev(300, "fault.on", "link=s2", "verb=throttle", "id=t", "rate=1"))
	for i, ms := range []float64{302, 302.3, 302.6, 303, 303.3, 303.6} {
		id := throttled.sendOp(ms, "", 1, 1, 500, true)
		inst := []string{"s1", "s2", "s3"}[i%3]
		throttled.route(ms+0.05, id, 1, 1, inst)
		late, bytes := 0.5, 150
		if inst == "s2" {
			late, bytes = 900, 600
		}
		throttled.recv(ms+late, id, 1, 1, inst, bytes)
		throttled.resp(ms+late+0.5, id, 200, inst)
	}
	base := throttled.evs
	from := func() *rt {
		return &rt{evs: append([]history.Event(nil), base...), op: throttled.op, conns: throttled.conns, live: throttled.live}
	}

	legit := from()
	legit.view(303.4, "s2", "unwritable", 1100)
	legit.sends(310, "s1", "s3", "s1", "s3")
	legit.view(1210, "s2", "writable", 300)
	legit.sends(1220, "s1", "s2", "s3")

	ignores := from()
	ignores.view(303.4, "s2", "unwritable", 1100)
	ignores.sends(310, "s1", "s2")

	noBacklog := newRT("s1", "s2", "s3")
	noBacklog.view(300, "s2", "unwritable", 1100)
	noBacklog.sends(310, "s1", "s3")

	fakeLoss := newRT("s1", "s2", "s3")
	fakeLoss.view(300, "s2", "disconnected", 0)
	fakeLoss.sends(310, "s1", "s3")

	cut := newRT("s1", "s2", "s3")
	cut.cut(5, "s2")
	cut.sends(10, "s1", "s3", "s1")

	lowClaim := from()
	lowClaim.view(303.4, "s2", "unwritable", 900)
	lowClaim.sends(310, "s1", "s3")
	lowClaim.view(1210, "s2", "writable", 600)

	passOver := newRT("s1", "s2", "s3")
	passOver.sends(10, "s1", "s3")

	healthy := newRT("s1", "s2", "s3")
	healthy.sends(10, "s1", "s2", "s3")

	runRouteCases(t, 3, []tcase{
		{name: "throttled past the high mark, skipped, back below the low mark", cfg: sk, h: legit.hist(), verdict: OK},
		{name: "cut and skipped", cfg: sk, h: cut.hist(), verdict: OK},
		{name: "routes to an unwritable instance", cfg: sk, h: ignores.hist(), verdict: Failed,
			detail: []string{"message 10 was routed to s2 at 320.1ms while the router's own view had it not writable"}},
		{name: "unwritable without the bytes in flight", cfg: sk, h: noBacklog.hist(), verdict: Failed,
			detail: []string{"the router called s2 unwritable at 300.0ms, but only 0 bytes were in flight towards it (server receipts), below the high mark 1000",
				"message 4 at 320.1ms skipped s2 as not writable, but s2 connected on s2#1 since 1.0ms, 0 bytes in flight (< low mark 500), no loss fault on its link"}},
		{name: "disconnected without evidence", cfg: sk, h: fakeLoss.hist(), verdict: Failed,
			detail: []string{"message 4 at 320.1ms skipped s2 as not connected, but s2 connected on s2#1"}},
		{name: "claims beside the marks", cfg: sk, h: lowClaim.hist(), verdict: Failed,
			detail: []string{"the router called s2 unwritable at 303.4ms with 900 bytes buffered: not above the high mark 1000",
				"the router called s2 writable again at 1210.0ms with 600 bytes buffered: not below the low mark 500"}},
		{name: "passes over an eligible instance", cfg: sk, h: passOver.hist(), verdict: Failed,
			detail: []string{"message 4 at 20.1ms passed over s2, which the router's own view had eligible"}},
		{name: "the fault's instance never skipped", cfg: sk, h: healthy.hist(), verdict: Failed,
			detail: []string{"s2 was never skipped: the scenario meant it to become ineligible (is back-pressure ignored?)"}},
	})
}
