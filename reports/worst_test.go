package reports

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/check"
)

// A requirement's verdict is read over the scenarios that apply to the SDK:
// the UNIMPLEMENTED results of a scenario in another protocol take nothing
// from an OK where the SDK was judged, and still show when nothing else
// judged the requirement; a feature the SDK lacks in a scenario it speaks
// still outranks an OK.
func TestWorstReadsOnlyTheScenariosThatApply(t *testing.T) {
	r := &Report{
		Scenarios: []Scenario{{Name: "own"}, {Name: "nats", NotSpoken: "go speaks faultline; the scenario's servers speak nats"}, {Name: "own-lacking"}},
		Results: []Result{
			{Scenario: "own", Requirement: "R2", Verdict: check.OK},
			{Scenario: "nats", Requirement: "R2", Verdict: check.Unimplemented},
			{Scenario: "nats", Requirement: "R9", Verdict: check.Unimplemented},
			{Scenario: "own", Requirement: "M1", Verdict: check.OK},
			{Scenario: "own-lacking", Requirement: "M1", Verdict: check.Unimplemented},
			{Scenario: "nats", Requirement: "U1", Verdict: check.Unimplemented},
			{Scenario: "own", Requirement: "U1", Verdict: check.Failed},
		},
	}
	for req, want := range map[string]string{"R2": check.OK, "R9": check.Unimplemented, "M1": check.Unimplemented, "U1": check.Failed, "T1": ""} {
		if got := r.Worst(req); got != want {
			t.Errorf("Worst(%s) = %q, want %q", req, got, want)
		}
	}
	md := string(r.Summary())
	if !strings.Contains(md, "R2") || strings.Contains(lineOf(md, "| R2 "), check.Unimplemented) {
		t.Errorf("summary.md's R2 row reads UNIMPLEMENTED:\n%s", lineOf(md, "| R2 "))
	}
}

func lineOf(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
