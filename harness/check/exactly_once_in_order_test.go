package check

import (
	"strconv"
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// pubStory: session A subscribes to "prices" at 20ms; the server publishes
// seqs 1..n every 50ms from 100ms and delivers each at once; the client
// reports the seqs in got (in that order), each 1ms after the delivery of
// that seq (or after the last one for seqs never delivered).
func pubStory(n int, got ...int64) *story {
	s := &story{}
	s.connect(5, "A")
	s.add(ev(20, "subscribe", "server=s1", "session=A", "topic=prices"))
	at := func(seq int64) float64 { return 100 + 50*float64(seq-1) }
	for i := int64(1); i <= int64(n); i++ {
		q := strconv.FormatInt(i, 10)
		s.add(ev(at(i), "publish", "server=s1", "topic=prices", "seq="+q),
			ev(at(i)+0.5, "deliver", "server=s1", "session=A", "conn=s1#1", "topic=prices", "seq="+q))
	}
	last := 0.0
	for _, q := range got {
		t := at(q) + 1
		if t <= last {
			t = last + 1
		}
		last = t
		s.add(ev(t, "message", "topic=prices", "seq="+strconv.FormatInt(q, 10)))
	}
	return s
}

func seqs(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestExactlyOnceInOrder(t *testing.T) {
	prices := &ExactlyOnceInOrder{Topic: "prices"}

	// Across an outage: published 1..6 live, 7..9 while cut (delivery fails
	// until the resume, which replays 7..9), 10 after.
	outage := &story{}
	outage.connect(5, "A")
	outage.add(ev(20, "subscribe", "server=s1", "session=A", "topic=prices"))
	for i := int64(1); i <= 10; i++ {
		q := strconv.FormatInt(i, 10)
		at := 100 + 50*float64(i-1)
		if i == 10 {
			at = 700
		}
		outage.add(ev(at, "publish", "server=s1", "topic=prices", "seq="+q))
		switch {
		case i <= 6:
			outage.add(ev(at+0.5, "deliver", "server=s1", "session=A", "topic=prices", "seq="+q), ev(at+1, "message", "topic=prices", "seq="+q))
		case i == 10:
			outage.add(ev(at+0.5, "deliver", "server=s1", "session=A", "topic=prices", "seq="+q), ev(at+1, "message", "topic=prices", "seq="+q))
		}
	}
	rec := outage.lose(400, "cut", "A")
	outage.attempts(rec, 100)
	outage.resume(600, "A")
	for i := int64(7); i <= 9; i++ {
		q := strconv.FormatInt(i, 10)
		outage.add(ev(601+float64(i)/10, "deliver", "server=s1", "session=A", "topic=prices", "seq="+q, "replay=true"),
			ev(603+float64(i)/10, "message", "topic=prices", "seq="+q))
	}

	lateSub := pubStory(0)
	lateSub.add(ev(10, "publish", "server=s1", "topic=prices", "seq=1"), ev(30, "publish", "server=s1", "topic=prices", "seq=2"),
		ev(30.5, "deliver", "server=s1", "session=A", "topic=prices", "seq=2"), ev(31, "message", "topic=prices", "seq=2"))

	closed := pubStory(10, seqs(1, 4)...)
	closed.add(ev(290, "op", "op=close"), state(292, cA, cBC, "A", "reason=closed_by_client"))

	runCases(t, []tcase{
		{name: "all in order", cfg: prices, h: pubStory(10, seqs(1, 10)...).hist(), verdict: OK},
		{name: "replayed after an outage", cfg: prices, h: outage.hist(), verdict: OK},
		{name: "subscribed mid-stream", cfg: prices, h: lateSub.hist(), verdict: OK},
		{name: "closed early, consecutive so far", cfg: prices, h: closed.hist(), verdict: OK},
		{name: "duplicated message", cfg: prices, h: pubStory(5, 1, 2, 3, 3, 4, 5).hist(), verdict: Failed,
			detail: []string{`client 0 session "A" topic "prices": duplicated message seq 3 at 202.0ms`}},
		{name: "gap", cfg: prices, h: pubStory(5, 1, 2, 4, 5).hist(), verdict: Failed,
			detail: []string{"gap: seq 3 missing (client got seq 4 after seq 2 at 251.0ms"}},
		{name: "missing at the start", cfg: prices, h: pubStory(5, 3, 4, 5).hist(), verdict: Failed,
			detail: []string{"gap: seqs 1..2 missing (client got seq 3 at the start"}},
		{name: "out of order", cfg: prices, h: pubStory(5, 1, 3, 2, 4, 5).hist(), verdict: Failed,
			detail: []string{"seq 2 out of order"}},
		{name: "tail never arrived", cfg: prices, h: pubStory(10, seqs(1, 8)...).hist(), verdict: Failed,
			detail: []string{"session still open at the end", "client's last seq is 8; the server published up to seq 10", "seqs 9..10 never arrived"}},
		{name: "message the server never delivered", cfg: prices,
			h: pubStory(6, seqs(1, 6)...).add(ev(500, "message", "topic=prices", "seq=7")).hist(), verdict: Failed,
			detail: []string{"client reports seq 7 the server never delivered (message at 500.0ms)"}},
		{name: "message before its delivery", cfg: prices,
			h: func() history.History {
				h := pubStory(2, 1, 2).hist()
				for i := range h {
					if h[i].Kind == "message" && h[i].Seq == 2 {
						h[i].T = msd(130)
					}
				}
				return (&story{evs: h}).hist()
			}(), verdict: Failed,
			detail: []string{"client reports seq 2 at 130.0ms before the server delivered it at 150.5ms"}},
		{name: "nothing published", cfg: prices, h: pubStory(0).hist(), verdict: Unknown, detail: []string{"nothing to judge: nothing was published"}},
		// A session that ended before any message reached it proves nothing.
		{name: "published, none received before the close", cfg: prices,
			h: pubStory(3).add(ev(400, "op", "op=close"), state(402, cA, cBC, "A", "reason=closed_by_client")).hist(), verdict: Unknown,
			detail: []string{"nothing to judge: 3 message(s) published on \"prices\" after a subscribe, none received"}},
		{name: "never subscribed", cfg: prices, h: (&story{}).connect(5, "A").hist(), verdict: Unknown, detail: []string{"nothing to judge: no client session subscribed"}},
		{name: "topic required", cfg: &ExactlyOnceInOrder{}, h: recoveryH(), verdict: Failed, detail: []string{"bad parameters: topic is required"}},
	})
}

func TestExactlyOnceInOrderTwoClients(t *testing.T) {
	// Client 1 holds session B on the same server and misses seq 4.
	s := pubStory(5, seqs(1, 5)...)
	s.add(
		ev(8, "state", "client=1", "from=CONNECTING", "to=CONNECTED_ACTIVE", "server=s1", "session=B"),
		ev(21, "subscribe", "server=s1", "session=B", "topic=prices"),
	)
	for _, q := range []string{"1", "2", "3", "4", "5"} {
		n, _ := strconv.Atoi(q)
		at := 100 + 50*float64(n-1)
		s.add(ev(at+0.6, "deliver", "server=s1", "session=B", "topic=prices", "seq="+q))
		if q != "4" {
			s.add(ev(at+2, "message", "client=1", "topic=prices", "seq="+q))
		}
	}
	two := scen(func(sc *scenario.Scenario) { sc.Clients = 2 })
	runCases(t, []tcase{
		{name: "one of two clients has a gap", cfg: &ExactlyOnceInOrder{Topic: "prices"}, sc: two, h: s.hist(), verdict: Failed,
			detail: []string{`client 1 session "B" topic "prices": gap: seq 4 missing (client got seq 5 after seq 3 at 302.0ms`}},
	})
}
