package topology_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
)

func loadNamed(t *testing.T, dir, name string) *scenario.Scenario {
	t.Helper()
	scs, err := runner.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scs {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("scenario %s not found in %s", name, dir)
	return nil
}

// runExternal runs sc on ext and wants it run as scheduled, every check OK.
func runExternal(t *testing.T, ext *topology.External, sc *scenario.Scenario) *runner.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sc.End()+30*time.Second)
	defer cancel()
	res := runner.Run(ctx, sc, runner.Config{Driver: godriver.Factory(1), Topology: ext})
	if len(res.Problems) > 0 {
		t.Fatalf("problems %v\n%s", res.Problems, res.History)
	}
	for _, c := range res.Checks {
		if c.Verdict != check.OK {
			t.Errorf("%s %s: %s %s\n%s", c.Requirement, c.Check, c.Verdict, c.Detail, res.History)
		}
	}
	return res
}

// A migration between servers of two serve processes: the target takes the
// context from the store the source's process hosts, over its API, and the
// source learns of the handoff the same way.
func TestExternalModeMigratesAcrossServeProcesses(t *testing.T) {
	ext, err := topology.NewExternal(externalHosts(t, []string{"s1", "s2"}), "")
	if err != nil {
		t.Fatal(err)
	}
	res := runExternal(t, ext, loadNamed(t, "../../scenarios/migration", "migration-in-batch"))
	kinds := map[string]string{}
	for _, e := range res.History {
		if strings.HasPrefix(e.Kind, "migration.") && e.Source == history.SrcServer {
			kinds[e.Kind] = e.Server
		}
	}
	if kinds[history.KindMigrationHandoff] != "s1" || kinds[history.KindMigrationResume] != "s2" {
		t.Errorf("want s1's handoff and s2's resume in the history, got %v", kinds)
	}
}

// Routing: instances hosted by serve, reset from session servers to the
// scenario's kind through the API, on their fixed addresses.
func TestExternalModeRoutesOverHostedInstances(t *testing.T) {
	ext, err := topology.NewExternal(externalHosts(t, []string{"s1,s2,s3"}), "")
	if err != nil {
		t.Fatal(err)
	}
	res := runExternal(t, ext, loadNamed(t, "../../scenarios/routing", "routing-one-cut"))
	receipts := map[string]int{}
	for _, e := range res.History {
		if e.Kind == "route.receive" {
			receipts[e.Server]++
		}
	}
	if len(receipts) != 3 {
		t.Errorf("receipts by instance: %v, want all three", receipts)
	}
}

// A process-fault scenario is not run in external mode: each of its checks
// is UNSUPPORTED with the reason, nothing is started, nothing FAILED.
func TestExternalModeReportsProcessFaultsUnsupported(t *testing.T) {
	ext, err := topology.NewExternal(external(t), "")
	if err != nil {
		t.Fatal(err)
	}
	sc := loadNamed(t, "../../scenarios/process", "process-kill-failover")
	res := runner.Run(context.Background(), sc, runner.Config{Driver: godriver.Factory(1), Topology: ext})
	if len(res.Checks) != len(sc.Expect)+len(check.UniversalsFor(sc)) || res.Failed() || len(res.History) != 0 || len(res.Problems) != 0 {
		t.Fatalf("checks %+v, history %d events, problems %v", res.Checks, len(res.History), res.Problems)
	}
	for _, c := range res.Checks {
		if c.Verdict != check.Unsupported || !strings.Contains(c.Detail, topology.ProcessFaultReason) || !strings.Contains(c.Detail, "s1, s2") {
			t.Errorf("%s %s: %s %q", c.Requirement, c.Check, c.Verdict, c.Detail)
		}
	}
	if why := topology.Refuses(nil, sc); why != "" {
		t.Errorf("embedded (nil topology) refuses: %q", why)
	}
}

// Behind Docker's userland proxy (the compose file's published ports) a
// throttled link cannot push back on the router: routing-throttled is
// UNSUPPORTED there, the other routing scenarios run; without the proxy
// it runs too.
func TestExternalModeRefusesBackPressureBehindTheUserlandProxy(t *testing.T) {
	compose, err := topology.NewExternal("../../docker/external.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	direct, err := topology.NewExternal(external(t), "")
	if err != nil {
		t.Fatal(err)
	}
	throttled := loadNamed(t, "../../scenarios/routing", "routing-throttled")
	cut := loadNamed(t, "../../scenarios/routing", "routing-one-cut")
	if why := compose.Refuses(throttled); why != topology.BackPressureReason {
		t.Errorf("compose, throttled: %q", why)
	}
	if why := compose.Refuses(cut) + direct.Refuses(throttled); why != "" {
		t.Errorf("refused: %q", why)
	}
}
