package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// panicky is a checker that breaks: the harness's fault, never the SDK's.
type panicky struct{}

func (panicky) Check(check.Input) check.Result { panic("index out of range") }

// A checker that panics gives UNKNOWN (the harness could not judge), which
// fails the run like FAILED but says whose fault it is; an unknown checker
// likewise.
func TestABrokenCheckerIsUnknown(t *testing.T) {
	r := safeCheck(scenario.Expect{Check: "panicky", Params: panicky{}}, check.Input{History: history.History{}, Scenario: &scenario.Scenario{}})
	if r.Verdict != check.Unknown || !strings.Contains(r.Detail, "checker panicky panicked: index out of range") {
		t.Fatalf("got %s: %.120s", r.Verdict, r.Detail)
	}
	r = safeCheck(scenario.Expect{Check: "no_such_check"}, check.Input{})
	if r.Verdict != check.Unknown || r.Detail != "unknown checker no_such_check" {
		t.Fatalf("got %s: %s", r.Verdict, r.Detail)
	}
	res := Result{Checks: []CheckResult{{Result: check.Result{Verdict: check.OK}}, {Result: r}}}
	if !res.Failed() {
		t.Error("an UNKNOWN result must fail the run")
	}
}

// A fault the harness could not put in place as asked (a 1.5s cut that came
// into force 3.2s late, on a machine standing still) makes every judged
// result UNKNOWN, a FAILED included: the SDK was judged against a fault the
// scenario never asked for. What the check said is kept in the detail.
func TestAFaultOutOfTimeMakesEveryResultUnknown(t *testing.T) {
	sc := load(t, `
name: late
covers: [R4]
servers:
  - {name: s1}
client:
  servers: [s1]
steps:
  - {at: 0s, client: connect}
  - {at: 8s, link: s1, fault: cut, for: 1500ms}
expect:
  - {check: reconnect_window, requirement: R4, within: 1ms}
`)
	late := history.History{
		{T: 11199 * time.Millisecond, Source: history.SrcLink, Kind: history.KindFaultOn, Link: "s1", Verb: "cut",
			Attrs: map[string]string{"id": "1", "apply_ms": "3198.7"}},
		{T: 11522 * time.Millisecond, Source: history.SrcLink, Kind: history.KindFaultOff, Link: "s1", Verb: "cut",
			Attrs: map[string]string{"id": "1"}},
	}
	for _, cr := range judge(sc, late, driver.Hello{SDK: "x", Features: []string{driver.FeatReconnect}}, true, nil) {
		if cr.Verdict != check.Unknown || !strings.Contains(cr.Detail, "the harness could not hold the timeline: cut on s1, due at 8000.0ms for 1.5s") ||
			!strings.Contains(cr.Detail, "judged anyway:") {
			t.Errorf("%s %s: %s %s", cr.Requirement, cr.Check, cr.Verdict, cr.Detail)
		}
	}
	// The same fault in place on time: judged as usual (here: nothing to
	// judge, since no client recovered from it).
	onTime := history.History{late[0], late[1]}
	onTime[0].T, onTime[0].Attrs = 8200*time.Millisecond, map[string]string{"id": "1", "apply_ms": "199.9"}
	onTime[1].T = 9500 * time.Millisecond
	for _, cr := range judge(sc, onTime, driver.Hello{SDK: "x", Features: []string{driver.FeatReconnect}}, true, nil) {
		if strings.Contains(cr.Detail, "could not hold the timeline") {
			t.Errorf("%s %s: %s %s", cr.Requirement, cr.Check, cr.Verdict, cr.Detail)
		}
	}
}
