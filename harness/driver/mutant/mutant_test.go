package mutant_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/driver/mutant"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// root is the repository root, from this package's directory.
const root = "../../.."

// mcase is one mutant that the harness must catch: run on the scenario, the
// check filed under req gets a verdict in want, with every detail fragment.
type mcase struct {
	mutation string
	scenario string // from the repository root
	req      string
	check    string
	want     []string
	detail   []string
	// every: every check of the run (the scenario's and the universal
	// ones) must be in want, not only req/check.
	every bool
	// waits, when set, names what the case waits for; the case is skipped
	// until it lands (the lead removes it then).
	waits string
}

var (
	failed    = []string{check.Failed}
	nonStrict = []string{check.NonStrict, check.Failed, check.Unknown}
	notOK     = []string{check.Failed, check.Unknown}
)

var cases = []mcase{
	{mutation: "drop_messages", scenario: "scenarios/reconnect/recovery-messages.yaml",
		req: "R3", check: "exactly_once_in_order", want: failed},
	{mutation: "revive", scenario: "scenarios/reconnect/client-close.yaml",
		req: "U1", check: "lifecycle", want: failed, detail: []string{"CLOSED_BY_CLIENT→CONNECTED_ACTIVE"}},
	{mutation: "from_mismatch", scenario: "scenarios/reconnect/client-close.yaml",
		req: "U1", check: "lifecycle", want: failed, detail: []string{"RECOVERING_RECONNECT→CLOSED_BY_CLIENT"}},
	{mutation: "late_claim", scenario: "scenarios/reconnect/reset-detection.yaml",
		req: "R4", check: "reconnect_window", want: nonStrict, detail: []string{"CONNECTED_ACTIVE", "session.resume"}},
	{mutation: "no_jitter", scenario: "scenarios/reconnect/jitter-distribution.yaml",
		req: "R2", check: "jitter_distribution", want: failed},
	{mutation: "never_connects", scenario: "scenarios/reconnect/reset-detection.yaml",
		req: "R1", check: "loss_detected", want: notOK, every: true},
	{mutation: "never_connects", scenario: "scenarios/reconnect/recovery-messages.yaml",
		req: "R3", check: "no_silent_loss", want: notOK, every: true},
	{mutation: "fake_connects", scenario: "scenarios/reconnect/reset-detection.yaml",
		req: "R1", check: "loss_detected", want: failed},
	// Found by this test: a client that claimed CONNECTED_ACTIVE on a session
	// no server opened was accounted for as connected on its word alone.
	{mutation: "fake_connects", scenario: "scenarios/reconnect/recovery-messages.yaml",
		req: "R3", check: "no_silent_loss", want: notOK, every: true},
}

// runTimeout bounds one scenario run (the scenarios above last 2 to 5.3s).
const runTimeout = 30 * time.Second

func TestEveryMutationHasACase(t *testing.T) {
	for _, name := range mutant.Names() {
		if !slices.ContainsFunc(cases, func(c mcase) bool { return c.mutation == name }) {
			t.Errorf("mutation %s has no case: a mutant nobody runs proves nothing", name)
		}
	}
}

// TestHarnessCatchesMutants runs each scenario against the honest engine
// (the checks must pass) and against each mutant (the check must not).
// Sequential: the verdicts rest on timing, and the machine is shared.
func TestHarnessCatchesMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real scenarios")
	}
	honest := &honestRuns{runs: map[string]*runner.Result{}}
	for _, c := range cases {
		t.Run(c.mutation+"/"+strings.TrimSuffix(filepath.Base(c.scenario), ".yaml")+"/"+c.check, func(t *testing.T) {
			if c.waits != "" && os.Getenv("MUTANT_NOSKIP") == "" {
				t.Skip("waits for " + c.waits + " (MUTANT_NOSKIP=1 runs it anyway)")
			}
			sc := loadScenario(t, c)
			m, ok := mutant.Lookup(c.mutation)
			if !ok {
				t.Fatalf("no mutation %s", c.mutation)
			}

			h := honest.run(t, sc)
			hr := find(t, h, c.req, c.check)
			t.Logf("honest: %s %s = %s", c.req, c.check, hr.Verdict)
			if hr.Verdict != check.OK {
				t.Errorf("honest engine: %s %s = %s, want OK: %s", c.req, c.check, hr.Verdict, hr.Detail)
			}
			for _, r := range h.Checks {
				if check.FailsRun(r.Verdict) {
					t.Errorf("honest engine: %s %s = %s: %s", r.Requirement, r.Check, r.Verdict, r.Detail)
				}
			}

			res := run(t, sc, mutant.Wrap(godriver.Factory(1), m))
			if len(res.Problems) > 0 || len(h.Problems) > 0 {
				// A run that went wrong fails every check whatever the
				// mutant did: that would prove nothing about the checkers.
				t.Fatalf("the runs must go as scheduled: mutant's problems %v, honest's %v", res.Problems, h.Problems)
			}
			mr := find(t, res, c.req, c.check)
			t.Logf("mutant %s: %s %s = %s: %s", c.mutation, c.req, c.check, mr.Verdict, mr.Detail)
			if !slices.Contains(c.want, mr.Verdict) {
				t.Errorf("mutant %s (%s) passed: %s %s = %s, want one of %v; detail: %s",
					c.mutation, m.Breaks, c.req, c.check, mr.Verdict, c.want, mr.Detail)
			}
			for _, frag := range c.detail {
				if !strings.Contains(mr.Detail, frag) {
					t.Errorf("mutant %s: detail should name %q: %s", c.mutation, frag, mr.Detail)
				}
			}
			if c.every {
				for _, r := range res.Checks {
					t.Logf("mutant %s: %s %s = %s", c.mutation, r.Requirement, r.Check, r.Verdict)
					if !slices.Contains(c.want, r.Verdict) {
						t.Errorf("mutant %s: %s %s = %s, want one of %v: %s", c.mutation, r.Requirement, r.Check, r.Verdict, c.want, r.Detail)
					}
				}
			}
		})
	}
}

// honestRuns runs each scenario once against the honest engine.
type honestRuns struct {
	mu   sync.Mutex
	runs map[string]*runner.Result
}

func (h *honestRuns) run(t *testing.T, sc *scenario.Scenario) *runner.Result {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if r, ok := h.runs[sc.File]; ok {
		return r
	}
	r := run(t, sc, godriver.Factory(1))
	h.runs[sc.File] = r
	return r
}

func run(t *testing.T, sc *scenario.Scenario, f driver.Factory) *runner.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	return runner.Run(ctx, sc, runner.Config{Driver: f})
}

// loadScenario loads the case's scenario.
func loadScenario(t *testing.T, c mcase) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load(filepath.Join(root, c.scenario), runner.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// find returns the run's result for a check filed under a requirement.
func find(t *testing.T, res *runner.Result, req, name string) runner.CheckResult {
	t.Helper()
	for _, r := range res.Checks {
		if r.Requirement == req && r.Check == name {
			return r
		}
	}
	var got []string
	for _, r := range res.Checks {
		got = append(got, r.Requirement+" "+r.Check)
	}
	t.Fatalf("%s: no %s %s in the run's checks %v (problems: %v)", res.Scenario.File, req, name, got, res.Problems)
	return runner.CheckResult{}
}
