package check

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// discCase varies discStory: s1..s3 given at connect, s4 added at 1000ms,
// s1 removed at 2000ms, sends every 20ms from 100ms to 3000ms.
type discCase struct {
	lb        string
	refuse    string  // the driver refuses both ops with this reason
	s4Up      float64 // s4's connection up (0: never)
	joined    []string
	leftLate  bool // a send at 2200ms still lands on s1
	holeAfter bool // a send at 2400ms reaches no server
}

func discStory(k discCase) history.History {
	s := newRPC()
	s.lb(6, k.lb, grpcBackoff...)
	s.upAll(1, "s1", "s2", "s3")
	s.rotate(100, 20, 45, "s2", "s3", "s1") // to 980
	s.discovery(1000, "add", "s4", k.refuse)
	if k.refuse != "" {
		s.rotate(1000, 20, 100, "s3", "s1", "s2")
		s.discovery(2000, "remove", "s1", k.refuse)
		return s.end(3100).hist()
	}
	joined := k.joined
	if joined == nil {
		joined = []string{"s4", "s1", "s2", "s3"}
	}
	if k.s4Up > 0 {
		s.up(k.s4Up, "s4")
	}
	s.send(1000, "s2")                // picked before the update took effect
	s.rotate(1020, 20, 49, joined...) // to 1980
	s.discovery(2000, "remove", "s1", "")
	s.closeConn(2001, "s1")
	var rest []string
	for _, b := range joined {
		if b != "s1" {
			rest = append(rest, b)
		}
	}
	for i, t := 0, 2000.0; t < 3000; i, t = i+1, t+20 {
		switch {
		case k.leftLate && t == 2200:
			s.send(t, "s1")
		case k.holeAfter && t == 2400:
			s.send(t, "")
		default:
			s.send(t, rest[i%len(rest)])
		}
	}
	return s.end(3100).hist()
}

func TestRPCDiscovery(t *testing.T) {
	sc := chScen(4, 3)
	rr := "round_robin"
	runCases(t, []tcase{
		{name: "added joins, removed leaves: OK", cfg: &RPCDiscovery{}, sc: sc, h: discStory(discCase{lb: rr, s4Up: 1002}), verdict: OK,
			detail: []string{"s4 joined: send n=47 on it 20.0ms after the add", "s1 left: no send on it after the remove, its connection s1#1 closed 0.5ms after the reply"}},
		{name: "a removed backend still used: FAILED", cfg: &RPCDiscovery{}, sc: sc, h: discStory(discCase{lb: rr, s4Up: 1002, leftLate: true}), verdict: Failed,
			detail: []string{"s1 was removed at 2000.5ms, but 1 send(s) taken after it (past settle 50.0ms) still landed on it: n=106 at 2200.5ms"}},
		{name: "an added backend never used: FAILED", cfg: &RPCDiscovery{}, sc: sc, h: discStory(discCase{lb: rr, s4Up: 1002, joined: []string{"s1", "s2", "s3"}}), verdict: Failed,
			detail: []string{"s4 was added at 1000.5ms and connected at 1002.5ms, but no send landed on it"}},
		{name: "an added backend never connected: FAILED", cfg: &RPCDiscovery{}, sc: sc, h: discStory(discCase{lb: rr, joined: []string{"s1", "s2", "s3"}}), verdict: Failed,
			detail: []string{"s4 was added at 1000.5ms but the client never connected to it"}},
		{name: "an added backend used late: FAILED", cfg: &RPCDiscovery{Within: Ptr(10 * time.Millisecond)}, sc: sc, h: discStory(discCase{lb: rr, s4Up: 1002}), verdict: Failed,
			detail: []string{"the first send landed on it only at 1020.5ms (n=47), 20.0ms after the add: want within 10.0ms (the check's within)"}},
		{name: "a send lost after the update: FAILED", cfg: &RPCDiscovery{}, sc: sc, h: discStory(discCase{lb: rr, s4Up: 1002, holeAfter: true}), verdict: Failed,
			detail: []string{"taken at 2400.2ms after discovery.remove s1, reached no server; the driver reported: grpc-go Send n="}},
		{name: "the driver cannot update its target: UNIMPLEMENTED", cfg: &RPCDiscovery{}, sc: sc, h: discStory(discCase{lb: rr, refuse: "grpcio-python: the channel's target is a static ipv4: list"}), verdict: Unimplemented,
			detail: []string{"the driver refused run-time discovery: discovery.add s4 at 1000.0ms: grpcio-python: the channel's target is a static ipv4: list"}},
		{name: "pick_first: the join is not judged, the leave is: OK", cfg: &RPCDiscovery{}, sc: sc, h: discStory(discCase{lb: "pick_first", s4Up: 1002, joined: []string{"s2"}}), verdict: OK,
			detail: []string{"s1 left", "discovery.add s4: no send landed on it; its join is not judged"}},
		{name: "no discovery op: UNKNOWN", cfg: &RPCDiscovery{}, sc: sc, h: func() history.History {
			s := newRPC()
			s.lb(6, rr).upAll(1, "s1", "s2", "s3")
			return s.rotate(100, 20, 40, "s1", "s2", "s3").end(1000).hist()
		}(), verdict: Unknown, detail: []string{"no discovery.add or discovery.remove op"}},
	})
}
