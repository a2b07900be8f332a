package check

import (
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// stampSlack is how far apart two observers' records of one instant may be
// stamped. A link records fault.on only once the fault is in force and
// fault.off once it is gone, so a client or server reacting at once can be
// stamped a little before the link's own record.
const stampSlack = 10 * time.Millisecond

// lagOf is how late the history's server evidence may be stamped: the
// largest delay of events streamed from servers in other processes
// (containers, external mode), which the runner records as a harness lag
// event; 0 when the servers ran in the harness's own process.
func lagOf(h history.History) time.Duration {
	var lag time.Duration
	for _, e := range h {
		if e.Source == history.SrcHarness && e.Kind == history.KindLag {
			if d, err := time.ParseDuration(e.Attr("max")); err == nil && d > lag {
				lag = d
			}
		}
	}
	return lag
}

// base is what every view of a history starts from (view for the R, F, C
// and M checks, routeView for the T checks): the history and its scenario,
// its last stamp, the run's evidence lag, the links' fault spans (faults.go)
// and the memo of facts derived later (memo.go).
type base struct {
	h   history.History
	sc  *scenario.Scenario
	end time.Duration

	// lag is the run's evidence lag (lagOf), and slack stampSlack widened
	// by it: how far apart two observers' records of one instant may be in
	// this history. With in-process servers lag is 0 and slack stampSlack.
	lag, slack time.Duration

	faults []faultSpan
	memo   memo
}

func newBase(h history.History, sc *scenario.Scenario) base {
	b := base{h: h, sc: sc, lag: lagOf(h), faults: faultSpans(h), memo: memo{}}
	b.slack = stampSlack + b.lag
	for _, e := range h {
		b.end = max(b.end, e.T)
	}
	return b
}

// validator is what a checker's configuration implements when its params can
// be wrong (the scenario loader calls it too).
type validator interface{ Validate() error }

// admit validates a checker's configuration and its input; on a problem it
// returns the result to give.
func admit(in Input, cfg any) (Result, bool) {
	if val, ok := cfg.(validator); ok {
		if err := val.Validate(); err != nil {
			return Fail(0, nil, "bad parameters: %v", err), false
		}
	}
	if in.Scenario == nil {
		return Inconclusive(0, nil, "no scenario to judge the history against"), false
	}
	return Result{}, true
}

// begin is the prologue every R, F, C and M checker shares: admit its
// configuration and the input, then index the history.
func begin(in Input, cfg any) (*view, Result, bool) {
	if r, ok := admit(in, cfg); !ok {
		return nil, r, false
	}
	return newView(in.History, in.Scenario), Result{}, true
}

// onView is a checker's Check: check judges the view begin built, or begin's
// result is given.
func onView(in Input, cfg any, check func(*view) Result) Result {
	v, r, ok := begin(in, cfg)
	if !ok {
		return r
	}
	return check(v)
}
