package runner

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/scenario"
)

// natsSmall is small over the fake NATS server (packs/nats, registered by
// importing the runner).
const natsSmall = `
name: nats-small
covers: [R8]
servers:
  - {name: s1, kind: nats}
client:
  servers: [s1]
steps:
  - {at: 0s, client: connect}
  - {at: 100ms, client: close}
duration: 400ms
expect:
  - {check: deliberate_close, requirement: R8, by: client}
`

// realSmall is small over the embedded nats-server.
var realSmall = strings.NewReplacer("name: nats-small", "name: real-small", "kind: nats}", "kind: nats-server}").Replace(natsSmall)

func TestTheNATSKindsAreRegistered(t *testing.T) {
	for _, name := range []string{"nats", "nats-server"} {
		k, ok := fakeserver.LookupKind(name)
		if !ok || k.Protocol != "nats" || k.Scheme != "nats" {
			t.Errorf("kind %q: %+v, %v; want protocol and scheme nats", name, k, ok)
		}
	}
	if k, ok := fakeserver.LookupKind("session"); !ok || k.Protocol != fakeserver.OwnProtocol {
		t.Errorf("session kind: %+v, %v", k, ok)
	}
}

func TestSpeaks(t *testing.T) {
	ws, nats, real := load(t, small), load(t, natsSmall), load(t, realSmall)
	natsHello := driver.Hello{SDK: "nats.go", Version: "v1.56.0", Protocol: "nats"}
	for _, tc := range []struct {
		name  string
		hello driver.Hello
		sc    *scenario.Scenario
		want  string
	}{
		{"no protocol is faultline's own", driver.Hello{SDK: "js", Version: "2.0"}, ws, ""},
		{"faultline named", driver.Hello{SDK: "js", Version: "2.0", Protocol: "faultline"}, ws, ""},
		{"nats driver, nats scenario", natsHello, nats, ""},
		{"nats driver, nats-server scenario", natsHello, real, ""},
		{"nats driver, session scenario", natsHello, ws,
			"nats.go v1.56.0 speaks nats; the scenario's servers speak faultline"},
		{"no protocol, nats scenario", driver.Hello{SDK: "js", Version: "2.0"}, nats,
			"js 2.0 speaks faultline; the scenario's servers speak nats"},
		{"faultline named, nats-server scenario", driver.Hello{SDK: "js", Version: "2.0", Protocol: "faultline"}, real,
			"js 2.0 speaks faultline; the scenario's servers speak nats"},
		{"another protocol, session scenario", driver.Hello{SDK: "mq", Version: "1", Protocol: "mqtt"}, ws,
			"mq 1 speaks mqtt; the scenario's servers speak faultline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := speaks(tc.hello, tc.sc); got != tc.want {
				t.Errorf("speaks = %q, want %q", got, tc.want)
			}
		})
	}
}

// The protocols are those of the servers the client dials, not of every
// server the scenario declares.
func TestSpeaksLooksAtTheClientsServers(t *testing.T) {
	sc := load(t, strings.Replace(small, "  - {name: s1}\n", "  - {name: s1}\n  - {name: n1, kind: nats}\n", 1))
	if why := speaks(driver.Hello{SDK: "js", Version: "2.0"}, sc); why != "" {
		t.Errorf("a faultline driver dialling s1 only: %q", why)
	}
	if why := speaks(driver.Hello{SDK: "nats.go", Version: "v1", Protocol: "nats"}, sc); why != "nats.go v1 speaks nats; the scenario's servers speak faultline" {
		t.Errorf("a nats driver dialling s1 only: %q", why)
	}
}

// notSpokenCovers checks that res holds every expect and universal of sc,
// each UNIMPLEMENTED with why, and U1's lifecycle among them.
func notSpokenCovers(t *testing.T, sc *scenario.Scenario, checks []CheckResult, why string) {
	t.Helper()
	if want := len(sc.Expect) + len(check.UniversalsFor(sc)); len(checks) != want {
		t.Fatalf("%d results, want %d (the expects and the universals): %+v", len(checks), want, checks)
	}
	u1 := false
	for i, c := range checks {
		if c.Verdict != check.Unimplemented || c.Detail != why {
			t.Errorf("result %d %s %s: %s %q, want UNIMPLEMENTED %q", i, c.Requirement, c.Check, c.Verdict, c.Detail, why)
		}
		if c.Scenario != sc.Name || c.File != sc.File || c.Measurements == nil {
			t.Errorf("result %d: %+v", i, c)
		}
		if i < len(sc.Expect) && (c.Check != sc.Expect[i].Check || c.Requirement != sc.Expect[i].Requirement) {
			t.Errorf("result %d is %s %s, want the expect %s %s", i, c.Requirement, c.Check, sc.Expect[i].Requirement, sc.Expect[i].Check)
		}
		u1 = u1 || c.Requirement == "U1" && c.Check == "lifecycle"
	}
	if !u1 {
		t.Errorf("no U1 lifecycle result: %+v", checks)
	}
}

func TestNotSpoken(t *testing.T) {
	for _, src := range []string{small, natsSmall} {
		sc := load(t, src)
		const why = "x 1 speaks y; the scenario's servers speak z"
		notSpokenCovers(t, sc, notSpoken(sc, why), why)
	}
}

// protocolRun runs sc with a stub driver of hello, counting the ops it is
// sent.
func protocolRun(t *testing.T, sc *scenario.Scenario, hello driver.Hello) (*Result, int64) {
	t.Helper()
	var ops atomic.Int64
	drv := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return &stub{hello: hello, do: func(ctx context.Context, op driver.Op) (driver.Reply, error) {
			ops.Add(1)
			return driver.Reply{Re: op.ID, OK: true}, nil
		}}, nil
	}
	start := time.Now()
	res := Run(context.Background(), sc, Config{Driver: drv, OpTimeout: 2 * time.Second, Teardown: 2 * time.Second})
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("run took %v", el)
	}
	return res, ops.Load()
}

func TestANATSDriverIsNotRunAgainstSessionScenarios(t *testing.T) {
	sc := load(t, small)
	hello := driver.Hello{SDK: "nats.go", Version: "v1.56.0", Protocol: "nats", Features: []string{driver.FeatReconnect}}
	res, ops := protocolRun(t, sc, hello)
	if ops != 0 {
		t.Errorf("the driver was sent %d op(s): the timeline must not run", ops)
	}
	if len(res.Problems) > 0 || len(res.History) > 0 {
		t.Errorf("problems %v, %d events: want none", res.Problems, len(res.History))
	}
	if res.Hello.Protocol != "nats" || res.Hello.SDK != "nats.go" {
		t.Errorf("hello %+v: the report must keep it", res.Hello)
	}
	notSpokenCovers(t, sc, res.Checks, "nats.go v1.56.0 speaks nats; the scenario's servers speak faultline")
	if res.NotSpoken != "nats.go v1.56.0 speaks nats; the scenario's servers speak faultline" {
		t.Errorf("NotSpoken %q: the result must say the scenario does not apply", res.NotSpoken)
	}
	if res.Failed() {
		t.Error("a scenario the driver cannot speak to must not fail the run")
	}
}

func TestASessionDriverIsNotRunAgainstNATSScenarios(t *testing.T) {
	sc := load(t, natsSmall)
	hello := driver.Hello{SDK: "js", Version: "2.0", Features: []string{driver.FeatReconnect}} // no protocol: faultline
	res, ops := protocolRun(t, sc, hello)
	if ops != 0 {
		t.Errorf("the driver was sent %d op(s): the timeline must not run", ops)
	}
	if len(res.Problems) > 0 {
		t.Errorf("problems %v", res.Problems)
	}
	notSpokenCovers(t, sc, res.Checks, "js 2.0 speaks faultline; the scenario's servers speak nats")
}

// A driver of the scenario's own protocol is run as always.
func TestADriverOfTheScenariosProtocolIsRun(t *testing.T) {
	sc := load(t, small)
	res, ops := protocolRun(t, sc, driver.Hello{SDK: "js", Version: "2.0", Protocol: "faultline", Features: []string{driver.FeatReconnect}})
	if ops == 0 {
		t.Fatal("the driver was sent no op: the timeline did not run")
	}
	if res.NotSpoken != "" {
		t.Errorf("NotSpoken %q on a scenario the driver speaks", res.NotSpoken)
	}
	for _, c := range res.Checks {
		if strings.Contains(c.Detail, " speaks ") {
			t.Errorf("%s %s: %s %q", c.Requirement, c.Check, c.Verdict, c.Detail)
		}
	}
}

// A scenario its mode refuses lists the results a run of it would give (its
// expects and the universals), each UNSUPPORTED with the reason: a
// scenario refused here and judged elsewhere line up in a merged matrix.
func TestUnsupportedListsWhatARunWould(t *testing.T) {
	sc := load(t, small)
	const why = "this process needs about 41256 open files"
	checks := unsupported(sc, why).Checks
	if want := len(sc.Expect) + len(check.UniversalsFor(sc)); len(checks) != want || want <= len(sc.Expect) {
		t.Fatalf("%d results, want %d (the expects and the universals): %+v", len(checks), want, checks)
	}
	for i, c := range checks {
		if c.Verdict != check.Unsupported || c.Detail != why || c.Measurements == nil {
			t.Errorf("result %d %s %s: %s %q, want UNSUPPORTED %q", i, c.Requirement, c.Check, c.Verdict, c.Detail, why)
		}
	}
	if last := checks[len(checks)-1]; last.Requirement != "U1" || last.Check != "lifecycle" {
		t.Errorf("last result %s %s, want U1 lifecycle", last.Requirement, last.Check)
	}
}
