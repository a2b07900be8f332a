package check

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "chunk_affinity", Judges: []string{"T5"}, New: func() Checker { return &ChunkAffinity{} }})
}

// ChunkAffinity judges T5: the parts of a multi-part message after the first
// go to the instance (and the connection) that took the first; if it is lost
// or not writable the request fails with an error response, and no part goes
// anywhere else.
//
// Where each part went is the instances' own record (server route.receive,
// with its connection); the router's route claims must agree. A request
// answered 200 must have every part on that connection. A request whose
// instance went before its last part (its connection closed: server; a loss
// fault on its link: link; its removal: harness) must fail, and one that
// failed must have had such a cause, or a later part that found the instance
// not writable in the router's view. After the failure no part of it may
// reach any instance.
type ChunkAffinity struct {
	// ExpectFailed is how many multi-part requests must fail because their
	// instance went (the scenario's point; default 0).
	ExpectFailed int `yaml:"expect_failed"`
	// Lag as in round_robin (default: the router's liveness bound).
	Lag *time.Duration `yaml:"lag"`
}

// Validate checks the parameters.
func (c *ChunkAffinity) Validate() error {
	if c.ExpectFailed < 0 {
		return fmt.Errorf("expect_failed must not be negative")
	}
	return nonNegative("lag", or(c.Lag, 0))
}

// ValidateFor implements scenario.ScenarioValidator: its view FAILS a
// client that is no router (beginRoute), and check has nothing to judge
// without a multi-part message (a send of chunks 2 or more).
func (c *ChunkAffinity) ValidateFor(sc *scenario.Scenario) error {
	if err := needRouter(sc); err != nil {
		return err
	}
	for _, cs := range clientSteps(sc, "send") {
		if cs.Chunks >= 2 {
			return nil
		}
	}
	return errors.New("it needs a multi-part message (a client send step with chunks: 2 or more), and the timeline has none")
}

// Check implements Checker.
func (c *ChunkAffinity) Check(in Input) Result { return onRouteView(in, c, c.Lag, c.check) }

func (c *ChunkAffinity) check(v *routeView) Result {
	var j judge
	multi, complete, failed := 0, 0, 0
	for _, m := range v.order {
		p1 := m.first()
		if m.parts < 2 || p1 == nil || !p1.accepted() || p1.route == nil {
			continue // single, refused, or a 500 at the first part (unavailable_500 judges those)
		}
		multi++
		inst, conn := p1.route.Server, ""
		if len(p1.recvs) > 0 {
			inst, conn = p1.recvs[0].Server, p1.recvs[0].Conn
		}
		resp, answered := m.resp()
		failAt := v.end + 1
		if answered && m.status() != 200 {
			failAt = resp.T
		}
		for _, p := range m.p[1:] {
			if p == nil {
				continue
			}
			if p.route != nil && p.route.Server != inst {
				j.fail(p.route.T, "message %s: part %d was routed to %s, but part 1 went to %s", m.id, p.part, p.route.Server, inst)
			}
			for _, rc := range p.recvs {
				switch {
				case rc.Server != inst:
					j.fail(rc.T, "message %s: part %d was received by %s at %s, but part 1 by %s (server)", m.id, p.part, rc.Server, dur(rc.T), inst)
				case conn != "" && rc.Conn != conn:
					j.fail(rc.T, "message %s: part %d reached %s on connection %s, part 1 on %s: a new connection knows nothing of the request", m.id, p.part, inst, rc.Conn, conn)
				}
				if p.op.T > failAt+v.live {
					j.fail(rc.T, "message %s failed at %s, yet its part %d (sent at %s) was delivered to %s", m.id, dur(failAt), p.part, dur(p.op.T), rc.Server)
				}
			}
		}
		// Was the instance lost before the last part came?
		last := m.p[len(m.p)-1]
		lostBy := v.end
		if last != nil {
			lostBy = last.op.T
		}
		lost, lostWhy := v.lostBetween(inst, conn, p1.op.T, lostBy)
		switch {
		case !answered:
			// unavailable_500 reports it
		case m.status() == 200:
			complete++
			if lost {
				j.fail(resp.T, "message %s was answered 200 though its instance went before its last part: %s", m.id, lostWhy)
			}
			for _, p := range m.p {
				if p == nil || len(p.recvs) == 0 {
					j.fail(resp.T, "message %s was answered 200 with a part missing on %s", m.id, inst)
					break
				}
			}
		default:
			failed++
			if _, ok := v.gone(m, inst, resp.T); !ok {
				j.fail(resp.T, "message %s failed (%s %s) at %s, but %s was connected, writable and not removed", m.id, resp.Attr("status"), resp.Reason, dur(resp.T), inst)
			}
		}
		if lost && !answered {
			j.fail(v.end, "message %s: its instance went (%s) and the request was never failed", m.id, lostWhy)
		}
	}
	j.count("multi-part messages routed", multi, "harness op send (parts > 1), client route")
	j.count("completed on one instance", complete, "server route.receive of every part on part 1's connection")
	j.count("failed with an error", failed, "client response ≠ 200, cause from server/link/harness evidence")
	if failed < c.ExpectFailed {
		j.fail(v.end, "%d multi-part requests failed, the scenario expects at least %d (its instance dying halfway)", failed, c.ExpectFailed)
	}
	if multi == 0 {
		j.unknown(v.end, "nothing to judge: no multi-part message was routed")
	}
	return j.result(v.end, "%d multi-part messages: every part on the first part's instance; %d failed with an error when it went, none delivered elsewhere", multi, failed)
}

// lostBetween tells whether inst's connection conn closed, or a loss fault
// was switched on on its link, or it was removed, in (from, to): no lag, as
// a part sent after that cannot reach that connection, whether the router
// knew it yet or not.
func (v *routeView) lostBetween(inst, conn string, from, to time.Duration) (bool, string) {
	for _, s := range v.spans[inst] {
		if (conn == "" || s.conn == conn) && s.close != nil && s.close.T > from && s.close.T < to {
			return true, fmt.Sprintf("connection %s closed at %s (server)", s.conn, dur(s.close.T))
		}
	}
	for _, f := range v.faults {
		if f.Link == inst && isLossVerb(f.Verb) && f.On.T > from && f.On.T < to {
			return true, fmt.Sprintf("%s (link)", f)
		}
	}
	for _, d := range v.disc {
		if !d.add && d.name == inst && d.op.T > from && d.op.T < to {
			return true, fmt.Sprintf("removed at %s (harness)", dur(d.op.T))
		}
	}
	return false, ""
}
