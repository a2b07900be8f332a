package check

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// idleReply is a connect reply whose contract says idle_reconnect: idle
// ("": not declared), first attempt at once.
func idleReply(idle string) history.Event {
	terms := map[string]string{"first_attempt": "immediate"}
	if idle != "" {
		terms["idle_reconnect"] = idle
	}
	r := ctReply(6, terms, map[string]any{"initial_ms": 1000, "multiplier": 1.6, "max_ms": 120000, "jitter": 0.2})
	if idle == "on_demand" {
		r.Attrs["contract"] = r.Attrs["contract"][:len(r.Attrs["contract"])-1] +
			`,"driver_adds":[{"what":"cc.Connect() whenever the channel goes IDLE","why":"pick_first waits for an RPC"}]}`
	}
	return r
}

// idleH: client 0 on s1 (contract reply r, none when nil); s1 cut at
// 1000ms, healed at 1500ms; the client reports RECOVERING_RECONNECT at
// 1002ms; attempts at the given times (ms), each closed 1ms later; extra
// events after.
func idleH(r *history.Event, attempts []float64, extra ...history.Event) history.History {
	s := newF()
	a := s.connect(0, 5, "s1")
	if r != nil {
		s.add(*r)
	}
	s.fault(1000, "s1", "cut")
	s.add(cst(1002, 0, cA, rR, "s1", a))
	s.heal(1500, "s1", "cut")
	for _, t := range attempts {
		s.fail(t, "s1")
	}
	s.add(ev(6000, history.KindStep, "step=9"))
	return s.add(extra...).hist()
}

func TestIdleAfterLoss(t *testing.T) {
	sc := fscen(1, reconnectOn(60e9))
	send := ev(6000, history.KindOp, "client=0", "op=send", "id=2")
	sendSoon := ev(1300, history.KindOp, "client=0", "op=send", "id=2")
	after := func(idle string) *history.Event { r := idleReply(idle); return &r }
	runCases(t, []tcase{
		{name: "silent contract, attempts: INFORMATIONAL", cfg: &IdleAfterLoss{}, sc: sc, h: idleH(after(""), []float64{1002.5, 2003}), verdict: Informational,
			detail: []string{"it reconnected by itself; its contract does not say whether it should (idle_reconnect: not declared)",
				"2 attempt(s) in 4.998s after the loss of its connection to s1 (client 0 CONNECTED_ACTIVE → RECOVERING_RECONNECT) at 1.002s (to the end of the history, nothing asking it to connect): server accept s1#2 at 1.002s (+0.001s from the loss)"}},
		{name: "silent contract, no attempt before the next op: INFORMATIONAL", cfg: &IdleAfterLoss{}, sc: sc, h: idleH(after(""), []float64{6001}, send), verdict: Informational,
			detail: []string{"it did not reconnect by itself", "no attempt in 4.998s after the loss of its connection to s1", "(until its next op, send at 6.000s)"}},
		{name: "no contract at all: INFORMATIONAL", cfg: &IdleAfterLoss{}, sc: sc, h: idleH(nil, nil), verdict: Informational,
			detail: []string{"it did not reconnect by itself", "no attempt in 4.998s"}},
		{name: "auto, no attempt: FAILED", cfg: &IdleAfterLoss{}, sc: sc, h: idleH(after("auto"), []float64{6001}, send), verdict: Failed,
			detail: []string{"no reconnect by itself: no attempt in 4.998s", "says it reconnects by itself (idle_reconnect: auto (grpc-go idle_reconnect)), its first attempt due 0.000s after the loss"}},
		{name: "auto, attempts: OK", cfg: &IdleAfterLoss{}, sc: sc, h: idleH(after("auto"), []float64{1002.5}), verdict: OK,
			detail: []string{"it reconnected by itself, as its contract says (idle_reconnect: auto"}},
		{name: "auto, the window too short to tell: UNKNOWN", cfg: &IdleAfterLoss{}, sc: sc, h: idleH(after("auto"), nil, sendSoon), verdict: Unknown,
			detail: []string{"every window was too short", "shorter than the first attempt's due time 0.000s + grace 1.000s"}},
		{name: "on_demand, no attempt: OK", cfg: &IdleAfterLoss{}, sc: sc, h: idleH(after("on_demand"), []float64{6001}, send), verdict: OK,
			detail: []string{"it waited to be asked, as its contract says (idle_reconnect: on_demand"}},
		{name: "on_demand, attempts: INFORMATIONAL", cfg: &IdleAfterLoss{}, sc: sc, h: idleH(after("on_demand"), []float64{1003}), verdict: Informational,
			detail: []string{"although its contract says it reconnects only when asked", "(the driver adds: cc.Connect() whenever the channel goes IDLE)"}},
		{name: "a window set: only what came in it", cfg: &IdleAfterLoss{Window: Ptr(2 * time.Second)}, sc: sc, h: idleH(after("auto"), []float64{4000}), verdict: Failed,
			detail: []string{"no attempt in 2.000s", "(the window 2.000s, nothing asking it to connect)"}},
		{name: "an unreported loss is not failed: INFORMATIONAL", cfg: &IdleAfterLoss{}, sc: sc, h: func() history.History {
			s := newF()
			s.connect(0, 5, "s1")
			s.add(idleReply("auto"))
			s.fault(1000, "s1", "blackhole")
			s.add(ev(6000, history.KindStep, "step=9"))
			return s.hist()
		}(), verdict: Informational, detail: []string{"no attempt after a loss the client never reported, which is not judged", "no attempt in 5.000s after the blackhole on s1 at 1000.0ms that hit client 0 (it reported no loss) at 1.000s"}},
		{name: "every link down all along: UNKNOWN", cfg: &IdleAfterLoss{}, sc: sc, h: func() history.History {
			s := newF()
			a := s.connect(0, 5, "s1")
			s.fault(1000, "s1", "down")
			s.add(cst(1002, 0, cA, rR, "s1", a))
			s.add(ev(6000, history.KindStep, "step=9"))
			return s.hist()
		}(), verdict: Unknown, detail: []string{"nothing to judge", "1 loss(es) left out: every server's link was down for the whole window"}},
		{name: "no loss: UNKNOWN", cfg: &IdleAfterLoss{}, sc: sc, h: func() history.History { s := newF(); s.connect(0, 5, "s1"); return s.hist() }(), verdict: Unknown,
			detail: []string{"nothing to judge: no loss"}},
		{name: "two clients: FAILED", cfg: &IdleAfterLoss{}, sc: fscen(1, clients(2)), h: idleH(nil, nil), verdict: Failed, detail: []string{"needs clients: 1"}},
		{name: "bad window", cfg: &IdleAfterLoss{Window: Ptr(time.Duration(0))}, sc: sc, h: idleH(nil, nil), verdict: Failed, detail: []string{"bad parameters: window must be positive"}},
	})
}
