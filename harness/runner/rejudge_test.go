package runner

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// savedOf is what a report keeps of a run, through JSON as report.json
// holds it.
func savedOf(t *testing.T, res *Result) Saved {
	t.Helper()
	b, err := json.Marshal(res.History)
	if err != nil {
		t.Fatal(err)
	}
	var h history.History
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return Saved{History: h, Hello: res.Hello, HelloOK: res.Hello.SDK != "", Problems: res.Problems}
}

func sameChecks(t *testing.T, what string, got, want []CheckResult) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results judged again, %d in the run", what, len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s: result %d differs\nrun:   %+v\nagain: %+v", what, i, want[i], got[i])
		}
	}
}

// TestRejudgeReproducesARealRun: a shipped scenario run with the Go engine,
// its history through JSON, judged again: the same results, field by field.
func TestRejudgeReproducesARealRun(t *testing.T) {
	sc, err := scenario.Load("../../scenarios/reconnect/reset-detection.yaml", Registry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sc.End()+30*time.Second)
	defer cancel()
	res := Run(ctx, sc, Config{Driver: godriver.Factory(1)})
	if len(res.Checks) < len(sc.Expect) {
		t.Fatalf("run: %+v", res.Checks)
	}
	again, err := scenario.Parse(sc.File, []byte(sc.Source), Registry()) // as faultline check loads it
	if err != nil {
		t.Fatal(err)
	}
	sameChecks(t, "real run", Rejudge(again, savedOf(t, res)), res.Checks)
}

// TestRejudgeKeepsTheRunsCircumstances: a run with problems, one whose
// driver lacks the feature, one whose drivers never said hello and one the
// mode refused come out as they did in the run.
func TestRejudgeKeepsTheRunsCircumstances(t *testing.T) {
	sc := load(t, small)
	hung := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return &stub{hello: driver.Hello{SDK: "hangs", Features: []string{driver.FeatReconnect}},
			do: func(ctx context.Context, op driver.Op) (driver.Reply, error) {
				<-ctx.Done()
				return driver.Reply{}, ctx.Err()
			}}, nil
	}
	bare := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return &stub{hello: driver.Hello{SDK: "bare"}, do: func(ctx context.Context, op driver.Op) (driver.Reply, error) {
			return driver.Reply{Re: op.ID, OK: false, Error: "unsupported"}, nil
		}}, nil
	}
	dead := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return nil, errors.New("exec: no such driver")
	}
	for _, c := range []struct {
		name    string
		factory driver.Factory
		want    string // the first result's verdict in the run
	}{
		{"problems", hung, check.Failed},
		{"undeclared feature", bare, check.Unimplemented},
		{"no hello", dead, check.Failed},
		// A driver of another protocol: nothing ran, each result says why
		// (a re-judge once turned them UNKNOWN: nothing to judge).
		{"another protocol", func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
			return &stub{hello: driver.Hello{SDK: "nats.go", Protocol: "nats", Features: []string{driver.FeatReconnect}},
				do: func(ctx context.Context, op driver.Op) (driver.Reply, error) {
					return driver.Reply{Re: op.ID, OK: true}, nil
				}}, nil
		}, check.Unimplemented},
	} {
		res := Run(context.Background(), sc, Config{Driver: c.factory, OpTimeout: 300 * time.Millisecond, Teardown: time.Second})
		if len(res.Checks) == 0 || res.Checks[0].Verdict != c.want {
			t.Fatalf("%s: the run gave %+v, want %s first", c.name, res.Checks, c.want)
		}
		sameChecks(t, c.name, Rejudge(sc, savedOf(t, res)), res.Checks)
	}

	// A driver that never said hello has no features: judged as if the
	// report's hello were its own, its check would read UNIMPLEMENTED.
	res := Run(context.Background(), sc, Config{Driver: dead})
	s := savedOf(t, res)
	s.Hello, s.HelloOK = driver.Hello{SDK: "bare"}, true
	if got := Rejudge(sc, s); got[0].Verdict != check.Unimplemented {
		t.Errorf("with a hello: %+v", got[0])
	}

	why := "the external mode cannot kill a server"
	sameChecks(t, "unsupported", Rejudge(sc, Saved{Unsupported: why}), unsupported(sc, why).Checks)
}
