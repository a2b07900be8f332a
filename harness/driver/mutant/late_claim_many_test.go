package mutant_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/driver/mutant"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// The late_claim mutant among many clients: before the driver lag probe, a
// late claim of a multi-client run went unjudged (the run queue of shared
// cores could explain any delay), so the mutant passed R4; with the probe,
// its 200ms is held against the measured lag of its driver process. The
// honest engine stays OK. "Before" is the same run judged without its probe
// events (what the checkers had then).
func TestLateClaimAmongManyClients(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real scenarios")
	}
	src, err := os.ReadFile(filepath.Join(root, "scenarios/reconnect/reset-detection.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// 8 clients; the window bound is given (it cannot be derived from one
	// client's schedule when server accepts are shared).
	y := strings.NewReplacer("labels: [reconnect, reset]", "labels: [reconnect, reset]\nclients: 8",
		"{check: reconnect_window, requirement: R4}", "{check: reconnect_window, requirement: R4, within: 2s}").Replace(string(src))
	sc, err := scenario.Parse("reset-detection-8.yaml", []byte(y), runner.Registry())
	if err != nil {
		t.Fatal(err)
	}
	if sc.Clients != 8 {
		t.Fatalf("clients %d", sc.Clients)
	}
	m, _ := mutant.Lookup("late_claim")

	h := run(t, sc, godriver.Factory(1))
	for _, r := range h.Checks {
		t.Logf("honest: %s %s = %s", r.Requirement, r.Check, r.Verdict)
		if r.Verdict != check.OK {
			t.Errorf("honest engine: %s %s = %s: %s", r.Requirement, r.Check, r.Verdict, r.Detail)
		}
	}
	res := run(t, sc, mutant.Wrap(godriver.Factory(1), m))
	if len(res.Problems) > 0 || len(h.Problems) > 0 {
		t.Fatalf("the runs must go as scheduled: mutant's problems %v, honest's %v", res.Problems, h.Problems)
	}
	probes := 0
	var without history.History
	for _, e := range res.History {
		if e.Kind == history.KindProbe {
			probes++
			continue
		}
		without = append(without, e)
	}
	before := find(t, &runner.Result{Scenario: sc, Checks: runner.Rejudge(sc, runner.Saved{History: without, Hello: res.Hello, HelloOK: true})}, "R4", "reconnect_window")
	after := find(t, res, "R4", "reconnect_window")
	t.Logf("mutant, %d probes; before (no probes): R4 = %s: %s", probes, before.Verdict, before.Detail)
	t.Logf("mutant, after: R4 = %s: %s", after.Verdict, after.Detail)
	if before.Verdict != check.OK {
		t.Errorf("without probes the late claim should go unjudged (as before): %s", before.Verdict)
	}
	if !slices.Contains(nonStrict, after.Verdict) {
		t.Errorf("late_claim passed R4 among 8 clients: %s: %s", after.Verdict, after.Detail)
	}
	for _, frag := range []string{"CONNECTED_ACTIVE", "session.resume", "driver lag"} {
		if !strings.Contains(after.Detail, frag) {
			t.Errorf("detail should name %q: %s", frag, after.Detail)
		}
	}
}
