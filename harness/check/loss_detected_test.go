package check

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/scenario"
)

func TestLossDetected(t *testing.T) {
	blackhole := func(detect float64) *story {
		s := &story{}
		s.connect(5, "A")
		s.add(
			ev(400, "fault.on", "link=s1", "verb=blackhole"),
			ev(600, "session.disconnect", "server=s1", "session=A", "reason=idle"),
			state(detect, cA, rR, "A"),
		)
		return s
	}
	undetected := &story{}
	undetected.connect(5, "A")
	undetected.add(ev(400, "fault.on", "link=s1", "verb=cut"), ev(401, "session.disconnect", "server=s1", "session=A"))

	serverBlind := &story{}
	serverBlind.connect(5, "A")
	serverBlind.add(ev(400, "fault.on", "link=s1", "verb=cut"), state(402, cA, rR, "A"))

	// The client's reaction stamped just before the link's own fault.on.
	early := &story{}
	early.connect(5, "A")
	early.add(state(399.5, cA, rR, "A"), ev(399.8, "session.disconnect", "server=s1", "session=A"), ev(400, "fault.on", "link=s1", "verb=cut"))

	reset := func(detect float64) *story {
		s := &story{}
		s.connect(5, "A")
		s.add(ev(400, "fault.on", "link=s1", "verb=reset"), ev(detect-1, "session.disconnect", "server=s1", "session=A"), state(detect, cA, rR, "A"))
		return s
	}
	optOut := func(sc *scenario.Scenario) { sc.Client.Reconnect.Enabled = false }
	closedOnLoss := &story{}
	closedOnLoss.connect(5, "A")
	closedOnLoss.add(ev(400, "fault.on", "link=s1", "verb=cut"), ev(401, "session.close", "server=s1", "session=A", "reason=no_reconnect"),
		state(402, cA, cF, "A", "reason=connection_lost"))

	otherLink := &story{}
	otherLink.connect(5, "A")
	otherLink.add(ev(400, "fault.on", "link=s2", "verb=cut"))

	runCases(t, []tcase{
		{name: "cut detected", cfg: &LossDetected{}, h: recoveryH(), verdict: OK},
		{name: "blackhole within idle bound", cfg: &LossDetected{}, h: blackhole(720).hist(), verdict: OK},
		{name: "reset within ping period", cfg: &LossDetected{}, h: reset(520).hist(), verdict: OK},
		{name: "reaction stamped before fault.on", cfg: &LossDetected{}, h: early.hist(), verdict: OK},
		{name: "opt-out closes", cfg: &LossDetected{}, sc: scen(optOut), h: closedOnLoss.hist(), verdict: OK},
		{name: "loss never detected", cfg: &LossDetected{}, h: undetected.hist(), verdict: Failed,
			detail: []string{"client 0 never left CONNECTED_ACTIVE after cut on s1 at 400.0ms"}},
		{name: "blackhole detected too late", cfg: &LossDetected{}, h: blackhole(800).hist(), verdict: Failed,
			detail: []string{"detected blackhole on s1 at 400.0ms after 400.0ms > bound 350.0ms (idle bound 300.0ms + tolerance 50.0ms)"}},
		{name: "reset detected too late", cfg: &LossDetected{}, h: reset(600).hist(), verdict: Failed,
			detail: []string{"after 200.0ms > bound 150.0ms (ping period 100.0ms + tolerance 50.0ms)"}},
		{name: "server never saw the loss", cfg: &LossDetected{}, h: serverBlind.hist(), verdict: Failed,
			detail: []string{"claims the loss", `server never saw session "A" disconnect or close`}},
		{name: "impossible bound", cfg: &LossDetected{Within: Ptr(time.Millisecond)}, h: recoveryH(), verdict: Failed,
			detail: []string{"after 2.0ms > bound 1.0ms (within 1.0ms)"}},
		{name: "opt-out client recovering", cfg: &LossDetected{}, sc: scen(optOut), h: recoveryH(), verdict: Failed,
			detail: []string{"left CONNECTED_ACTIVE for RECOVERING_RECONNECT", "expected CLOSED_FAILED"}},
		{name: "fault on another link", cfg: &LossDetected{}, h: otherLink.hist(), verdict: Unknown, detail: []string{"nothing to judge"}},
		{name: "no fault", cfg: &LossDetected{}, h: (&story{}).connect(5, "A").hist(), verdict: Unknown, detail: []string{"nothing to judge"}},
		{name: "bad params", cfg: &LossDetected{Tolerance: Ptr(-time.Millisecond)}, h: recoveryH(), verdict: Failed, detail: []string{"bad parameters: tolerance"}},
	})
}

// An explicit tolerance or within of 0 is zero, never the default: the cut
// in recoveryH() is detected after 2ms.
func TestLossDetectedExplicitZero(t *testing.T) {
	runCases(t, []tcase{
		{name: "default tolerance", cfg: &LossDetected{}, h: recoveryH(), verdict: OK},
		{name: "tolerance 0", cfg: &LossDetected{Tolerance: Ptr(time.Duration(0))}, h: recoveryH(), verdict: Failed,
			detail: []string{"after 2.0ms > bound 0.0ms (tolerance 0.0ms)"}},
		{name: "within 0", cfg: &LossDetected{Within: Ptr(time.Duration(0))}, h: recoveryH(), verdict: Failed,
			detail: []string{"after 2.0ms > bound 0.0ms (within 0.0ms)"}},
		{name: "within 0 is the bound, not the verb's derivation", cfg: &LossDetected{Within: Ptr(time.Duration(0))},
			h: func() *story {
				s := &story{}
				s.connect(5, "A")
				return s.add(ev(400, "fault.on", "link=s1", "verb=reset"), ev(419, "session.disconnect", "server=s1", "session=A"), state(420, cA, rR, "A"))
			}().hist(), verdict: Failed, detail: []string{"after 20.0ms > bound 0.0ms (within 0.0ms)"}},
	})
}
