package check

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// Judging at scale: the checks of scenarios/scale/thousand.yaml over a
// synthetic history of n clients shaped like that run's. Judging must stay
// about linear in the history: ns/op at 4n about 4× that at n, not 16×.
//
//	go test -run '^$' -bench Scale -benchtime 3x ./harness/check/

// scaleStory: n clients on s1 of s1..s4; s1 is cut at 8s and healed at
// 11s, every client losing its session and resuming it after two failed
// attempts; s1 is cut for good at 17s and every client, after its
// reconnection timeout (8s) of failed attempts, fails over to a new
// session on one of s2..s4 (seeded). Each attempt has its link accept and
// the client's dial error, as a real run records them.
func scaleStory(n int, seed int64) history.History {
	r := rand.New(rand.NewSource(seed))
	s := newF()
	cl := func(c int) string { return fmt.Sprintf("client=%d", c) }
	attempt := func(c int, ms float64, srv string) {
		s.linked(ms-0.2, srv)
		s.fail(ms, srv)
		s.add(ev(ms+1.1, history.KindError, cl(c), "reason=dial: connection reset by peer"))
	}
	sess := make([]string, n)
	for c := range n {
		t := 5 + float64(c)*0.05
		s.linked(t+0.1, "s1")
		sess[c] = s.connect(c, t, "s1")
		s.add(ev(t+2.5, history.KindReply, cl(c), "op=connect", "ok=true", "id=1"))
	}
	s.fault(8000, "s1", "cut")
	for c := range n {
		t := 8001 + float64(c)*0.05
		s.add(
			ev(t, "session.disconnect", "server=s1", "session="+sess[c], "reason=transport"),
			ev(t+0.5, history.KindError, cl(c), "reason=read: EOF"),
			cst(t+0.6, c, cA, rR, "s1", sess[c]),
		)
		attempt(c, t+300, "s1")
		attempt(c, t+600, "s1")
	}
	s.heal(11000, "s1", "cut")
	for c := range n {
		t := 11100 + float64(c)*0.05
		cn := s.conn("s1")
		s.linked(t-0.2, "s1")
		s.add(
			ev(t, "accept", "server=s1", "conn="+cn),
			ev(t+0.5, "handshake", "server=s1", "conn="+cn, "ok=true", "session="+sess[c], "resume=true"),
			ev(t+1, "session.resume", "server=s1", "conn="+cn, "session="+sess[c]),
			cst(t+2, c, rR, cA, "s1", sess[c]),
		)
	}
	s.fault(17000, "s1", "cut")
	cands := []string{"s2", "s3", "s4"}
	for c := range n {
		t := 17001 + float64(c)*0.05
		s.add(
			ev(t, "session.disconnect", "server=s1", "session="+sess[c], "reason=transport"),
			ev(t+0.5, history.KindError, cl(c), "reason=read: EOF"),
			cst(t+0.6, c, cA, rR, "s1", sess[c]),
		)
		for a := 1; a <= 20; a++ {
			attempt(c, t+float64(a)*350, "s1")
		}
		s.add(cst(t+8000, c, rR, cg, "s1", sess[c], "reason=reconnect_timeout"))
		srv := cands[r.Intn(len(cands))]
		s.linked(t+8100-0.2, srv)
		s.land(c, t+8100, srv, cg)
	}
	return s.hist()
}

// scaleScen is scenarios/scale/thousand.yaml with n clients.
func scaleScen(n int) *scenario.Scenario {
	sc := fscen(4, auto, lb, clients(n), reconnectOn(8*time.Second))
	sc.Name = "scale"
	sc.Client.Reconnect.Strategy = scenario.Strategy{Backoff: "fixed", Initial: 250 * time.Millisecond}
	sc.Client.ConnectTimeout = 10 * time.Second
	sc.Duration = 33 * time.Second
	sc.Steps = []scenario.Step{
		{At: 0, Client: &scenario.ClientStep{Op: driver.OpConnect}},
		{At: 8 * time.Second, Link: "s1", Fault: "cut", For: 3 * time.Second},
		{At: 17 * time.Second, Link: "s1", Fault: "cut"},
	}
	return sc
}

// scaleCheckers are the scenario's expects, as its YAML sets them but for
// hot_spot's margin, widened so that 250 samples can pass it.
func scaleCheckers(n int) []Checker {
	within := func(d time.Duration) *time.Duration { return &d }
	margin, falseFail := 0.6, 1e-5
	return []Checker{
		&LossDetected{Within: within(time.Second)},
		&SessionPreserved{},
		&ReconnectWindow{Within: within(4 * time.Second)},
		&FailoverSequence{MinFailovers: &n},
		&ShuffleUniform{Alpha: 9e-5, MinSamples: n},
		&HotSpot{Margin: &margin, MaxFalseFail: &falseFail},
		&Lifecycle{},
	}
}

// judgeScale judges h as the runner does: every checker, the accounting
// and the timeline. It returns the verdicts, for the test to read.
func judgeScale(h history.History, sc *scenario.Scenario, cs []Checker) []Result {
	var out []Result
	for _, c := range cs {
		out = append(out, c.Check(Input{History: h, Scenario: sc}))
	}
	if r, ok := Account(h, sc); ok {
		out = append(out, r)
	}
	if r, ok := Timeline(h, sc); ok {
		out = append(out, r)
	}
	return out
}

// The synthetic history is one every checker passes: a benchmark of
// checkers that bail out early would measure nothing.
func TestScaleStoryJudgedOK(t *testing.T) {
	const n = 250
	for i, r := range judgeScale(scaleStory(n, 1), scaleScen(n), scaleCheckers(n)) {
		if r.Verdict != OK {
			t.Errorf("result %d: %s: %s", i, r.Verdict, r.Detail)
		}
	}
}

func BenchmarkScale(b *testing.B) {
	for _, n := range []int{250, 1000, 4000} {
		h, sc, cs := scaleStory(n, 1), scaleScen(n), scaleCheckers(n)
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			for b.Loop() {
				judgeScale(h, sc, cs)
			}
			// After the loop: b.Loop's first call drops metrics reported before it.
			b.ReportMetric(float64(len(h)), "events")
		})
	}
}

// A connect burst the servers refused, n clients at once, with no step
// asking for it: every client is unaccounted for and Account looks for an
// explanation of each. Its cost must stay about linear in n too (it was a
// scan of the history per refusal per client: cubic, minutes at 10,000).
//
//	go test -run '^$' -bench AccountRefusedBurst -benchtime 3x ./harness/check/
func BenchmarkAccountRefusedBurst(b *testing.B) {
	for _, n := range []int{250, 1000, 4000} {
		var parts [][]history.Event
		for c := range n {
			ms := float64(c) * 0.05
			conn := fmt.Sprintf("s1#%d", c+1)
			parts = append(parts, refusedConnect(c, ms, "connection refused: not authorised"), []history.Event{
				ev(ms+10.5, "accept", "server=s1", "conn="+conn),
				ev(ms+11, "handshake", "server=s1", "conn="+conn, "ok=false", "reason=not_authorized")})
		}
		h, sc := hist(parts...), acctScen(n)
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			for b.Loop() {
				if r, found := Account(h, sc); !found || r.Verdict != Failed {
					b.Fatalf("a refused burst accounted for: %v %s", found, r.Verdict)
				}
			}
			b.ReportMetric(float64(len(h)), "events")
		})
	}
}
