package selftest

import (
	"fmt"
	"io"
	"strings"

	"github.com/faultline/faultline/harness/driver"
)

// A step's outcome.
const (
	Pass = "PASS"
	Fail = "FAIL"
	Skip = "SKIP" // not run: the summary says why
)

// Step is one named check of the self-test.
type Step struct {
	Name   string
	Status string
	// Summary is one line: what was checked and what was seen (for a skip,
	// why it was not run).
	Summary string
	// Problems each name the offending line (quoted, truncated) or the op
	// and say what was expected. Any problem fails the step.
	Problems []string
	// Notes are remarks that fail nothing.
	Notes []string
}

func (s *Step) fail(format string, args ...any) {
	s.Problems = append(s.Problems, fmt.Sprintf(format, args...))
}

func (s *Step) note(format string, args ...any) {
	s.Notes = append(s.Notes, fmt.Sprintf(format, args...))
}

func (s *Step) skip(format string, args ...any) {
	s.Status, s.Summary = Skip, fmt.Sprintf(format, args...)
}

// Report is the self-test's result.
type Report struct {
	Command string
	Hello   *driver.Hello // nil: no well-formed hello
	Steps   []Step
	// Stderr is the tail of the driver's stderr, kept for a failed test.
	Stderr string
}

// Failed reports whether a step failed.
func (r *Report) Failed() bool {
	for _, s := range r.Steps {
		if s.Status == Fail {
			return true
		}
	}
	return false
}

// Write renders the report as a short list, one line a step, its problems
// and notes under it.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "driver-test: %s\n", r.Command)
	width := 0
	for _, s := range r.Steps {
		width = max(width, len(s.Name))
	}
	n := map[string]int{}
	pad := strings.Repeat(" ", width+7)
	for _, s := range r.Steps {
		n[s.Status]++
		fmt.Fprintf(w, "%s  %-*s  %s\n", s.Status, width, s.Name, s.Summary)
		for _, p := range s.Problems {
			fmt.Fprintf(w, "%s- %s\n", pad, p)
		}
		for _, x := range s.Notes {
			fmt.Fprintf(w, "%snote: %s\n", pad, x)
		}
	}
	verdict := "every step passed"
	if r.Failed() {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped: %s\n", n[Pass], n[Fail], n[Skip], verdict)
	if r.Failed() {
		if r.Stderr == "" {
			fmt.Fprintln(w, "driver stderr: (empty)")
		} else {
			fmt.Fprintf(w, "driver stderr (last %d bytes at most):\n%s", stderrKept, indent(r.Stderr))
		}
	}
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "  | " + strings.ReplaceAll(s, "\n", "\n  | ") + "\n"
}
