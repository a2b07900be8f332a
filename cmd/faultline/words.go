package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/reports"
)

// countWords reads verdict counts as words (check.Words).
var countWords = check.Words

// verdictWords is a scenario's results as words: "3 OK, 1 FAILED".
func verdictWords(cs []runner.CheckResult) string {
	n := map[string]int{}
	for _, c := range cs {
		n[c.Verdict]++
	}
	return countWords(n)
}

// closingLine is a run's last line: what ran, what it gave, how long it
// took, where the reports are. "12 scenarios, 41 results: 38 OK, 1 FAILED,
// 2 UNIMPLEMENTED in 3m4s; reports in faultline-report/ (report.json
// junit.xml summary.md index.html)".
func closingLine(scenarios, notRun int, rep *reports.Report, took time.Duration, dir string, files []string) string {
	s := plurals(scenarios, "scenario")
	if notRun > 0 {
		s += fmt.Sprintf(" (%d not run)", notRun)
	}
	return fmt.Sprintf("%s, %s: %s in %s; %s", s, plurals(len(rep.Results), "result"), countWords(rep.Totals), roughly(took), reportsIn(dir, files))
}

// plurals is "1 scenario", "3 scenarios".
func plurals(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// roughly is a duration as a person reads it: "0.4s", "12.3s" under a
// minute, "3m4s" above.
func roughly(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// reportsIn names the report folder and the files written into it.
func reportsIn(dir string, files []string) string {
	names := make([]string, 0, len(files))
	for _, f := range files {
		if rel, err := filepath.Rel(dir, f); err == nil && !strings.HasPrefix(rel, "..") {
			f = rel
		}
		names = append(names, filepath.ToSlash(f))
	}
	return fmt.Sprintf("reports in %s (%s)", strings.TrimSuffix(filepath.ToSlash(dir), "/")+"/", strings.Join(names, " "))
}

// progress is a scenario's place in the run, "[ 7/12]": padded, so that the
// names after it line up.
func progress(i, n int) string {
	return fmt.Sprintf("[%*d/%d]", len(fmt.Sprint(n)), i, n)
}
