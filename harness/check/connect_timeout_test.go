package check

import (
	"fmt"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// grpcConnect is grpc-go's contract scaled down: min_connect_timeout 500ms,
// back-off 200ms ×1.6 up to 2s, symmetric jitter 0.2, the first exact, the
// deadline max(min_connect_timeout, back-off) unless deadline says otherwise.
func grpcConnect(deadline string) history.Event {
	terms := map[string]string{"first_attempt": "immediate", "delay_applies": "per_attempt", "jitter": "symmetric"}
	if deadline != "" {
		terms["connect_deadline"] = deadline
	}
	return ctReply(11, terms, map[string]any{"initial_ms": 200, "multiplier": 1.6, "max_ms": 2000, "jitter": 0.2,
		"first_wait_exact": true, "min_connect_timeout_ms": 500})
}

// blackholedConnect: s1's link blackholed from 0; client 0's connect op at
// 10ms (reply r at 11ms, none when nil); attempt k is taken by the link at
// t_k, accepted by the server 0.3ms later and, when closes, closed by the
// server last[k] ms after t_k (the client gave up and its close came
// through); the next attempt sleeps[k] ms after that. The blackhole heals
// 50ms after the last attempt, which it ends.
func blackholedConnect(r *history.Event, closes bool, last, sleeps []float64) history.History {
	s := newF()
	s.fault(0, "s1", "blackhole")
	s.op(0, 10)
	if r != nil {
		s.add(*r)
	}
	t := 12.0
	for k := range len(last) + 1 {
		s.linked(t, "s1")
		cn := s.conn("s1")
		s.add(ev(t+0.3, "accept", "server=s1", "conn="+cn))
		if k == len(last) {
			s.heal(t+50, "s1", "blackhole")
			s.add(ev(t+50.5, "conn.close", "server=s1", "conn="+cn, "reason=eof"))
			break
		}
		if closes {
			s.add(ev(t+last[k], "conn.close", "server=s1", "conn="+cn, "reason=eof"))
		}
		t += last[k] + sleeps[k]
	}
	return s.hist()
}

// grpcAttempts: grpc-go's attempts 0..n−1 at factor f: back-off k is
// 200·1.6^k·f capped at 2000·f (back-off 0 exact), the attempt lasts
// max(500, back-off k) and sleeps back-off k after it.
func grpcAttempts(n int, f float64) (last, sleeps []float64) {
	b := 200.0
	for k := range n {
		bk := b
		if k > 0 {
			b = min(b*1.6, 2000)
			bk = b * f
		}
		last, sleeps = append(last, max(500, bk)), append(sleeps, bk)
	}
	return last, sleeps
}

func TestConnectTimeout(t *testing.T) {
	sc := fscen(1, reconnectOn(60e9)) // connect_timeout 300ms
	g := grpcConnect("max_backoff")
	last, sleeps := grpcAttempts(7, 1.1) // back-offs 200, 352, 563, 901, 1442, 2200, 2200
	fixed := make([]float64, len(last))
	for i := range fixed {
		fixed[i] = 500
	}
	early := append([]float64{200}, last[1:]...)
	runCases(t, []tcase{
		{name: "grpc-go, the server's close at the deadline: OK", cfg: &ConnectTimeout{}, sc: sc, h: blackholedConnect(&g, true, last, sleeps), verdict: OK,
			detail: []string{"7 attempt(s) under a blackhole each lasted its connect deadline",
				"client 0 first connect on s1 attempt 0: lasted 0.500s (link accept of s1#1 at 12.0ms → server conn.close s1#1 at 512.0ms), deadline max(contract param min_connect_timeout_ms 0.500s, back-off 0 0.200s) (connect_deadline: max_backoff (grpc-go connect_deadline)) within [0.390s, 0.610s]",
				"attempt 3: lasted 0.901s", "back-off 3 [0.655s, 0.983s]"}},
		{name: "grpc-go, no close recorded: bounded by the next attempt, OK", cfg: &ConnectTimeout{}, sc: sc, h: blackholedConnect(&g, false, last, sleeps), verdict: OK,
			detail: []string{"attempt 0: ended within 0.700s (link accept of s1#1 at 12.0ms → the next attempt's link accept of s1#2 at 712.0ms; at most 0.200s of it the back-off sleep)"}},
		// The spec's own schedule: the next attempt at the attempt's start
		// + max(deadline, back-off), no sleep after a deadline that covers it.
		{name: "the spec's schedule, no close recorded: OK", cfg: &ConnectTimeout{}, sc: sc, h: blackholedConnect(&g, false, last, make([]float64, len(last))), verdict: OK},
		{name: "a fixed 500ms deadline under max_backoff: FAILED", cfg: &ConnectTimeout{}, sc: sc, h: blackholedConnect(&g, true, fixed, sleeps), verdict: Failed,
			detail: []string{"client 0 first connect on s1 attempt 4 lasted 0.500s", "its deadline is max(contract param min_connect_timeout_ms 0.500s, back-off 4 [1.049s, 1.573s])"}},
		{name: "given up before min_connect_timeout: FAILED", cfg: &ConnectTimeout{}, sc: sc, h: blackholedConnect(&g, true, early, sleeps), verdict: Failed,
			detail: []string{"attempt 0 lasted 0.200s", "within [0.390s, 0.610s]"}},
		{name: "given up early, seen by the next attempt: FAILED", cfg: &ConnectTimeout{}, sc: sc, h: blackholedConnect(&g, false, append([]float64{100}, last[1:]...), sleeps), verdict: Failed,
			detail: []string{"attempt 0 gave up early: client 0 first connect on s1's next attempt came 0.300s after it", "(at least 0.390s)"}},
		{name: "held on far too long, seen by the next attempt: FAILED", cfg: &ConnectTimeout{}, sc: sc,
			h: blackholedConnect(&g, false, append([]float64{3000}, last[1:]...), sleeps), verdict: Failed,
			detail: []string{"attempt 0 held on too long", "plus the longest back-off sleep 0.200s"}},
		{name: "connect_deadline fixed: min_connect_timeout for each, OK", cfg: &ConnectTimeout{}, sc: sc, h: blackholedConnect(Ptr(grpcConnect("fixed")), true, fixed, sleeps), verdict: OK,
			detail: []string{"deadline contract param min_connect_timeout_ms 0.500s (connect_deadline: fixed (grpc-go connect_deadline))"}},
		{name: "no connect_deadline term: fixed", cfg: &ConnectTimeout{}, sc: sc, h: blackholedConnect(Ptr(grpcConnect("")), true, last, sleeps), verdict: Failed,
			detail: []string{"connect_deadline: not declared"}},
		{name: "no contract: the scenario's connect_timeout, OK", cfg: &ConnectTimeout{}, sc: sc, h: blackholedConnect(nil, true, []float64{300, 300, 300}, []float64{100, 100, 100}), verdict: OK,
			detail: []string{"3 attempt(s)", "deadline connect_timeout 0.300s (the scenario's; no contract)"}},
		{name: "no contract, twice the connect_timeout: FAILED", cfg: &ConnectTimeout{}, sc: sc, h: blackholedConnect(nil, true, []float64{300, 600}, []float64{100, 100}), verdict: Failed,
			detail: []string{"attempt 1 lasted 0.600s"}},
		{name: "a tolerance from the scenario: OK", cfg: &ConnectTimeout{Tolerance: Ptr(400 * time.Millisecond)}, sc: sc, h: blackholedConnect(nil, true, []float64{300, 600}, []float64{100, 100}), verdict: OK},
		{name: "only the attempt the heal ended: UNKNOWN", cfg: &ConnectTimeout{}, sc: sc, h: blackholedConnect(&g, true, nil, nil), verdict: Unknown,
			detail: []string{"1 attempt(s) under a blackhole, 0 of them with an end seen before the heal"}},
		{name: "no blackhole: UNKNOWN", cfg: &ConnectTimeout{}, sc: sc, h: func() history.History { s := newF(); s.connect(0, 5, "s1"); return s.hist() }(), verdict: Unknown,
			detail: []string{"no attempt was accepted while its link was blackholed"}},
		{name: "two clients: FAILED", cfg: &ConnectTimeout{}, sc: fscen(1, clients(2)), h: blackholedConnect(&g, true, last, sleeps), verdict: Failed, detail: []string{"needs clients: 1"}},
	})
}

// An outage: the connection to s1 is lost to a blackhole, the client's
// reconnects are held; each run counts from back-off 0 again (reset on
// success).
func TestConnectTimeoutOutage(t *testing.T) {
	s := newF()
	a := s.connect(0, 5, "s1")
	s.add(grpcConnect("max_backoff"))
	s.fault(1000, "s1", "blackhole")
	s.add(cst(1002, 0, cA, rR, "s1", a))
	tt := 1002.5
	for k, d := range []float64{500, 500, 563} {
		s.linked(tt, "s1")
		cn := s.conn("s1")
		s.add(ev(tt+0.3, "accept", "server=s1", "conn="+cn), ev(tt+d, "conn.close", "server=s1", "conn="+cn, "reason=eof"))
		tt += d + []float64{200, 352, 563}[k]
	}
	s.heal(tt-10, "s1", "blackhole")
	s.land(0, tt, "s1", rR)
	runCases(t, []tcase{
		{name: "outage: OK", cfg: &ConnectTimeout{}, sc: fscen(1, reconnectOn(60e9)), h: s.hist(), verdict: OK,
			detail: []string{fmt.Sprintf("client 0 outage 0 on s1 attempt 2: lasted 0.563s"), "3 attempt(s) under a blackhole"}},
	})
}

// The client's close ends its last attempt; an attempt followed by one on
// another server is not ended by the walk's later close.
func TestConnectTimeoutClientClose(t *testing.T) {
	one := func() history.History {
		s := newF()
		s.fault(0, "s1", "blackhole")
		s.op(0, 10)
		s.linked(12, "s1").held(12.3, "s1")
		return s.closed(0, 312, cg, "s1", "s1").hist()
	}
	two := func() history.History {
		s := newF()
		s.fault(0, "s1", "blackhole").fault(0, "s2", "reset")
		s.op(0, 10)
		s.linked(12, "s1").held(12.3, "s1")
		s.fail(313, "s2")
		return s.closed(0, 900, cg, "s2", "s1,s2").hist()
	}
	runCases(t, []tcase{
		{name: "one server: ended by the client's close, OK", cfg: &ConnectTimeout{}, sc: fscen(1), h: one(), verdict: OK,
			detail: []string{"attempt 0: lasted 0.300s (link accept of s1#1 at 12.0ms → the client's close (client-reported) at 312.0ms)"}},
		{name: "cascade: s1's attempt not ended by the walk's close, UNKNOWN", cfg: &ConnectTimeout{}, sc: fscen(2, cascading), h: two(), verdict: Unknown,
			detail: []string{"1 attempt(s) under a blackhole, 0 of them with an end seen before the heal"}},
	})
}
