package containers

import (
	"context"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/runner"
)

// Migration and routing across containers, on one topology: the target's
// container takes the context from the store in the source's container
// (migration-in-batch), the instances listen where their links dial
// (routing-throttled), and a throttled link pushes back on the router as in
// embedded mode (its T2, which failed about one run in three with the
// links container's receive buffers autotuned).
func TestMigrationAndRoutingRunAcrossContainers(t *testing.T) {
	needDocker(t)
	topo := New()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := topo.Close(ctx); err != nil {
			t.Error(err)
		}
		leftovers(t, topo)
	}()
	for _, want := range []struct{ dir, name, evidence string }{
		{"../../../scenarios/migration", "migration-in-batch", history.KindMigrationResume},
		{"../../../scenarios/routing", "routing-throttled", "route.receive"},
	} {
		scs, err := runner.Load(want.dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range scs {
			if sc.Name != want.name {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), sc.End()+time.Minute)
			res := runner.Run(ctx, sc, runner.Config{Driver: godriver.Factory(1), Topology: topo})
			cancel()
			if len(res.Problems) > 0 {
				t.Fatalf("%s: problems %v\n%s", sc.Name, res.Problems, res.History)
			}
			for _, c := range res.Checks {
				if c.Verdict != check.OK {
					t.Errorf("%s: %s %s: %s %s", sc.Name, c.Requirement, c.Check, c.Verdict, c.Detail)
				}
			}
			n := 0
			for _, e := range res.History {
				if e.Kind == want.evidence && e.Source == history.SrcServer {
					n++
				}
			}
			if n == 0 {
				t.Errorf("%s: no %s streamed from the containers", sc.Name, want.evidence)
			}
		}
	}
}
