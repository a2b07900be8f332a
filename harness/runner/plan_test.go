package runner

import (
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
)

// A hello that can be judged by the scenario plans nothing: the scenario
// must run. A requirement left UNIMPLEMENTED is not enough while another
// result (the universal U1 here, which needs no feature) can be judged.
func TestPlanRunsWhatCanYieldAVerdict(t *testing.T) {
	for _, tc := range []struct {
		name  string
		src   string
		hello driver.Hello
	}{
		{"its protocol, its features", small, driver.Hello{SDK: "js", Version: "2", Features: []string{driver.FeatReconnect}}},
		{"no feature at all, but U1 is judged", small, driver.Hello{SDK: "js", Version: "2"}},
		{"a nats driver, a nats scenario", natsSmall, driver.Hello{SDK: "nats.go", Version: "1", Protocol: "nats", Features: []string{driver.FeatReconnect}}},
		{"a router with routing", routedSrc, driver.Hello{SDK: "r", Version: "1", Features: []string{driver.FeatRouting}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checks, why := Plan(tc.hello, load(t, tc.src))
			if checks != nil || why != "" {
				t.Errorf("Plan = %d result(s), %q; want the scenario run", len(checks), why)
			}
		})
	}
}

// Another protocol: every result UNIMPLEMENTED, naming both protocols, as
// Run says it after bringing the topology up (notSpoken).
func TestPlanAnotherProtocol(t *testing.T) {
	sc := load(t, small)
	hello := driver.Hello{SDK: "nats.go", Version: "v1.56.0", Protocol: "nats", Features: []string{driver.FeatReconnect}}
	checks, why := Plan(hello, sc)
	const want = "nats.go v1.56.0 speaks nats; the scenario's servers speak faultline"
	if why != want {
		t.Errorf("why = %q, want %q", why, want)
	}
	notSpokenCovers(t, sc, checks, want)
	res, ops := protocolRun(t, sc, hello)
	if ops != 0 || !reflect.DeepEqual(res.Checks, checks) {
		t.Errorf("Run sent %d op(s) and gave %+v; Plan gave %+v", ops, res.Checks, checks)
	}
}

// Every requirement needs a feature the hello lacks (a router's T1 without
// routing; a router has no U1): every result UNIMPLEMENTED, each with the
// judge's own words, and the very results a run of the scenario gives.
func TestPlanMissingFeatures(t *testing.T) {
	sc := load(t, routedSrc)
	hello := driver.Hello{SDK: "lib", Version: "3", Features: []string{driver.FeatReconnect}}
	checks, why := Plan(hello, sc)
	if why != `lib 3 does not declare the "routing" feature` {
		t.Errorf("why = %q", why)
	}
	if len(checks) != len(sc.Expect) || len(checks) == 0 {
		t.Fatalf("%d result(s) for %d expect(s)", len(checks), len(sc.Expect))
	}
	for _, c := range checks {
		if c.Verdict != check.Unimplemented || !strings.Contains(c.Detail, `does not declare the "routing" feature`) || c.Scenario != sc.Name {
			t.Errorf("%s %s: %s %q", c.Requirement, c.Check, c.Verdict, c.Detail)
		}
	}
	res, _ := protocolRun(t, sc, hello)
	if !reflect.DeepEqual(res.Checks, checks) {
		t.Errorf("Run gave\n%+v\nPlan gave\n%+v", res.Checks, checks)
	}
	// and a saved run judged again (faultline check) agrees
	if again := Rejudge(sc, Saved{Hello: hello, HelloOK: true}); !reflect.DeepEqual(again, checks) {
		t.Errorf("Rejudge gave %+v", again)
	}
}
