package check

import (
	"fmt"
	"time"
)

func init() {
	Register(Spec{Name: "rpc_rotation", Judges: []string{"T1"}, New: func() Checker { return &RPCRotation{} }})
}

// RPCRotation judges T1 for a client channel that balances its own RPCs
// over several backends (gRPC round_robin), from the servers' evidence of
// where each send landed: consecutive sends rotate over the backends the
// channel has a connection to, each backend once per round.
//
// What the libraries do. grpc-go v1.85.0 balancer/roundrobin/roundrobin.go
// Build(): round_robin is endpointsharding with a pick_first child per
// backend; balancer/endpointsharding/endpointsharding.go updateStateLocked()
// builds a new picker at every change of any child's state (and at every
// resolver update), over the READY children only, starting at a random one
// (next: randIntN(len(pickers))), and Pick() takes pickers[next+1 mod n]
// (an atomic counter): between two changes the READY backends come round
// in a fixed cyclic order, each once per round; at a change the order
// (EndpointMap.All(): a Go map's) and the start are drawn again. The C core
// (grpc 1.51, src/core/ext/filters/client_channel/lb_policy/round_robin/
// round_robin.cc): RoundRobinSubchannelList::
// MaybeUpdateRoundRobinConnectivityStateLocked() makes a new Picker at
// every subchannel change while any is READY; Picker::Picker() keeps the
// READY subchannels in address order and starts at rand() % size;
// Picker::Pick() takes (last_picked_index_ + 1) % size.
//
// The rule, precisely. The sends are taken in the order the driver
// numbered them (the number each payload carries, the server's receive
// Seq); a send whose number no server received is a hole (a wildcard). A
// send is settled when nothing that may change the picker was recorded
// within settle of it (from its op to its landing): a connection to a
// backend accepted, up or closed, a link accept or fault, an RPC that is
// not a send (the driver's Hello, a Subscribe: each takes a pick), a
// resolver update; under a down or blackhole fault the library's changes
// leave no record, so no send then is settled. The settled sends between
// two such records form a segment, picked by one picker: with k backends
// serving the client through the segment (a connection up, by the server's
// handshake, and not closed), two sends of the segment numbered less than
// k apart must land on different backends. Over k or more sends in a row
// that is a strict rotation over all k: a backend skipped, a backend
// picked twice in a round, or a pick_first channel fails it. The random
// start and order at each change are free: segments are judged apart.
//
// Judged strictly when the client's effective contract names
// params.lb_policy round_robin; any other policy, or none named, is
// INFORMATIONAL with what was seen (the library does not promise a
// rotation). UNKNOWN with fewer than min_rpcs settled landings.
type RPCRotation struct {
	// Settle is how far apart a recorded change and the picker's may be
	// (default 50ms, plus the run's evidence lag).
	Settle *time.Duration `yaml:"settle"`
	// MinRPCs is how many settled sends must have landed for a verdict
	// (default 8).
	MinRPCs *int `yaml:"min_rpcs"`
}

// Validate checks the parameters.
func (c *RPCRotation) Validate() error {
	if or(c.MinRPCs, 0) < 0 {
		return fmt.Errorf("min_rpcs must not be negative")
	}
	return nonNegative("settle", or(c.Settle, 0))
}

// NeedsOneClient implements OneClient: the servers' accepts and receives
// are attributed to the one client.
func (c *RPCRotation) NeedsOneClient() string { return oneClientWhy }

// Check implements Checker.
func (c *RPCRotation) Check(in Input) Result { return onRPCView(in, c, c.Settle, c.check) }

func (c *RPCRotation) check(rv *rpcView) Result {
	var j judge
	segs, unsettled := rv.segments()
	judged, holes, segsJudged := 0, 0, 0
	shares := map[string]int{}
	kLo, kHi := -1, 0 // backends serving over the judged segments
	var broken []string
	var brokeAt time.Duration
	for _, seg := range segs {
		k := len(rv.serving(seg[0].from()))
		last := map[string]int64{}
		landed := 0
		for _, s := range seg {
			if s.Land == nil {
				holes++
				continue
			}
			landed++
			b := s.Land.Server
			shares[b]++
			if p, ok := last[b]; ok && s.N-p < int64(k) {
				if len(broken) == 0 {
					brokeAt = s.Land.T
				}
				broken = append(broken, fmt.Sprintf("send n=%d landed on %s at %s, %d send(s) after n=%d landed there, while %d backend(s) served the client (%s): a rotation gives each once in %d",
					s.N, b, dur(s.Land.T), s.N-p, p, k, nameSet(rv.serving(s.from())), k))
			}
			last[b] = s.N
		}
		judged += landed
		if landed > 1 {
			segsJudged++
			if kLo < 0 || k < kLo {
				kLo = k
			}
			kHi = max(kHi, k)
		}
	}
	j.count("sends judged", judged, "server receives of settled sends (Seq = the driver's send number), in segments with no recorded change of the channel's backends")
	j.count("segments", segsJudged, fmt.Sprintf("runs of settled sends with no change recorded between them (settle %s)", dur(rv.settle)))
	j.count("sends not judged (within settle of a change, or under down/blackhole)", unsettled, "send ops, replies and receives against the servers', links' and harness's records")
	j.count("holes (sends no server received)", holes, "ok send replies without a server receive")
	j.count("rotation breaks", len(broken), "server receives: two sends of one segment fewer than k apart on one backend")
	for _, name := range sortedKeys(shares) {
		j.count("share "+name, shares[name], "server receives of judged sends on "+name)
	}
	minRPCs := or(c.MinRPCs, 8)
	lb := rv.lbPolicy()
	if judged < max(minRPCs, 1) {
		return j.inconclusive(rv.end, "nothing to judge: %d settled send(s) landed, want at least %d (%d not judged: within %s of a change of the channel's backends, or under down/blackhole)",
			judged, max(minRPCs, 1), unsettled, dur(rv.settle))
	}
	ks := fmt.Sprint(kHi)
	if kLo != kHi {
		ks = fmt.Sprintf("%d to %d", kLo, kHi)
	}
	seen := fmt.Sprintf("%d settled sends over %d segment(s) rotated over the backends serving the client (%s)", judged, segsJudged, ks)
	if len(broken) > 0 {
		seen = fmt.Sprintf("the rotation broke %d time(s): %s", len(broken), list(broken))
	}
	if lb != lbRoundRobin {
		return j.informational(rv.end, fmt.Sprintf("%s; not judged: %s, so it does not promise a rotation", seen, rv.lbSays()))
	}
	for _, b := range broken {
		j.fail(brokeAt, "%s", b)
	}
	return j.result(rv.end, "%s, each once per round (%s)", seen, rv.lbSays())
}
