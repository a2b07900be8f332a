package check

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Verdicts (fixed; docs/verdicts.md). UNKNOWN and UNSUPPORTED are additive.
const (
	OK            = "OK"
	NonStrict     = "NON-STRICT"
	Failed        = "FAILED"
	Unimplemented = "UNIMPLEMENTED"
	Informational = "INFORMATIONAL"
	// Unknown: the harness could not judge. The history holds nothing the
	// rule speaks of, a checker panicked, or the harness itself could not
	// serve a client. Like Jepsen's :unknown it is neither a pass nor the
	// SDK's fault; like FAILED it fails the run, because nothing was proved.
	Unknown = "UNKNOWN"
	// Unsupported: the mode the run used cannot do a step of the scenario
	// (a process fault where the servers are someone else's), so nothing was
	// run or judged. It says nothing about the SDK; it fails nothing.
	Unsupported = "UNSUPPORTED"
)

// Verdicts lists every verdict in the order reports show them.
func Verdicts() []string {
	return []string{OK, NonStrict, Failed, Unknown, Unimplemented, Unsupported, Informational}
}

// Severity orders verdicts for "the worst of". FAILED outranks UNKNOWN (a
// rule seen broken says more than a rule not judged), UNKNOWN outranks
// NON-STRICT (a check that proved nothing must not read as a near pass), an
// UNIMPLEMENTED outranks an OK (the feature is missing, whatever else
// passed). UNSUPPORTED ranks below every judged verdict: a scenario the mode
// could not run takes nothing from the ones it did. 0 is "not judged".
func Severity(v string) int {
	switch v {
	case Failed:
		return 7
	case Unknown:
		return 6
	case NonStrict:
		return 5
	case Unimplemented:
		return 4
	case Informational:
		return 3
	case OK:
		return 2
	case Unsupported:
		return 1
	}
	return 0
}

// Worse returns the worse of two verdicts ("" is none).
func Worse(a, b string) string {
	if Severity(b) > Severity(a) {
		return b
	}
	return a
}

// FailsRun reports whether a verdict makes a run exit non-zero: a broken
// MUST, or a check that could not judge.
func FailsRun(v string) bool { return v == Failed || v == Unknown }

// Merge folds b into a: the worse verdict (with its At) and both details and
// measurements, so that a finding added to a checker's result (a client the
// scenario asked for that never connected) is never hidden by it.
func Merge(a, b Result) Result {
	out := a
	if Severity(b.Verdict) > Severity(a.Verdict) {
		out.Verdict, out.At = b.Verdict, b.At
	}
	switch {
	case a.Detail == "":
		out.Detail = b.Detail
	case b.Detail != "":
		out.Detail = a.Detail + "; " + b.Detail
	}
	out.Measurements = append(append([]Measurement(nil), a.Measurements...), b.Measurements...)
	return out
}

// Overrule makes r UNKNOWN for the run-level reason in by (a fault the
// harness could not put in place as asked): unlike Merge, a FAILED does not
// survive it, since it was judged against a timeline the scenario never
// asked for. What r said is kept in the detail and its measurements.
func Overrule(r, by Result) Result {
	return Result{Verdict: Unknown, At: by.At,
		Detail:       by.Detail + fmt.Sprintf(" (judged anyway: %s: %s)", r.Verdict, r.Detail),
		Measurements: append(append([]Measurement(nil), r.Measurements...), by.Measurements...)}
}

// Inconclusive is an UNKNOWN result: the history gave the rule nothing to
// judge. The detail says what was missing; the measurements what was seen.
func Inconclusive(at time.Duration, ms []Measurement, format string, args ...any) Result {
	return Result{Verdict: Unknown, Measurements: ms, Detail: fmt.Sprintf(format, args...), At: at}
}

// Words reads verdict counts as words, in Verdicts() order: "38 OK, 1
// FAILED, 2 UNIMPLEMENTED"; "no results" when there are none. The CLI's
// progress and closing lines and the Go API's logs say counts this way.
func Words(n map[string]int) string {
	var parts []string
	for _, v := range Verdicts() {
		if n[v] > 0 {
			parts = append(parts, strconv.Itoa(n[v])+" "+v)
		}
	}
	if len(parts) == 0 {
		return "no results"
	}
	return strings.Join(parts, ", ")
}
