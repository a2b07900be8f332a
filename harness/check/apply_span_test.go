package check

import "testing"

// A cut of many connections drops them while it is applied, before the
// link's fault.on (seen at 1,000 clients: losses up to 90ms before it). The
// fault.on's apply_ms says how long applying took; the loss checks judge the
// clients that were CONNECTED_ACTIVE when it began, with the server's
// evidence from then on. Without apply_ms the same history has nothing to
// judge: the early loss is not a hit.
func TestLossDuringAFaultsApplication(t *testing.T) {
	build := func(apply string) *story {
		s := &story{}
		s.connect(5, "A")
		on := []string{"link=s1", "verb=cut"}
		if apply != "" {
			on = append(on, "apply_ms="+apply)
		}
		return s.add(
			ev(320, "session.disconnect", "server=s1", "session=A", "reason=transport"),
			state(321, cA, rR, "A"),
			ev(400, "fault.on", on...),
		)
	}
	runCases(t, []tcase{
		{name: "lost while the cut was applied", cfg: &LossDetected{}, h: build("90").hist(), verdict: OK},
		{name: "a loss before the apply began is no hit", cfg: &LossDetected{}, h: build("60").hist(), verdict: Unknown,
			detail: []string{"nothing to judge"}},
		{name: "without apply_ms", cfg: &LossDetected{}, h: build("").hist(), verdict: Unknown, detail: []string{"nothing to judge"}},
	})
}
