package runner

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// T6 (service discovery) is judged for a router (feature routing) and for
// a client that follows the servers its server advertises (feature
// discovery, a NATS client); discovery opens no other T requirement, and a
// driver with neither is UNIMPLEMENTED on T6, the detail naming both.
func TestDiscoveryFeatureGatesT6(t *testing.T) {
	sc := &scenario.Scenario{Name: "gate", Clients: 1, Expect: []scenario.Expect{
		{Check: "discovery_membership", Requirement: "T6"},
		{Check: "round_robin", Requirement: "T1"},
	}}
	verdicts := func(features ...string) map[string]check.Result {
		out := map[string]check.Result{}
		for _, r := range judge(sc, history.History{}, driver.Hello{SDK: "lib", Version: "v1", Features: features}, true, nil) {
			out[r.Requirement] = r.Result
		}
		return out
	}
	for _, tc := range []struct {
		features []string
		t6Judged bool
		t1Judged bool
		t6Detail string
	}{
		{[]string{"routing"}, true, true, ""},
		{[]string{"reconnect", "discovery"}, true, false, ""},
		{[]string{"reconnect"}, false, false, `does not declare the "routing" or "discovery" feature`},
	} {
		got := verdicts(tc.features...)
		if judged := got["T6"].Verdict != check.Unimplemented; judged != tc.t6Judged {
			t.Errorf("features %v: T6 %s %s", tc.features, got["T6"].Verdict, got["T6"].Detail)
		}
		if judged := got["T1"].Verdict != check.Unimplemented; judged != tc.t1Judged {
			t.Errorf("features %v: T1 %s %s", tc.features, got["T1"].Verdict, got["T1"].Detail)
		}
		if tc.t6Detail != "" && !strings.Contains(got["T6"].Detail, tc.t6Detail) {
			t.Errorf("features %v: T6 detail %q lacks %q", tc.features, got["T6"].Detail, tc.t6Detail)
		}
	}
	if d := verdicts("discovery")["T1"].Detail; !strings.Contains(d, `does not declare the "routing" feature`) {
		t.Errorf("T1 detail %q", d)
	}
}
