package check

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// grpcBackoff are the back-off params of a grpc-go round_robin contract:
// 100ms × 2, no jitter, the first wait exact.
var grpcBackoff = []any{"initial_ms", 100, "multiplier", 2, "max_ms", 120000, "jitter", 0, "first_wait_exact", true}

// rrStory: four backends up at 1ms under contract policy lb; sends every
// 20ms from 100ms, rotating s3 s4 s1 s2; s2's link cut at 1000ms, with
// attempts at once and after waits of 100, 200, 400ms, healed at 1800ms;
// its next attempt (800ms after the last one ended) succeeds at upAt;
// meanwhile the sends rotate over s3 s4 s1 from a new start after each
// change; from upAt the rotation takes s2 again. The sends go on to 3000ms.
func rrStory(lb string, upAt float64) *rpcStory {
	s := newRPC()
	s.lb(6, lb, grpcBackoff...)
	s.upAll(1, "s1", "s2", "s3", "s4")
	s.rotate(100, 20, 45, "s3", "s4", "s1", "s2") // to 980
	s.cut(1000, "s2")
	s.attempt(1002, "s2").attempt(1104, "s2").attempt(1306, "s2").attempt(1708, "s2")
	s.rotate(1000, 20, 5, "s4", "s1", "s3")  // to 1080: a new picker, a new start
	s.rotate(1100, 20, 10, "s3", "s4", "s1") // to 1280 (a change at 1104)
	s.rotate(1300, 20, 20, "s1", "s3", "s4") // to 1680
	s.rotate(1700, 20, 5, "s4", "s1", "s3")  // to 1780
	s.heal(1800, "s2")
	s.rotate(1800, 20, int((upAt-1800)/20), "s1", "s3", "s4")
	s.up(upAt, "s2")
	from := upAt + 10
	s.rotate(from, 20, int((3000-from)/20), "s2", "s1", "s3", "s4")
	return s.end(3100)
}

func TestRPCRotation(t *testing.T) {
	sc := chScen(4, 4)
	runCases(t, []tcase{
		{name: "a rotation over four, a cut, a heal: OK", cfg: &RPCRotation{}, sc: sc, h: rrStory("round_robin", 2510).hist(), verdict: OK,
			detail: []string{"settled sends over", "each once per round (the client's effective contract names params.lb_policy: round_robin)"}},
		{name: "every send to one backend (pick_first): FAILED", cfg: &RPCRotation{}, sc: sc, h: func() history.History {
			s := newRPC()
			s.lb(6, "round_robin").upAll(1, "s1", "s2", "s3", "s4")
			return s.rotate(100, 20, 40, "s1").end(1000).hist()
		}(), verdict: Failed, detail: []string{"send n=2 landed on s1 at 120.5ms, 1 send(s) after n=1 landed there, while 4 backend(s) served the client ([s1 s2 s3 s4]): a rotation gives each once in 4"}},
		{name: "a READY backend skipped: FAILED", cfg: &RPCRotation{}, sc: sc, h: func() history.History {
			s := newRPC()
			s.lb(6, "round_robin").upAll(1, "s1", "s2", "s3", "s4")
			return s.rotate(100, 20, 40, "s1", "s2", "s3").end(1000).hist()
		}(), verdict: Failed, detail: []string{"send n=4 landed on s1", "3 send(s) after n=1 landed there, while 4 backend(s) served the client"}},
		{name: "random picks: FAILED", cfg: &RPCRotation{}, sc: sc, h: func() history.History {
			s := newRPC()
			s.lb(6, "round_robin").upAll(1, "s1", "s2", "s3", "s4")
			for i, b := range []string{"s2", "s4", "s1", "s3", "s3", "s1", "s2", "s4", "s4", "s2", "s1", "s3"} {
				s.send(100+20*float64(i), b)
			}
			return s.end(1000).hist()
		}(), verdict: Failed, detail: []string{"send n=5 landed on s3"}},
		{name: "the order changed with no change recorded: FAILED", cfg: &RPCRotation{}, sc: sc, h: func() history.History {
			s := newRPC()
			s.lb(6, "round_robin").upAll(1, "s1", "s2", "s3", "s4")
			s.rotate(100, 20, 10, "s1", "s2", "s3", "s4")
			return s.rotate(300, 20, 10, "s2", "s3", "s4", "s1").end(1000).hist() // n=10 went to s2 already
		}(), verdict: Failed, detail: []string{"send n=11 landed on s2 at 300.5ms, 1 send(s) after n=10 landed there"}},
		{name: "a new start after the driver's Hello (a pick of its own): OK", cfg: &RPCRotation{}, sc: sc, h: func() history.History {
			s := newRPC()
			s.lb(6, "round_robin").upAll(1, "s1", "s2", "s3", "s4")
			s.rotate(100, 20, 10, "s1", "s2", "s3", "s4")
			s.rpc(290, "s3", "Hello")
			return s.rotate(300, 20, 10, "s4", "s1", "s2", "s3").end(1000).hist()
		}(), verdict: OK},
		{name: "holes are wildcards: OK", cfg: &RPCRotation{}, sc: sc, h: func() history.History {
			s := newRPC()
			s.lb(6, "round_robin").upAll(1, "s1", "s2", "s3", "s4")
			return s.rotate(100, 20, 24, "s1", "", "s3", "s4").end(1000).hist()
		}(), verdict: OK, detail: []string{"18 settled sends"}},
		{name: "pick_first by its contract: INFORMATIONAL", cfg: &RPCRotation{}, sc: sc, h: func() history.History {
			s := newRPC()
			s.lb(6, "pick_first").upAll(1, "s1", "s2", "s3", "s4")
			return s.rotate(100, 20, 40, "s1").end(1000).hist()
		}(), verdict: Informational, detail: []string{"the rotation broke 39 time(s)", "not judged: the client's effective contract names params.lb_policy: pick_first, so it does not promise a rotation"}},
		{name: "a contract silent on its policy: INFORMATIONAL", cfg: &RPCRotation{}, sc: sc, h: rrStory("", 2510).hist(), verdict: Informational,
			detail: []string{"rotated over the backends serving the client", "does not name its load-balancing policy"}},
		{name: "too few sends: UNKNOWN", cfg: &RPCRotation{}, sc: sc, h: func() history.History {
			s := newRPC()
			s.lb(6, "round_robin").upAll(1, "s1", "s2", "s3", "s4")
			return s.rotate(100, 20, 5, "s1", "s2", "s3", "s4").end(1000).hist()
		}(), verdict: Unknown, detail: []string{"5 settled send(s) landed, want at least 8"}},
		{name: "two clients: FAILED (bad scenario)", cfg: &RPCRotation{}, sc: chScen(4, 4, clients(2)), h: rrStory("round_robin", 2510).hist(), verdict: Failed,
			detail: []string{"needs clients: 1"}},
		{name: "a wider settle leaves out more", cfg: &RPCRotation{Settle: Ptr(200 * time.Millisecond), MinRPCs: Ptr(200)}, sc: sc, h: rrStory("round_robin", 2510).hist(), verdict: Unknown,
			detail: []string{"want at least 200"}},
	})
}
