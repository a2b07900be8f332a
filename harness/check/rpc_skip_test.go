package check

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// skipCase varies rrStory's outage of s2 (cut at 1000ms, healed at 1800ms).
type skipCase struct {
	lb      string
	params  []any   // the contract's back-off params (nil: none)
	upAt    float64 // s2's connection up again (0: never)
	during  []string
	after   []string // the rotation once s2 is up again
	hole    bool     // send at 1200ms reaches no server
	refused bool     // send at 1400ms refused
}

func skipStory(k skipCase) history.History {
	s := newRPC()
	s.lb(6, k.lb, k.params...)
	s.upAll(1, "s1", "s2", "s3", "s4")
	s.rotate(100, 20, 45, "s3", "s4", "s1", "s2")
	s.cut(1000, "s2")
	s.attempt(1002, "s2").attempt(1104, "s2").attempt(1306, "s2").attempt(1708, "s2")
	during := k.during
	if during == nil {
		during = []string{"s4", "s1", "s3"}
	}
	for t := 1000.0; t < 1800; t += 20 {
		switch {
		case k.hole && t == 1200:
			s.send(t, "")
		case k.refused && t == 1400:
			s.send(t, "!")
		default:
			s.send(t, during[int(t/20)%len(during)])
		}
	}
	s.heal(1800, "s2")
	end := 3000.0
	if k.upAt == 0 {
		s.rotate(1800, 20, int((end-1800)/20), "s1", "s3", "s4")
		return s.end(end + 100).hist()
	}
	s.rotate(1800, 20, int((k.upAt-1800)/20), "s1", "s3", "s4")
	s.up(k.upAt, "s2")
	after := k.after
	if after == nil {
		after = []string{"s2", "s1", "s3", "s4"}
	}
	from := k.upAt + 10
	s.rotate(from, 20, int((end-from)/20), after...)
	return s.end(end + 100).hist()
}

func TestRPCSkip(t *testing.T) {
	sc := chScen(4, 4)
	rr := "round_robin"
	runCases(t, []tcase{
		{name: "skipped while cut, back when its back-off allowed: OK", cfg: &RPCSkip{}, sc: sc, h: skipStory(skipCase{lb: rr, params: grpcBackoff, upAt: 2510}), verdict: OK,
			detail: []string{"skipped the lost backend(s)", "s2 up again 710.5ms after the heal, send n="}},
		{name: "a send lost to the cut backend: FAILED", cfg: &RPCSkip{}, sc: sc, h: skipStory(skipCase{lb: rr, params: grpcBackoff, upAt: 2510, hole: true}), verdict: Failed,
			detail: []string{"taken at 1200.2ms during the cut on s2 at 1000.0ms", "reached no server", "the driver reported: grpc-go Send n="}},
		{name: "a send refused with three backends READY: FAILED", cfg: &RPCSkip{}, sc: sc, h: skipStory(skipCase{lb: rr, params: grpcBackoff, upAt: 2510, refused: true}), verdict: Failed,
			detail: []string{"a send was refused at 1400.2ms during the cut on s2", "UNAVAILABLE"}},
		{name: "the others did not keep serving: FAILED", cfg: &RPCSkip{}, sc: sc, h: skipStory(skipCase{lb: rr, params: grpcBackoff, upAt: 2510, during: []string{"s4", "s1"}}), verdict: Failed,
			detail: []string{"s3 served the client all along but received none of the"}},
		{name: "back later than its back-off allowed: FAILED", cfg: &RPCSkip{}, sc: sc, h: skipStory(skipCase{lb: rr, params: grpcBackoff, upAt: 2700}), verdict: Failed,
			detail: []string{"s2 reconnected at 2700.5ms, 900.5ms after the heal: its back-off allowed at most 759.0ms (4 attempt(s) in the outage, the last ended at 1709.0ms; the wait before attempt 4 ≤ 800.0ms"}},
		{name: "up again but left out of the rotation: FAILED", cfg: &RPCSkip{}, sc: sc, h: skipStory(skipCase{lb: rr, params: grpcBackoff, upAt: 2510, after: []string{"s1", "s3", "s4"}}), verdict: Failed,
			detail: []string{"s2 was up again at 2510.5ms but no send landed on it afterwards"}},
		{name: "never reconnected: FAILED", cfg: &RPCSkip{}, sc: sc, h: skipStory(skipCase{lb: rr, params: grpcBackoff}), verdict: Failed,
			detail: []string{"s2 never had a connection of the client up again after the heal"}},
		{name: "the scenario's strategy when the contract has none: OK", cfg: &RPCSkip{}, sc: chScen(4, 4, func(sc *scenario.Scenario) {
			sc.Client.Reconnect.Strategy = scenario.Strategy{Backoff: "exponential", Initial: 100 * time.Millisecond, Multiplier: 2, Max: 2 * time.Second}
		}), h: skipStory(skipCase{lb: rr, upAt: 2510}), verdict: OK},
		{name: "no back-off known: INFORMATIONAL", cfg: &RPCSkip{}, sc: sc, h: skipStory(skipCase{lb: rr, upAt: 2510}), verdict: Informational,
			detail: []string{"the rejoin is not judged: no back-off known"}},
		{name: "pick_first by its contract: INFORMATIONAL", cfg: &RPCSkip{}, sc: sc, h: skipStory(skipCase{lb: "pick_first", params: grpcBackoff, upAt: 2510, hole: true}), verdict: Informational,
			detail: []string{"reached no server", "not judged: the client's effective contract names params.lb_policy: pick_first"}},
		{name: "a reset: the send that meets it is lost, later ones skip: OK", cfg: &RPCSkip{}, sc: sc, h: func() history.History {
			s := newRPC()
			s.lb(6, rr, grpcBackoff...).upAll(1, "s1", "s2", "s3", "s4")
			s.rotate(100, 20, 45, "s3", "s4", "s1", "s2")
			s.add(ev(1000, "fault.on", "link=s2", "verb=reset", "id=r"))
			s.rotate(1000, 20, 10, "s3", "s4", "s1") // s2 idle: untouched
			s.send(1200, "")                         // picked for s2: meets the reset
			s.closeConn(1200.6, "s2")
			s.rotate(1260, 20, 20, "s1", "s3", "s4")
			return s.end(1800).hist()
		}(), verdict: OK, detail: []string{"skipped the lost backend(s)", "reset on s2 at 1000.0ms never healed: no rejoin to judge"}},
		{name: "no loss fault: UNKNOWN", cfg: &RPCSkip{}, sc: sc, h: func() history.History {
			s := newRPC()
			s.lb(6, rr, grpcBackoff...).upAll(1, "s1", "s2", "s3", "s4")
			return s.rotate(100, 20, 40, "s1", "s2", "s3", "s4").end(1000).hist()
		}(), verdict: Unknown, detail: []string{"no loss fault on the link of a backend serving the client"}},
	})
}
