package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func init() {
	Register(Spec{Name: "rpc_skip", Judges: []string{"T2"}, New: func() Checker { return &RPCSkip{} }})
}

// RPCSkip judges T2 for a client channel that balances its own RPCs over
// several backends (gRPC round_robin): a backend whose link is lost is
// skipped, the others keep serving, and once the link is back the backend
// rejoins the rotation as soon as the channel's back-off lets it.
//
// For each loss fault (cut, reset, down, blackhole) on the link of a
// backend that served the client when it began:
//
//   - skipped: every send the library took from the moment the channel
//     could know (the fault's start plus detect: settle for cut and down,
//     which end the connection at once; for reset, which ends it when bytes
//     next cross it, its server-side close plus settle; for blackhole the
//     contract's detect_ms, or the scenario's liveness) to the heal landed on another
//     backend: a send no server received (its RPC went to the lost backend,
//     or failed) or a send the library refused (a fail-fast RPC with other
//     backends READY) fails it. grpc-go: endpointsharding's picker holds
//     only READY children (updateStateLocked()); the C core: Picker::Picker()
//     keeps only READY subchannels.
//   - the others keep serving: each other backend that served the client
//     through the window received sends in it (when at least two rounds of
//     sends were taken).
//   - rejoined: after the heal the backend's connection is up again by the
//     time its back-off allows, and a send lands on it within a round.
//     The back-off is the client's effective contract's (initial_ms,
//     multiplier, max_ms, jitter; first_attempt; else the scenario's
//     strategy): with m attempts on the lost backend's link during the
//     outage (its link accepts), the next is due by the end of attempt m−1
//     (its server-side close) plus the upper end of wait m (its first
//     attempt at once when first_attempt is immediate), and not before the
//     heal; the connection must be up by then plus settle (plus any stall),
//     and a send must land on the backend within settle plus one round (k
//     backends at the send pace) of its connection's handshake. Each gRPC
//     subchannel keeps its own back-off (grpc-go clientconn.go
//     resetTransportAndUnlock(); the C core's Subchannel), and round_robin
//     reconnects a child as soon as it goes IDLE (grpc-go endpointsharding
//     endpointState.UpdateState(): exitIdle(); the C core's
//     RoundRobinSubchannelData::ProcessConnectivityChangeLocked():
//     RequestConnection() on IDLE).
//
// With no back-off known (no contract params, no strategy) the rejoin is
// reported, not judged (INFORMATIONAL); a contract naming a policy other
// than round_robin (params.lb_policy) makes the whole result INFORMATIONAL.
type RPCSkip struct {
	// Settle is how far apart a recorded change and the picker's may be
	// (default 50ms, plus the run's evidence lag).
	Settle *time.Duration `yaml:"settle"`
	// Detect bounds how long after a blackhole began the channel may still
	// pick its backend (default: the contract's detect_ms, else
	// client.liveness).
	Detect *time.Duration `yaml:"detect"`
}

// Validate checks the parameters.
func (c *RPCSkip) Validate() error {
	if err := nonNegative("settle", or(c.Settle, 0)); err != nil {
		return err
	}
	return nonNegative("detect", or(c.Detect, 0))
}

// NeedsOneClient implements OneClient.
func (c *RPCSkip) NeedsOneClient() string { return oneClientWhy }

// Check implements Checker.
func (c *RPCSkip) Check(in Input) Result { return onRPCView(in, c, c.Settle, c.check) }

// detectFor is how long after fault f began the channel may still pick its
// backend, and where that comes from; ok false when nothing bounds it.
func (c *RPCSkip) detectFor(rv *rpcView, f faultSpan) (time.Duration, string, bool) {
	if f.Verb == VerbReset {
		// A reset ends the connection when bytes next cross it: the channel
		// may pick it until then (the send that meets the reset is lost).
		for _, cn := range rv.conns {
			if cn.Server == f.Link && cn.Up < f.began() && cn.Down >= f.began() {
				return cn.Down - f.began() + rv.settle, fmt.Sprintf("a reset ends the connection when bytes next cross it: %s closed at %s, plus settle %s", cn.Conn, dur(cn.Down), dur(rv.settle)), true
			}
		}
	}
	if f.Verb != VerbBlackhole {
		return rv.settle, fmt.Sprintf("settle %s: a %s ends the connection at once", dur(rv.settle), f.Verb), true
	}
	if c.Detect != nil {
		return *c.Detect + rv.settle, "the check's detect " + dur(*c.Detect), true
	}
	if d, ok := rv.ct.Param(paramDetect); ok && d > 0 {
		dd := time.Duration(d * float64(time.Millisecond))
		return dd + rv.settle, fmt.Sprintf("the contract's %s %g", paramDetect, d), true
	}
	if l := rv.sc.Client.Liveness; l > 0 {
		return l + rv.settle, "client.liveness " + dur(l), true
	}
	return 0, "", false
}

// attemptsDuring are the attempts on link during [from, to]: its link
// accepts, each ended by the first close on its server after it (within
// settle), else at the accept.
func (c *RPCSkip) attemptsDuring(rv *rpcView, link string, from, to time.Duration) (n int, lastEnd time.Duration) {
	lastEnd = -1
	for _, e := range rv.h {
		if e.Kind != history.KindLinkAccept || e.Link != link || e.T < from || e.T > to {
			continue
		}
		n++
		end := e.T
		for _, cn := range rv.conns {
			if cn.Server == link && cn.Accept >= e.T-rv.slack && cn.Accept <= e.T+rv.settle && cn.Down >= 0 && cn.Down <= to {
				end = max(end, cn.Down)
				break
			}
		}
		lastEnd = max(lastEnd, end)
	}
	return n, lastEnd
}

// backoffKnown reports whether the client's back-off is known: the
// contract's params or the scenario's strategy.
func (c *RPCSkip) backoffKnown(rv *rpcView) bool {
	if _, ok := sleepLawOf(rv.ct); ok {
		return true
	}
	return rv.sc.Client.Reconnect.Strategy.Initial > 0
}

func (c *RPCSkip) check(rv *rpcView) Result {
	var j judge
	judgedFaults, skipped := 0, 0
	var notes, rejoins []string
	informRejoin := false
	last := time.Duration(0)
	for _, f := range rv.faults {
		if !isLossVerb(f.Verb) {
			continue
		}
		b := f.Link
		began := f.began()
		if !rv.serving(began - rv.settle)[b] && !rv.serving(began)[b] {
			notes = append(notes, fmt.Sprintf("%s left out: %s served the client no connection when it began", f, b))
			continue
		}
		detect, detectFrom, ok := c.detectFor(rv, f)
		if !ok {
			notes = append(notes, fmt.Sprintf("%s left out: nothing bounds how long the channel may pick a blackholed backend (no detect, no contract detect_ms, no client.liveness)", f))
			continue
		}
		off := rv.end
		if f.Off != nil {
			off = f.Off.T
		}
		from := began + detect
		judgedFaults++
		last = max(last, off)
		others := rv.serving(from)
		delete(others, b)
		if len(others) == 0 {
			notes = append(notes, fmt.Sprintf("during %s no other backend served the client: nothing to skip to (no instance available is T3's)", f))
			continue
		}
		// Skipped: every send taken in the window landed elsewhere.
		shares := map[string]int{}
		taken := 0
		for _, s := range rv.sends {
			if s.from() < from || s.to() > off {
				continue
			}
			taken++
			switch {
			case s.Land == nil:
				why := rv.errorFor(s.N)
				if why != "" {
					why = "; the driver reported: " + why
				}
				j.fail(s.at(), "send n=%d, taken at %s during the %s (%s after it began, past the channel's detection %s: %s), reached no server: it was picked for the lost backend or failed, while %s served the client%s",
					s.N, dur(s.at()), f, dur(s.at()-began), dur(detect), detectFrom, nameSet(others), why)
			case s.Land.Server == b:
				j.fail(s.Land.T, "send n=%d landed on %s at %s, while its link's %s was in force", s.N, b, dur(s.Land.T), f.Verb)
			default:
				shares[s.Land.Server]++
				skipped++
			}
		}
		for _, e := range rv.refused {
			if e.T >= from && e.T <= off {
				j.fail(e.T, "a send was refused at %s during the %s (%s), while %s served the client: the channel did not skip the lost backend", dur(e.T), f, e.Reason, nameSet(others))
			}
		}
		j.count(fmt.Sprintf("%s: sends taken while skipped", f), taken, fmt.Sprintf("ok send replies from the fault's start + detection (%s) to its heal", detectFrom))
		for _, o := range sortedKeys(others) {
			j.count(fmt.Sprintf("%s: landed on %s", f, o), shares[o], "server receives of those sends on "+o)
			if taken >= 2*len(others) && shares[o] == 0 && rv.servingThrough(o, from, off) {
				j.fail(off, "during the %s, %s served the client all along but received none of the %d sends taken: the others did not keep serving", f, o, taken)
			}
		}
		if f.Off == nil {
			notes = append(notes, fmt.Sprintf("%s never healed: no rejoin to judge", f))
			continue
		}
		// Rejoined.
		n, lastEnd := c.attemptsDuring(rv, b, began-rv.slack, off)
		d := delaysFor(rv.sc.Client.Reconnect.Strategy, rv.ct)
		if lastEnd < 0 {
			lastEnd = began
		}
		due := max(off, lastEnd+d.Delay(n))
		up, okUp := rv.firstUp(b, off)
		if !okUp {
			j.fail(rv.end, "%s never had a connection of the client up again after the heal at %s (with %d attempt(s) in the outage its next was due by %s: %s)", b, dur(off), n, dur(due), d.From)
			continue
		}
		stall := rv.stalled(off, up.Up)
		upBound := due + rv.settle + stall
		j.measure(fmt.Sprintf("%s: reconnected after the heal", f), Ms(up.Up-off), "ms", fmt.Sprintf("server handshake on %s − link heal", b),
			fmt.Sprintf("≤ %s: %d attempt(s) in the outage, the last ended at %s, the wait before attempt %d ≤ %s (%s)%s", dur(upBound-off), n, dur(lastEnd), n, dur(d.Delay(n)), d.From, stallNote(stall)))
		k := len(rv.serving(up.Up + rv.settle))
		land, okLand := rv.firstLanding(b, up.Up)
		landBound := up.Up + 2*rv.settle + rv.round(k) + rv.stalled(up.Up, up.Up+2*rv.settle+rv.round(k))
		if !okLand {
			anyAfter := false
			for _, s := range rv.sends {
				anyAfter = anyAfter || s.from() > landBound
			}
			if anyAfter {
				j.fail(landBound, "%s was up again at %s but no send landed on it afterwards, although sends went on: it did not rejoin the rotation", b, dur(up.Up))
			} else {
				notes = append(notes, fmt.Sprintf("no sends after %s was up again at %s: its rejoin to the rotation is not seen", b, dur(up.Up)))
			}
			continue
		}
		j.measure(fmt.Sprintf("%s: first send on %s after its reconnection", f, b), Ms(land.Land.T-up.Up), "ms", fmt.Sprintf("server receive on %s − its handshake", b),
			fmt.Sprintf("≤ %s: settle %s twice + one round of %d backend(s) at the send pace %s", dur(landBound-up.Up), dur(rv.settle), k, dur(rv.pace)))
		rejoins = append(rejoins, fmt.Sprintf("%s up again %s after the heal, send n=%d on it %s later", b, dur(up.Up-off), land.N, dur(land.Land.T-up.Up)))
		switch {
		case !c.backoffKnown(rv):
			informRejoin = true
			notes = append(notes, fmt.Sprintf("%s's reconnection %s after the heal is not judged: neither the contract nor the scenario gives a back-off", b, dur(up.Up-off)))
		case up.Up > upBound:
			j.fail(up.Up, "%s reconnected at %s, %s after the heal: its back-off allowed at most %s (%d attempt(s) in the outage, the last ended at %s; the wait before attempt %d ≤ %s; %s)",
				b, dur(up.Up), dur(up.Up-off), dur(upBound-off), n, dur(lastEnd), n, dur(d.Delay(n)), d.From)
		}
		if land.Land.T > landBound {
			j.fail(land.Land.T, "%s was up again at %s but the first send landed on it only at %s (n=%d): later than settle twice and one round of %d backend(s) at the send pace %s",
				b, dur(up.Up), dur(land.Land.T), land.N, k, dur(rv.pace))
		}
	}
	for _, n := range notes {
		j.note("%s", n)
	}
	if judgedFaults == 0 {
		return j.inconclusive(rv.end, "nothing to judge: no loss fault on the link of a backend serving the client")
	}
	seen := fmt.Sprintf("%d send(s) skipped the lost backend(s) and landed on the others; %s", skipped, list(rejoins))
	if len(rejoins) == 0 {
		seen = fmt.Sprintf("%d send(s) skipped the lost backend(s) and landed on the others", skipped)
	}
	if rv.lbPolicy() != lbRoundRobin {
		r := j.result(last, "")
		return j.informational(last, fmt.Sprintf("%s (%s); not judged: %s, so it does not promise to spread over the others", seen, r.Detail, rv.lbSays()))
	}
	if informRejoin && !j.failed() {
		return j.informational(last, seen+"; the rejoin is not judged: no back-off known")
	}
	return j.result(last, "%s (%s)", seen, rv.lbSays())
}
