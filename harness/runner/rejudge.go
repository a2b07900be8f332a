package runner

import (
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// Saved is what a report keeps of one scenario run: enough to judge its
// history again, offline, as Jepsen re-analyses a stored test (faultline
// check).
type Saved struct {
	History history.History
	// Hello is what the scenario's drivers declared; HelloOK is false when
	// they never said hello (then no requirement is UNIMPLEMENTED: the run's
	// problems say why it failed).
	Hello   driver.Hello
	HelloOK bool
	// Problems are the harness's and drivers' failures: any makes every
	// check FAILED ("the run did not go as scheduled"), as in the run.
	Problems []string
	// Unsupported, when set, is why the mode refused the scenario: nothing
	// ran, and each check is UNSUPPORTED with this reason, as in the run.
	Unsupported string
}

// Rejudge judges a saved run again with today's checkers and sc (the
// scenario as run, or an edited copy). It is the runner's own judge, so a
// history judged twice with one scenario gets the same verdicts, details
// and measurements.
func Rejudge(sc *scenario.Scenario, s Saved) []CheckResult {
	if s.Unsupported != "" {
		return unsupported(sc, s.Unsupported).Checks
	}
	if why := speaks(s.Hello, sc); s.HelloOK && why != "" { // protocol.go: not run, as in the run
		return notSpoken(sc, why)
	}
	return judge(sc, s.History, s.Hello, s.HelloOK, s.Problems)
}
