// Package matchers holds faultline's Gomega matchers. Their failure messages
// say what was expected, what was measured, and show the slice of the
// timeline around the moment the verdict hinged on.
package matchers

import (
	"fmt"
	"strings"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/runner"
)

// Window is how much timeline a failure message shows on each side.
const Window = 400 * time.Millisecond

// maxLines bounds the timeline slice in a failure message.
const maxLines = 60

// Verdict is a check result together with the history it was judged on.
type Verdict struct {
	Check   runner.CheckResult
	History history.History
}

// HaveVerdict succeeds when the check's verdict is one of want.
func HaveVerdict(want ...string) types.GomegaMatcher { return &verdictMatcher{want: want} }

// Conform succeeds for OK, NON-STRICT and INFORMATIONAL: conformant results.
func Conform() types.GomegaMatcher {
	return &verdictMatcher{want: []string{check.OK, check.NonStrict, check.Informational}}
}

type verdictMatcher struct{ want []string }

func (m *verdictMatcher) Match(actual any) (bool, error) {
	v, ok := actual.(Verdict)
	if !ok {
		return false, fmt.Errorf("HaveVerdict expects a matchers.Verdict, got %T", actual)
	}
	for _, w := range m.want {
		if v.Check.Verdict == w {
			return true, nil
		}
	}
	return false, nil
}

func (m *verdictMatcher) FailureMessage(actual any) string {
	v := actual.(Verdict)
	return fmt.Sprintf("expected %s %s (%s) to be %s, it is %s\n%s",
		v.Check.Requirement, v.Check.Check, v.Check.Scenario, strings.Join(m.want, " or "), v.Check.Verdict, Explain(v))
}

func (m *verdictMatcher) NegatedFailureMessage(actual any) string {
	v := actual.(Verdict)
	return fmt.Sprintf("expected %s %s (%s) not to be %s\n%s", v.Check.Requirement, v.Check.Check, v.Check.Scenario, v.Check.Verdict, Explain(v))
}

// Explain renders a result: detail, measurements (measured vs expected, with
// evidence) and the timeline around the verdict's moment.
func Explain(v Verdict) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  detail: %s\n", v.Check.Detail)
	for _, m := range v.Check.Measurements {
		fmt.Fprintf(&b, "  measured %s = %.3f %s", m.Name, m.Value, m.Unit)
		if m.Expected != "" {
			fmt.Fprintf(&b, " (expected %s)", m.Expected)
		}
		fmt.Fprintf(&b, " [evidence: %s]\n", m.Evidence)
	}
	slice := v.History.Around(v.Check.At, Window)
	fmt.Fprintf(&b, "  timeline around %.1fms (±%v):\n", check.Ms(v.Check.At), Window)
	for i, e := range slice {
		if i == maxLines {
			fmt.Fprintf(&b, "    … %d more events\n", len(slice)-maxLines)
			break
		}
		b.WriteString("    " + e.String() + "\n")
	}
	return b.String()
}
