package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/scenario"
)

// stub is a driver whose behaviour a test scripts.
type stub struct {
	hello driver.Hello
	do    func(ctx context.Context, op driver.Op) (driver.Reply, error)
}

func (s *stub) Hello() driver.Hello { return s.hello }
func (s *stub) Do(ctx context.Context, op driver.Op) (driver.Reply, error) {
	return s.do(ctx, op)
}
func (s *stub) Close(context.Context) error { return nil }

const small = `
name: small
covers: [R8]
servers:
  - {name: s1}
client:
  servers: [s1]
steps:
  - {at: 0s, client: connect}
  - {at: 100ms, client: close}
duration: 400ms
expect:
  - {check: deliberate_close, requirement: R8, by: client}
`

func load(t *testing.T, src string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Parse("small.yaml", []byte(src), Registry())
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestHungDriverIsFailedWithEvidenceAndBounded(t *testing.T) {
	sc := load(t, small)
	hang := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return &stub{hello: driver.Hello{SDK: "hangs", Features: []string{driver.FeatReconnect}},
			do: func(ctx context.Context, op driver.Op) (driver.Reply, error) {
				<-ctx.Done() // never answers
				return driver.Reply{}, ctx.Err()
			}}, nil
	}
	start := time.Now()
	res := Run(context.Background(), sc, Config{Driver: hang, OpTimeout: 300 * time.Millisecond, Teardown: time.Second})
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("run took %v: a hung driver must not hang the run", el)
	}
	// The expect entry and every universal check: all FAILED with the evidence.
	if len(res.Checks) != 1+len(check.UniversalsFor(sc)) {
		t.Fatalf("want the expect entry and the universal checks, got %+v", res.Checks)
	}
	for _, c := range res.Checks {
		if c.Verdict != check.Failed || !strings.Contains(c.Detail, "op connect") {
			t.Fatalf("want FAILED with the op that hung, got %+v", c)
		}
	}
	if !strings.Contains(res.Checks[0].Detail, "op connect") {
		t.Errorf("detail should carry the evidence (the op that hung): %q", res.Checks[0].Detail)
	}
}

func TestUndeclaredFeatureIsUnimplemented(t *testing.T) {
	sc := load(t, small)
	bare := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return &stub{hello: driver.Hello{SDK: "bare"}, do: func(ctx context.Context, op driver.Op) (driver.Reply, error) {
			return driver.Reply{Re: op.ID, OK: false, Error: "unsupported"}, nil
		}}, nil
	}
	res := Run(context.Background(), sc, Config{Driver: bare})
	if len(res.Checks) != 1+len(check.UniversalsFor(sc)) || res.Checks[0].Verdict != check.Unimplemented {
		t.Fatalf("want UNIMPLEMENTED, got %+v", res.Checks)
	}
	// The universal rules need no feature: they are judged all the same (a
	// driver that refuses to connect with no fault in force is FAILED).
	for _, c := range res.Checks[1:] {
		if c.Verdict == check.Unimplemented || c.Verdict == check.OK {
			t.Errorf("universal %s: %s %s", c.Check, c.Verdict, c.Detail)
		}
	}
}

func TestStepsFireOnScheduleAndTopologyIsRecorded(t *testing.T) {
	sc := load(t, small)
	var ops []string
	rec := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return &stub{hello: driver.Hello{SDK: "rec", Features: []string{driver.FeatReconnect}},
			do: func(ctx context.Context, op driver.Op) (driver.Reply, error) {
				ops = append(ops, op.Op)
				if op.Op == driver.OpConnect && (len(op.Servers) != 1 || !strings.HasPrefix(op.Servers[0], "ws://127.0.0.1:")) {
					t.Errorf("connect servers = %v, want the link's ws URL", op.Servers)
				}
				return driver.Reply{Re: op.ID, OK: true}, nil
			}}, nil
	}
	res := Run(context.Background(), sc, Config{Driver: rec})
	if strings.Join(ops, ",") != "connect,close" {
		t.Fatalf("ops = %v", ops)
	}
	var closeAt time.Duration
	for _, e := range res.History {
		if e.Kind == "op" && e.Op == "close" {
			closeAt = e.T
		}
	}
	if closeAt < 100*time.Millisecond || closeAt > 150*time.Millisecond {
		t.Errorf("close op fired at %v, scheduled at 100ms", closeAt)
	}
	// the stub never reached the server: the check must not pass on its word
	if res.Checks[0].Verdict != check.Failed {
		t.Errorf("a driver that only claims must not pass: %+v", res.Checks[0])
	}
}
