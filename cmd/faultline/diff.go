package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/faultline/faultline/reports"
)

// reportDiff compares one library's verdicts over the same scenarios
// against two servers (make certify: the fake server and the real one
// behind the same links). A verdict that differs is a bug in the fake, or a
// difference between the servers that the conformance page must explain.
// Results in only one report (a fake server's lever that the real one lacks)
// are listed, not counted as differences. Exit 0 when no verdict differs,
// 1 when one does, 2 on bad input.
func reportDiff(a, b string, stdout, stderr io.Writer) int {
	ra, err := reports.ReadJSON(a)
	if err != nil {
		fmt.Fprintf(stderr, "faultline report: %v\n", err)
		return 2
	}
	rb, err := reports.ReadJSON(b)
	if err != nil {
		fmt.Fprintf(stderr, "faultline report: %v\n", err)
		return 2
	}
	va, vb := resultsOf(ra), resultsOf(rb)
	all := map[resultKey]bool{}
	for k := range va {
		all[k] = true
	}
	for k := range vb {
		all[k] = true
	}
	keys := sortedKeys(all) // changes.go
	differ, only, same := 0, 0, 0
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\trequirement\tcheck\t%s\t%s\n", "A", "B")
	for _, k := range keys {
		x, inA := va[k]
		y, inB := vb[k]
		switch {
		case !inA || !inB:
			only++
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Scenario, k.Requirement, k.label(), shownOr(x, inA), shownOr(y, inB))
		case x.Verdict != y.Verdict:
			differ++
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Scenario, k.Requirement, k.label(), x.Verdict, y.Verdict)
		default:
			same++
		}
	}
	if differ+only > 0 {
		fmt.Fprintf(stdout, "A: %s\nB: %s\n", a, b)
		_ = tw.Flush()
		for _, k := range keys {
			x, inA := va[k]
			y, inB := vb[k]
			if inA && inB && x.Verdict != y.Verdict {
				fmt.Fprintf(stdout, "\n%s %s %s:\n  A %s: %s\n  B %s: %s\n", k.Scenario, k.Requirement, k.label(),
					x.Verdict, clip(x.detail(), 400), y.Verdict, clip(y.detail(), 400))
			}
		}
	}
	fmt.Fprintf(stdout, "diff: %d result(s) with the same verdict, %d that differ, %d in one report only\n", same, differ, only)
	if differ > 0 {
		return 1
	}
	return 0
}

func shownOr(v verdictOf, ok bool) string {
	if !ok {
		return "absent"
	}
	return v.shown()
}
