package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "rpc_discovery", Judges: []string{"T6"}, New: func() Checker { return &RPCDiscovery{} }})
}

// RPCDiscovery judges T6 for a client channel that balances its own RPCs
// over several backends (gRPC round_robin) and is told of backends added
// or removed at run time: the harness's discovery.add / discovery.remove
// ops, which a driver serves through the library's own resolver API
// (grpc-go: resolver/manual Resolver.UpdateState(), the channel's
// ccResolverWrapper.UpdateState() -> balancer UpdateClientConnState()).
//
//   - joins: after an add (from its ok reply), the backend gets a
//     connection of the client and a send lands on it within `within`
//     (default: settle for the connection, settle for the picker and one
//     round of the backends then serving at the send pace): grpc-go
//     endpointsharding UpdateClientConnState() makes a child for the new
//     endpoint, which connects at once (pick_first's first update), and the
//     next picker rotates over it once READY. Whether it then takes its
//     turns is T1's (rpc_rotation).
//   - leaves: after a remove (from its ok reply, plus settle: a send
//     picked before the update may still land), no send lands on the
//     backend (endpointsharding closes the child: its subchannel and
//     connection are shut down). The connection's close is measured.
//   - nothing lost: every send taken after the update, past settle,
//     lands somewhere.
//
// A discovery op the driver refused (a library with a static target has no
// run-time update: grpcio's ipv4: target) makes the result UNIMPLEMENTED,
// with the driver's reason, unless a judged op failed. A join under a
// contract naming a policy other than round_robin (params.lb_policy:
// pick_first sticks to one backend) is reported, not judged; a leave is
// judged under any policy (no policy may use a backend it was told is
// gone).
type RPCDiscovery struct {
	// Settle is how far apart a recorded change and the picker's may be
	// (default 50ms, plus the run's evidence lag).
	Settle *time.Duration `yaml:"settle"`
	// Within bounds an added backend's first send from the add's reply
	// (default: two settles and one round at the send pace).
	Within *time.Duration `yaml:"within"`
}

// Validate checks the parameters.
func (c *RPCDiscovery) Validate() error {
	if c.Within != nil && *c.Within <= 0 {
		return fmt.Errorf("within must be positive (got %s)", *c.Within)
	}
	return nonNegative("settle", or(c.Settle, 0))
}

// NeedsOneClient implements OneClient.
func (c *RPCDiscovery) NeedsOneClient() string { return oneClientWhy }

// ValidateFor implements scenario.ScenarioValidator: check has nothing to
// judge without a discovery.add or discovery.remove op, which only a
// discovery step sends.
func (c *RPCDiscovery) ValidateFor(sc *scenario.Scenario) error { return needDiscovery(sc) }

// Check implements Checker.
func (c *RPCDiscovery) Check(in Input) Result { return onRPCView(in, c, c.Settle, c.check) }

// discoveryOp is one discovery op and its reply.
type discoveryOp struct {
	Op     history.Event
	Reply  *history.Event
	Add    bool
	Server string
}

func (c *RPCDiscovery) ops(rv *rpcView) []discoveryOp {
	var out []discoveryOp
	idx := map[string]int{}
	for _, e := range rv.h {
		if e.Op != driver.OpDiscoveryAdd && e.Op != driver.OpDiscoveryRemove {
			continue
		}
		switch e.Kind {
		case history.KindOp:
			idx[e.Attr("id")] = len(out)
			out = append(out, discoveryOp{Op: e, Add: e.Op == driver.OpDiscoveryAdd, Server: e.Server})
		case history.KindReply:
			if i, ok := idx[e.Attr("id")]; ok && out[i].Reply == nil {
				r := e
				out[i].Reply = &r
			}
		}
	}
	return out
}

func (c *RPCDiscovery) check(rv *rpcView) Result {
	var j judge
	ops := c.ops(rv)
	if len(ops) == 0 {
		return j.inconclusive(rv.end, "nothing to judge: no discovery.add or discovery.remove op")
	}
	var refused, seen, notes []string
	judged := 0
	last := time.Duration(0)
	lb := rv.lbPolicy()
	for i, o := range ops {
		switch {
		case o.Reply == nil:
			notes = append(notes, fmt.Sprintf("%s %s at %s has no reply", o.Op.Op, o.Server, dur(o.Op.T)))
			continue
		case !o.Reply.OK:
			refused = append(refused, fmt.Sprintf("%s %s at %s: %s", o.Op.Op, o.Server, dur(o.Op.T), o.Reply.Reason))
			continue
		}
		judged++
		t := o.Reply.T
		next := rv.end
		if i+1 < len(ops) {
			next = ops[i+1].Op.T
		}
		last = max(last, t)
		// Nothing lost after the update.
		for _, s := range rv.sends {
			if s.Land == nil && s.from() > t+rv.settle && s.to() <= next {
				why := rv.errorFor(s.N)
				if why != "" {
					why = "; the driver reported: " + why
				}
				j.fail(s.at(), "send n=%d, taken at %s after %s %s, reached no server%s", s.N, dur(s.at()), o.Op.Op, o.Server, why)
			}
		}
		if o.Add {
			k := len(rv.serving(t))
			if !rv.serving(t)[o.Server] {
				k++
			}
			bound := 2*rv.settle + rv.round(k)
			from := "two settles and one round of " + fmt.Sprint(k) + " backend(s) at the send pace " + dur(rv.pace)
			if c.Within != nil {
				bound, from = *c.Within, "the check's within"
			}
			bound += rv.stalled(t, t+bound)
			up, okUp := rv.firstUp(o.Server, o.Op.T)
			land, okLand := rv.firstLanding(o.Server, t)
			if okUp {
				j.measure(fmt.Sprintf("%s %s: connected", o.Op.Op, o.Server), Ms(up.Up-t), "ms", fmt.Sprintf("server handshake on %s − the op's reply", o.Server), "")
			}
			if okLand {
				j.measure(fmt.Sprintf("%s %s: first send on it", o.Op.Op, o.Server), Ms(land.Land.T-t), "ms", fmt.Sprintf("server receive on %s − the op's reply", o.Server), "≤ "+dur(bound)+" ("+from+")")
			}
			sendsAfter := false
			for _, s := range rv.sends {
				sendsAfter = sendsAfter || (s.from() > t+bound && s.from() < next)
			}
			switch {
			case lb != lbRoundRobin:
				what := "no send landed on it"
				if okLand {
					what = fmt.Sprintf("send n=%d landed on it %s after the reply", land.N, dur(land.Land.T-t))
				}
				notes = append(notes, fmt.Sprintf("%s %s: %s; its join is not judged: %s", o.Op.Op, o.Server, what, rv.lbSays()))
			case okLand && land.Land.T <= t+bound:
				seen = append(seen, fmt.Sprintf("%s joined: send n=%d on it %s after the add", o.Server, land.N, dur(land.Land.T-t)))
			case okLand:
				j.fail(land.Land.T, "%s was added at %s but the first send landed on it only at %s (n=%d), %s after the add: want within %s (%s)", o.Server, dur(t), dur(land.Land.T), land.N, dur(land.Land.T-t), dur(bound), from)
			case !okUp && sendsAfter:
				j.fail(t+bound, "%s was added at %s but the client never connected to it, and no send landed on it", o.Server, dur(t))
			case sendsAfter:
				j.fail(t+bound, "%s was added at %s and connected at %s, but no send landed on it, although sends went on", o.Server, dur(t), dur(up.Up))
			default:
				notes = append(notes, fmt.Sprintf("no sends after %s was added at %s: its join is not seen", o.Server, dur(t)))
			}
			continue
		}
		// Leaves.
		var after []string
		var lastOn *rpcSend
		firstAfter := time.Duration(-1)
		for _, s := range rv.sends {
			if s.Land == nil || s.Land.Server != o.Server || s.from() < o.Op.T {
				continue
			}
			if s.from() > t+rv.settle {
				after = append(after, fmt.Sprintf("n=%d at %s", s.N, dur(s.Land.T)))
				if firstAfter < 0 {
					firstAfter = s.Land.T
				}
			} else {
				ss := s
				lastOn = &ss
			}
		}
		if len(after) > 0 {
			j.fail(firstAfter, "%s was removed at %s, but %d send(s) taken after it (past settle %s) still landed on it: %s", o.Server, dur(t), len(after), dur(rv.settle), list(after))
		}
		closed := "its connection was not closed by the end"
		for _, cn := range rv.conns {
			if cn.Server == o.Server && cn.Down >= o.Op.T && (cn.Accept < o.Op.T) {
				closed = fmt.Sprintf("its connection %s closed %s after the reply", cn.Conn, dur(cn.Down-t))
				if cn.Down < t {
					closed = fmt.Sprintf("its connection %s closed as the update was answered (%s before the reply)", cn.Conn, dur(t-cn.Down))
				}
				j.measure(fmt.Sprintf("%s %s: connection closed", o.Op.Op, o.Server), Ms(cn.Down-t), "ms", fmt.Sprintf("server conn.close on %s − the op's reply", o.Server), "")
				break
			}
		}
		if lastOn != nil {
			closed += fmt.Sprintf("; the last send on it (n=%d) was taken before the update settled", lastOn.N)
		}
		if len(after) == 0 {
			seen = append(seen, fmt.Sprintf("%s left: no send on it after the remove, %s", o.Server, closed))
		}
	}
	j.count("discovery ops judged", judged, "harness discovery ops with an ok reply")
	for _, n := range notes {
		j.note("%s", n)
	}
	if len(refused) > 0 && !j.failed() {
		r := j.result(rv.end, "")
		r.Verdict = Unimplemented
		r.Detail = "the driver refused run-time discovery: " + list(refused)
		if len(seen) > 0 {
			r.Detail += "; " + list(seen)
		}
		return r
	}
	if judged == 0 {
		return j.inconclusive(rv.end, "nothing to judge: no discovery op was answered")
	}
	return j.result(last, "%s (%s)", list(seen), rv.lbSays())
}
