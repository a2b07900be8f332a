package runner

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

const migSmall = `
name: mig-small
covers: [M4]
servers:
  - {name: s1}
  - {name: s2}
client:
  servers: [s1]
steps:
  - {at: 0s, client: connect}
  - {at: 50ms, client: {request: {rows: 7, every: 4ms}}}
  - {at: 100ms, client: {cancel: true}}
  - {at: 150ms, server: s1, migrate: {to: s2, hold: 10ms}}
  - {at: 200ms, server: s1, migrate: {cancel: true}}
duration: 400ms
expect:
  - {check: cancel_acknowledged, requirement: M4}
`

// The runner sends request and cancel ops (a cancel names the latest
// request's op id) and records their rows and request, and runs migrate
// steps (to, re-target, cancel) on the servers without a problem.
func TestMigrationStepsAndOps(t *testing.T) {
	sc := load(t, migSmall)
	var mu sync.Mutex
	var ops []driver.Op
	drv := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return &stub{hello: driver.Hello{SDK: "stub", Features: []string{driver.FeatMigration}},
			do: func(ctx context.Context, op driver.Op) (driver.Reply, error) {
				mu.Lock()
				ops = append(ops, op)
				mu.Unlock()
				return driver.Reply{Re: op.ID, OK: true}, nil
			}}, nil
	}
	res := Run(context.Background(), sc, Config{Driver: drv, OpTimeout: time.Second, Teardown: time.Second})
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ops) != 3 || ops[1].Op != driver.OpRequest || ops[1].Rows != 7 || ops[2].Op != driver.OpCancel || ops[2].Request != ops[1].ID {
		t.Fatalf("ops %+v", ops)
	}
	var reqOp, cancelOp bool
	for _, e := range res.History {
		if e.Kind == history.KindOp && e.Op == driver.OpRequest && e.Attr("rows") == "7" {
			reqOp = true
		}
		if e.Kind == history.KindOp && e.Op == driver.OpCancel && e.Attr("request") == "2" {
			cancelOp = true
		}
	}
	if !reqOp || !cancelOp {
		t.Fatalf("op events must carry rows and request:\n%s", res.History)
	}
}
