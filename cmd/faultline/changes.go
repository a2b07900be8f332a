package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/reports"
)

// reportChanges compares reports of the same suite run several times (make
// soak): every result whose verdict is not the same in every run is a
// change, shown with the runs that differ and their details. A result is a
// scenario's expect entry (scenario, requirement, check, and its place among
// equal ones); a scenario's harness problems count as one more result, "runs
// as scheduled", as in the Ginkgo suite. Exit 0 only when nothing changed
// and nothing FAILED; 1 otherwise; 2 on bad input.
func reportChanges(files []string, stdout, stderr io.Writer) int {
	if len(files) < 2 {
		fmt.Fprintln(stderr, "usage: faultline report --changes REPORT.json REPORT.json...  (two runs at least)")
		return 2
	}
	runs := make([]map[resultKey]verdictOf, len(files))
	for i, f := range files {
		r, err := reports.ReadJSON(f)
		if err != nil {
			fmt.Fprintf(stderr, "faultline report: %v\n", err)
			return 2
		}
		runs[i] = resultsOf(r)
	}
	rows, total, steady := compareRuns(runs)
	fmt.Fprintf(stdout, "%d runs:\n", len(files))
	for i, f := range files {
		fmt.Fprintf(stdout, "  run %d  %s  (%d results)\n", i+1, f, len(runs[i]))
	}
	if len(rows) > 0 {
		fmt.Fprintln(stdout)
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "scenario\trequirement\tcheck\tverdicts")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.key.Scenario, r.key.Requirement, r.key.label(), r.tally())
		}
		_ = tw.Flush()
		for _, r := range rows {
			fmt.Fprintf(stdout, "\n%s %s %s:\n", r.key.Scenario, r.key.Requirement, r.key.label())
			for _, i := range r.odd() {
				fmt.Fprintf(stdout, "  run %d %s: %s\n", i+1, r.runs[i].shown(), clip(r.runs[i].detail(), 400))
			}
		}
	}
	for _, k := range steady {
		fmt.Fprintf(stdout, "FAILED in every run: %s %s %s\n", k.Scenario, k.Requirement, k.label())
	}
	fmt.Fprintf(stdout, "changes: %d of %d results changed over %d runs; %d result(s) FAILED in all %d runs\n", len(rows), total, len(files), len(steady), len(files))
	if len(rows) > 0 || len(steady) > 0 {
		return 1
	}
	return 0
}

// resultKey names one result across runs.
type resultKey struct {
	Scenario, Requirement, Check string
	N                            int // 0 for the first entry with this scenario, requirement and check, 1 for the next…
}

func (k resultKey) label() string {
	if k.N > 0 {
		return fmt.Sprintf("%s #%d", k.Check, k.N+1)
	}
	return k.Check
}

// verdictOf is one run's verdict for a result; absent when the run lacks it
// (the scenario was not run, or was interrupted).
type verdictOf struct {
	Verdict, Detail string
	Absent          bool
}

func (v verdictOf) shown() string {
	if v.Absent {
		return "absent"
	}
	return v.Verdict
}

func (v verdictOf) detail() string {
	switch {
	case v.Absent:
		return "not in this run's report (scenario not run, or the run was interrupted)"
	case v.Detail == "":
		return "(no detail)"
	}
	return v.Detail
}

// harnessCheck is the pseudo-check of a scenario's harness problems.
const harnessCheck = "runs as scheduled"

// keyed gives each result its key, in order: a scenario may hold two
// expects of one check for one requirement, told apart by their order.
func keyed(rs []reports.Result) []resultKey {
	seen := map[resultKey]int{}
	out := make([]resultKey, len(rs))
	for i, r := range rs {
		k := resultKey{Scenario: r.Scenario, Requirement: r.Requirement, Check: r.Check}
		k.N = seen[k]
		seen[k]++
		out[i] = k
	}
	return out
}

func resultsOf(r *reports.Report) map[resultKey]verdictOf {
	out := map[resultKey]verdictOf{}
	for i, k := range keyed(r.Results) {
		out[k] = verdictOf{Verdict: r.Results[i].Verdict, Detail: r.Results[i].Detail}
	}
	for _, s := range r.Scenarios {
		v := verdictOf{Verdict: check.OK}
		if len(s.Problems) > 0 {
			v = verdictOf{Verdict: check.Failed, Detail: strings.Join(s.Problems, "; ")}
		}
		out[resultKey{Scenario: s.Name, Requirement: "-", Check: harnessCheck}] = v
	}
	return out
}

// changeRow is one result that was not the same in every run.
type changeRow struct {
	key  resultKey
	runs []verdictOf
}

// verdicts is the distinct verdicts, most frequent first (ties: the one seen
// in the earlier run), with their counts.
func (r changeRow) verdicts() ([]string, map[string]int) {
	n := map[string]int{}
	var names []string
	for _, v := range r.runs {
		if n[v.shown()]++; n[v.shown()] == 1 {
			names = append(names, v.shown())
		}
	}
	sort.SliceStable(names, func(i, j int) bool { return n[names[i]] > n[names[j]] })
	return names, n
}

// tally is the verdicts with their counts, and the runs of all but the
// most frequent.
func (r changeRow) tally() string {
	names, n := r.verdicts()
	parts := make([]string, len(names))
	for i, s := range names {
		parts[i] = fmt.Sprintf("%s %d", s, n[s])
		if i > 0 {
			var at []string
			for k, v := range r.runs {
				if v.shown() == s {
					at = append(at, fmt.Sprint(k+1))
				}
			}
			parts[i] += " (run " + strings.Join(at, ", ") + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// odd is the runs whose verdict is not the most frequent one.
func (r changeRow) odd() []int {
	names, _ := r.verdicts()
	var out []int
	for i, v := range r.runs {
		if v.shown() != names[0] {
			out = append(out, i)
		}
	}
	return out
}

// compareRuns returns the changed results in scenario order, how many
// distinct results there were, and those FAILED in every run.
func compareRuns(runs []map[resultKey]verdictOf) (rows []changeRow, total int, steady []resultKey) {
	keys := map[resultKey]bool{}
	for _, m := range runs {
		for k := range m {
			keys[k] = true
		}
	}
	for _, k := range sortedKeys(keys) {
		row := changeRow{key: k}
		same, failed := true, true
		for _, m := range runs {
			v, ok := m[k]
			if !ok {
				v = verdictOf{Absent: true}
			}
			if len(row.runs) > 0 && v.shown() != row.runs[0].shown() {
				same = false
			}
			failed = failed && check.FailsRun(v.Verdict)
			row.runs = append(row.runs, v)
		}
		switch {
		case !same:
			rows = append(rows, row)
		case failed:
			steady = append(steady, k)
		}
	}
	return rows, len(keys), steady
}

// clip shortens a detail for the table's notes.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// sortedKeys lists a set of result keys in report order: scenario,
// requirement, check, then occurrence.
func sortedKeys(keys map[resultKey]bool) []resultKey {
	out := make([]resultKey, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Scenario != b.Scenario {
			return a.Scenario < b.Scenario
		}
		if a.Requirement != b.Requirement {
			return a.Requirement < b.Requirement
		}
		if a.Check != b.Check {
			return a.Check < b.Check
		}
		return a.N < b.N
	})
	return out
}
