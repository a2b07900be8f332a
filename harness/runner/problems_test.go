package runner

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
)

func TestManyFailingDriversAreCappedInTheDetail(t *testing.T) {
	sc := load(t, manyClients(t, 8))
	broken := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return &stub{hello: driver.Hello{SDK: "crashes", Features: []string{driver.FeatReconnect}},
			do: func(ctx context.Context, op driver.Op) (driver.Reply, error) {
				return driver.Reply{}, fmt.Errorf("%w: exited unexpectedly: exit status 2", driver.ErrDriver)
			}}, nil
	}
	res := Run(context.Background(), sc, Config{Driver: broken})
	if len(res.Problems) != 8 {
		t.Fatalf("want a problem per client, got %d: %v", len(res.Problems), res.Problems)
	}
	d := res.Checks[0].Detail
	if res.Checks[0].Verdict != check.Failed || strings.Count(d, "exit status 2") != maxProblems || !strings.Contains(d, "… and 3 more problem(s)") {
		t.Errorf("detail: %s", d)
	}
}
