package reports

import (
	"fmt"
	"strings"
)

// Incomplete says why a report holds less than the run was asked for, so
// that an interrupted run is not read as a full one (nor its cut-short
// scenario as a failure of the SDK).
type Incomplete struct {
	Reason string   `json:"reason"`            // "interrupted"
	Cut    string   `json:"cut,omitempty"`     // the scenario running when it stopped: not judged
	NotRun []string `json:"not_run,omitempty"` // scenarios never started
}

// Interrupt marks the report as cut short: cut (may be empty) was running
// when the interrupt came, and its checks, judged on a timeline that never
// finished, are taken out of the results and totals; its history stays, with
// a problem that says why. notRun are the scenarios that never started.
func (r *Report) Interrupt(cut string, notRun []string) {
	r.Incomplete = &Incomplete{Reason: "interrupted", Cut: cut, NotRun: notRun}
	kept := r.Results[:0]
	for _, res := range r.Results {
		if res.Scenario != cut {
			kept = append(kept, res)
		}
	}
	r.Results = kept
	r.Totals = tally(kept)
	for i := range r.Scenarios {
		if r.Scenarios[i].Name == cut {
			r.Scenarios[i].Problems = append(r.Scenarios[i].Problems, "interrupted before its timeline ended: not judged")
		}
	}
}

// incompleteText is one line for the summary and the HTML page, or "".
func (r *Report) incompleteText() string {
	in := r.Incomplete
	if in == nil {
		return ""
	}
	s := "Run " + in.Reason
	if in.Cut != "" {
		s += fmt.Sprintf(" during %s (not judged)", in.Cut)
	}
	if n := len(in.NotRun); n > 0 {
		s += fmt.Sprintf("; %d scenario(s) not run: %s", n, strings.Join(in.NotRun, ", "))
	}
	return s + ". This report is partial."
}
