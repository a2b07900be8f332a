package runner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/scenario"
)

// Plan is a scenario's results when the driver's hello alone decides them:
// every result UNIMPLEMENTED, whatever the run would record, because the
// driver speaks another protocol than the scenario's servers (speaks), or
// because every requirement the scenario judges, the universal checks'
// included, needs a feature the hello does not declare (missingFeature).
// They are the results Run would give (its own notSpoken and judge), with
// why, in a few words; nil and "" when the scenario must run to be judged.
// Pure: nothing is started. A topology that refuses the scenario
// (UNSUPPORTED) is Run's to say, before this.
func Plan(hello driver.Hello, sc *scenario.Scenario) ([]CheckResult, string) {
	if why := speaks(hello, sc); why != "" { // protocol.go
		return notSpoken(sc, why), why
	}
	expects := append([]scenario.Expect(nil), sc.Expect...)
	for _, u := range check.UniversalsFor(sc) {
		expects = append(expects, scenario.Expect{Check: u.Name, Requirement: u.Judges[0]})
	}
	if len(expects) == 0 {
		return nil, ""
	}
	var missing []string
	for _, ex := range expects {
		f := missingFeature(ex.Requirement, hello) // judge.go
		if f == "" {
			return nil, ""
		}
		if !slices.Contains(missing, f) {
			missing = append(missing, f)
		}
	}
	// The judge's own results, with no history: each is UNIMPLEMENTED before
	// any history is read, as in a run.
	out := judge(sc, nil, hello, true, nil)
	noun := "feature"
	if len(missing) > 1 {
		noun = "features"
	}
	return out, fmt.Sprintf("%s %s does not declare the %s %s", hello.SDK, hello.Version, strings.Join(missing, ", "), noun)
}
