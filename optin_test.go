package faultline_test

import (
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// optInLabel marks scenarios too heavy for the default suite (the
// 10,000-client scenarios/scale/ten-thousand.yaml: about 41,000 open files
// and minutes of judging, more again under -race). They run when a label
// filter names the label: -ginkgo.label-filter=opt-in.
const optInLabel = "opt-in"

func skipOptIn(sc *scenario.Scenario) {
	if slices.Contains(sc.Labels, optInLabel) && !strings.Contains(GinkgoLabelFilter(), optInLabel) {
		Skip(sc.Name + " is opt-in: run it with -ginkgo.label-filter=" + optInLabel)
	}
}

// skipNotRun skips a scenario the runner refused on this machine (every
// check UNSUPPORTED: more clients than this process may hold open files
// for, harness/runner/fds.go), saying why.
func skipNotRun(res *runner.Result) {
	for _, c := range res.Checks {
		if c.Verdict != check.Unsupported {
			return
		}
	}
	if len(res.Checks) > 0 {
		Skip("UNSUPPORTED here: " + res.Checks[0].Detail)
	}
}
