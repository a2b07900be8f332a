package main

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/reports"
)

func TestVerdictWordsFollowTheVerdictsOrder(t *testing.T) {
	var cs []runner.CheckResult
	for _, v := range []string{check.Unimplemented, check.OK, check.Failed, check.OK, check.OK} {
		cs = append(cs, runner.CheckResult{Result: check.Result{Verdict: v}})
	}
	// check.Verdicts() order (OK, NON-STRICT, FAILED, UNKNOWN, UNIMPLEMENTED,
	// …), whatever the results' order
	const want = "3 OK, 1 FAILED, 1 UNIMPLEMENTED"
	if got := verdictWords(cs); got != want {
		t.Errorf("verdictWords = %q, want %q", got, want)
	}
	if got := verdictWords(nil); got != "no results" {
		t.Errorf("no results: %q", got)
	}
}

func TestClosingLine(t *testing.T) {
	rep := &reports.Report{Results: make([]reports.Result, 41), Totals: reports.Totals{check.OK: 41}}
	files := []string{"out/report.json", "out/junit.xml", "out/summary.md", "out/index.html"}
	got := closingLine(12, 0, rep, 3*time.Minute+4200*time.Millisecond, "out", files)
	want := "12 scenarios, 41 results: 41 OK in 3m4s; reports in out/ (report.json junit.xml summary.md index.html)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	one := &reports.Report{Results: make([]reports.Result, 2), Totals: reports.Totals{check.Unimplemented: 2}}
	got = closingLine(1, 1, one, 40*time.Millisecond, "/tmp/r/", []string{"/tmp/r/report.json"})
	want = "1 scenario (1 not run), 2 results: 2 UNIMPLEMENTED in 0.0s; reports in /tmp/r/ (report.json)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if p := progress(7, 12); p != "[ 7/12]" {
		t.Errorf("progress %q", p)
	}
}
