package check

import (
	"fmt"
	"strconv"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "unavailable_500", Judges: []string{"T3"}, New: func() Checker { return &Unavailable500{} }})
}

// Unavailable500 judges T3: when no instance is available the request gets
// a 500 at once; nothing is dropped silently or queued for ever.
//
// Every message an edge accepted (its first part's reply ok) gets exactly
// one response, and each answer must fit what the instances saw:
//   - 200: every part received exactly once, all by the instance that
//     answered, and by no other (server route.receive);
//   - 500: decided at once (before the op's reply), received by no
//     instance, when the router's view had no eligible instance, and when
//     no instance of its list was really available (server connection, link
//     faults, bytes in flight: see skip_ineligible);
//   - any other error (502: the instance that took it went; 504: timeout):
//     its instance must really have gone (its connection closed, a loss
//     fault on its link, or removed by discovery), or a later part found it
//     not writable in the router's view, or the request timeout passed.
//
// A message an edge refused (reply not ok, e.g. a closed edge) must get no
// response and reach no instance. A message still unanswered when the run
// ended is a drop once its answer was due (the request timeout, plus the
// lag, passed since its last part); before that it is only counted.
type Unavailable500 struct {
	// Expect500 is how many 500s the scenario must produce at least (its point).
	Expect500 int `yaml:"expect_500"`
	// Lag as in round_robin (default: the router's liveness bound).
	Lag *time.Duration `yaml:"lag"`
}

// Validate checks the parameters.
func (c *Unavailable500) Validate() error {
	if c.Expect500 < 0 {
		return fmt.Errorf("expect_500 must not be negative")
	}
	return nonNegative("lag", or(c.Lag, 0))
}

// ValidateFor implements scenario.ScenarioValidator: its view FAILS a
// client that is no router (beginRoute), and check has nothing to judge
// when no edge accepted a message, which takes a send.
func (c *Unavailable500) ValidateFor(sc *scenario.Scenario) error {
	if err := needRouter(sc); err != nil {
		return err
	}
	return needClientOp(sc, "send", "messages to route")
}

// Check implements Checker.
func (c *Unavailable500) Check(in Input) Result { return onRouteView(in, c, c.Lag, c.check) }

func (c *Unavailable500) check(v *routeView) Result {
	rp := v.replay()
	dec := map[string]decision{}
	for _, d := range rp.decisions {
		if _, dup := dec[d.msg]; !dup {
			dec[d.msg] = d
		}
	}
	timeout := v.sc.Client.Router.Timeout()
	var j judge
	n := map[string]int{}
	var worst500 time.Duration
	for _, m := range v.order {
		p1 := m.first()
		if p1 == nil {
			continue
		}
		if !p1.accepted() {
			n["refused by the edge"]++
			if len(m.resps) > 0 {
				j.fail(m.resps[0].T, "message %s was refused by its edge (%s), yet answered %s", m.id, replyText(p1), m.resps[0].Attr("status"))
			}
			for _, p := range m.p {
				if p != nil && len(p.recvs) > 0 {
					j.fail(p.recvs[0].T, "message %s was refused by its edge, yet %s received part %d", m.id, p.recvs[0].Server, p.part)
				}
			}
			continue
		}
		n["accepted"]++
		resp, answered := m.resp()
		switch {
		case !answered && !v.due(m, timeout):
			// The run ended before the router's request timeout had passed:
			// not (yet) a drop. The loader leaves request_timeout after the
			// scheduled sends; only sends a slow host delayed get here.
			n["pending at the end, not yet due"]++
			continue
		case !answered:
			n["unanswered"]++
			j.fail(v.end, "message %s (sent at %s on %s, routed to %s) was never answered: dropped or queued for ever", m.id, dur(p1.op.T), m.edge, routeText(p1))
			continue
		case len(m.resps) > 1:
			j.fail(m.resps[1].T, "message %s was answered %d times", m.id, len(m.resps))
		}
		status := m.status()
		n["answered "+strconv.Itoa(status)]++
		switch {
		case status == 200:
			c.judge200(&j, v, m, resp)
		case status == 500:
			c.judge500(&j, v, m, resp, dec[m.id])
			if d := resp.T - p1.op.T; d > worst500 {
				worst500 = d
			}
		default:
			c.judgeError(&j, v, m, resp, status, timeout)
		}
		if p1.route != nil && p1.reply != nil && p1.route.T > p1.reply.T {
			j.fail(p1.route.T, "message %s was routed at %s, after the edge's op had its reply at %s: held back rather than routed or refused at once", m.id, dur(p1.route.T), dur(p1.reply.T))
		}
		if p1.route == nil && status != 500 {
			j.fail(resp.T, "message %s was answered %d but never routed", m.id, status)
		}
	}
	for _, k := range sortedKeys(n) {
		j.count("messages "+k, n[k], "harness op/reply send, client response events, server route.receive")
	}
	if n["answered 500"] > 0 {
		j.measureMs("slowest 500", worst500, "client response 500 − harness op send", "before the op's reply")
	}
	if n["answered 500"] < c.Expect500 {
		j.fail(v.end, "%d messages answered 500, the scenario expects at least %d", n["answered 500"], c.Expect500)
	}
	if n["accepted"] == 0 {
		j.unknown(v.end, "nothing to judge: no edge accepted a message")
	}
	return j.result(v.end, "%d messages: each answered once, 500 only when no instance was available, nothing dropped", n["accepted"])
}

func (c *Unavailable500) judge200(j *judge, v *routeView, m *rmsg, resp history.Event) {
	for i, p := range m.p {
		if p == nil {
			j.fail(resp.T, "message %s answered 200, but part %d of %d was never sent", m.id, i+1, m.parts)
			continue
		}
		switch {
		case len(p.recvs) == 0:
			j.fail(resp.T, "message %s answered 200 by %s at %s, but part %d was received nowhere (server)", m.id, resp.Server, dur(resp.T), p.part)
		case len(p.recvs) > 1:
			j.fail(p.recvs[1].T, "message %s part %d was received %d times: %s", m.id, p.part, len(p.recvs), describeRecvs(p.recvs))
		case p.recvs[0].Server != resp.Server:
			j.fail(p.recvs[0].T, "message %s answered 200 by %s, but part %d was received by %s (server)", m.id, resp.Server, p.part, p.recvs[0].Server)
		case p.recvs[0].T > resp.T+v.lag:
			j.fail(resp.T, "message %s answered 200 at %s, before %s received part %d at %s", m.id, dur(resp.T), p.recvs[0].Server, p.part, dur(p.recvs[0].T))
		}
	}
}

func (c *Unavailable500) judge500(j *judge, v *routeView, m *rmsg, resp history.Event, d decision) {
	p1 := m.first()
	if p1.reply != nil && resp.T > p1.reply.T {
		j.fail(resp.T, "message %s got its 500 at %s, after the op's reply at %s: queued, not refused at once", m.id, dur(resp.T), dur(p1.reply.T))
	}
	for _, p := range m.p {
		if p != nil && len(p.recvs) > 0 {
			j.fail(p.recvs[0].T, "message %s answered 500, yet %s received part %d (server)", m.id, p.recvs[0].Server, p.part)
		}
	}
	if p1.route != nil {
		j.fail(resp.T, "message %s answered 500 at %s after the router had routed it to %s at %s", m.id, dur(resp.T), p1.route.Server, dur(p1.route.T))
	}
	if d.ev.Kind == kindResponse && d.expected != "" {
		j.fail(resp.T, "message %s answered 500 at %s while the router's own view had %s eligible (%s)", m.id, dur(resp.T), d.expected, viewList(d))
	}
	for _, name := range d.list {
		if a := v.available(name, resp.T); a.up {
			j.fail(resp.T, "message %s answered 500 at %s, but %s", m.id, dur(resp.T), a.why)
		}
	}
}

func (c *Unavailable500) judgeError(j *judge, v *routeView, m *rmsg, resp history.Event, status int, timeout time.Duration) {
	p1 := m.first()
	inst := resp.Server
	if inst == "" && p1.route != nil {
		inst = p1.route.Server
	}
	for _, p := range m.p {
		if p == nil {
			continue
		}
		for _, rc := range p.recvs {
			if rc.Server != inst {
				j.fail(rc.T, "message %s failed (%d) on %s, yet part %d was received by %s", m.id, status, inst, p.part, rc.Server)
			}
		}
	}
	if _, ok := v.gone(m, inst, resp.T); ok {
		return
	}
	if status == 504 && resp.T-p1.op.T >= timeout-v.live {
		return
	}
	j.fail(resp.T, "message %s answered %d (%s) at %s, but its instance %s was connected, writable and not removed: no cause for an error", m.id, status, resp.Reason, dur(resp.T), inst)
}

// gone tells why a request on inst could fail by t: its connection closed,
// a loss fault on its link, its removal, or (a later part) its view showed
// it not writable or disconnected.
func (v *routeView) gone(m *rmsg, inst string, t time.Duration) (string, bool) {
	p1 := m.first()
	from := p1.op.T
	conn := ""
	if len(p1.recvs) > 0 {
		conn = p1.recvs[0].Conn
	}
	for _, s := range v.spans[inst] {
		if s.close != nil && s.close.T >= from-v.live && s.close.T <= t+v.live && (conn == "" || s.conn == conn) {
			return fmt.Sprintf("%s's connection %s closed at %s (server)", inst, s.conn, dur(s.close.T)), true
		}
	}
	for _, f := range v.faults {
		if f.Link == inst && isLossVerb(f.Verb) && f.On.T <= t+v.live && (f.Off == nil || f.Off.T >= from) {
			return fmt.Sprintf("%s (link)", f), true
		}
	}
	for _, d := range v.disc {
		if !d.add && d.name == inst && d.op.T <= t+v.live && d.op.T >= from-v.live {
			return fmt.Sprintf("%s removed by discovery at %s (harness)", inst, dur(d.op.T)), true
		}
	}
	// A later part that found it ineligible in the router's view.
	var state string
	connected, writable := true, true
	for _, e := range v.router {
		if e.T > t {
			break
		}
		if e.Kind == kindInstance && e.Server == inst && e.T >= from {
			switch e.Attr("state") {
			case stDisconnected, stRemoved:
				connected = false
			case stUnwritable:
				writable = false
			case stWritable:
				writable = true
			case stConnected:
				connected, writable = true, true
			}
		}
	}
	if m.parts > 1 && (!connected || !writable) {
		state = "not writable"
		if !connected {
			state = "disconnected"
		}
		return fmt.Sprintf("%s was %s in the router's view when a later part came", inst, state), true
	}
	return "", false
}

func replyText(p *rpart) string {
	if p.reply == nil {
		return "no reply"
	}
	if p.reply.Reason != "" {
		return p.reply.Reason
	}
	return "refused"
}

func routeText(p *rpart) string {
	if p.route == nil {
		return "nowhere the router reported"
	}
	return p.route.Server
}

// due reports whether a message's answer was due by the end of the run: its
// last part sent at least the request timeout (plus the lag) before.
func (v *routeView) due(m *rmsg, timeout time.Duration) bool {
	last := time.Duration(0)
	for _, p := range m.p {
		if p != nil && p.op.T > last {
			last = p.op.T
		}
	}
	return v.end >= last+timeout+v.live
}
