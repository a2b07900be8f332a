package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// maxListed caps how many findings a detail lists before "… and N more".
const maxListed = 4

// judge accumulates a checker's findings and measurements into one Result:
// FAILED when any MUST was broken (At: the first failure), else NON-STRICT
// when a SHOULD was missed, else OK.
type judge struct {
	ms     []Measurement
	fails  []string
	failAt time.Duration
	soft   []string
	softAt time.Duration
	// unknowns are "nothing to judge" findings: the history lacks what the
	// rule speaks of. They make the result UNKNOWN unless something FAILED.
	unknowns  []string
	unknownAt time.Duration
	notes     []string
}

func (j *judge) measure(name string, value float64, unit, evidence, expected string) {
	j.ms = append(j.ms, Measurement{Name: name, Value: value, Unit: unit, Evidence: evidence, Expected: expected})
}

func (j *judge) measureMs(name string, d time.Duration, evidence, expected string) {
	j.measure(name, Ms(d), "ms", evidence, expected)
}

func (j *judge) count(name string, n int, evidence string) {
	j.measure(name, float64(n), "count", evidence, "")
}

func (j *judge) fail(at time.Duration, format string, args ...any) {
	if len(j.fails) == 0 {
		j.failAt = at
	}
	j.fails = append(j.fails, fmt.Sprintf(format, args...))
}

func (j *judge) warn(at time.Duration, format string, args ...any) {
	if len(j.soft) == 0 {
		j.softAt = at
	}
	j.soft = append(j.soft, fmt.Sprintf(format, args...))
}

func (j *judge) unknown(at time.Duration, format string, args ...any) {
	if len(j.unknowns) == 0 {
		j.unknownAt = at
	}
	j.unknowns = append(j.unknowns, fmt.Sprintf(format, args...))
}

// inconclusive ends a check that found nothing to judge: UNKNOWN with the
// measurements so far, or FAILED when a finding already broke the rule.
func (j *judge) inconclusive(at time.Duration, format string, args ...any) Result {
	j.unknown(at, format, args...)
	return j.result(at, "")
}

func (j *judge) note(format string, args ...any) {
	j.notes = append(j.notes, fmt.Sprintf(format, args...))
}

func (j *judge) failed() bool { return len(j.fails) > 0 }

func list(items []string) string {
	if len(items) > maxListed {
		return strings.Join(items[:maxListed], "; ") + fmt.Sprintf("; … and %d more", len(items)-maxListed)
	}
	return strings.Join(items, "; ")
}

// result gives the verdict; okDetail and okAt are used when nothing failed.
func (j *judge) result(okAt time.Duration, okFormat string, args ...any) Result {
	notes := ""
	if len(j.notes) > 0 {
		notes = " (" + strings.Join(j.notes, "; ") + ")"
	}
	switch {
	case len(j.fails) > 0:
		return Result{Verdict: Failed, Measurements: j.ms, Detail: list(append(j.fails, j.unknowns...)) + notes, At: j.failAt}
	case len(j.unknowns) > 0:
		return Result{Verdict: Unknown, Measurements: j.ms, Detail: list(j.unknowns) + notes, At: j.unknownAt}
	case len(j.soft) > 0:
		return Result{Verdict: NonStrict, Measurements: j.ms, Detail: list(j.soft) + notes, At: j.softAt}
	default:
		return Result{Verdict: OK, Measurements: j.ms, Detail: fmt.Sprintf(okFormat, args...) + notes, At: okAt}
	}
}

// informational is the verdict of a check whose library is not held to a
// rule by its own contract, but whose history a user must know of: detail
// says what was seen and why it is not judged.
func (j *judge) informational(at time.Duration, detail string) Result {
	r := j.result(at, "")
	r.Verdict, r.Detail = Informational, detail
	return r
}

// Excerpt renders the slice of the history within span of the result's At:
// what a failure message shows under its detail.
func Excerpt(h history.History, r Result, span time.Duration) string {
	return h.Around(r.At, span).String()
}
