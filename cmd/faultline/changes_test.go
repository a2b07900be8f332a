package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/reports"
)

// soakRun writes one run's report.json: results as "scenario requirement
// check verdict", and harness problems per scenario.
func soakRun(t *testing.T, dir string, results []string, problems map[string][]string) string {
	t.Helper()
	r := &reports.Report{Totals: reports.Totals{}}
	scen := map[string]bool{}
	for _, s := range results {
		f := strings.Fields(s)
		r.Results = append(r.Results, reports.Result{Scenario: f[0], Requirement: f[1], Check: f[2], Verdict: f[3], Detail: "detail of " + f[3]})
		if !scen[f[0]] {
			scen[f[0]] = true
			r.Scenarios = append(r.Scenarios, reports.Scenario{Name: f[0], Problems: problems[f[0]]})
		}
	}
	p, err := r.WriteJSON(filepath.Join(t.TempDir(), dir))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func changes(files ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(append([]string{"report", "--changes"}, files...), &out, &errb)
	return code, out.String(), errb.String()
}

var steadyRun = []string{
	"backoff-java-abort R2 backoff_schedule OK",
	"migration-handoff M1 handoff_window OK",
	"migration-handoff M2 handoff_window OK",
	"migration-handoff M2 handoff_window OK", // a second entry with the same check and requirement
}

func TestChangesNoneIsAPass(t *testing.T) {
	a, b, c := soakRun(t, "r1", steadyRun, nil), soakRun(t, "r2", steadyRun, nil), soakRun(t, "r3", steadyRun, nil)
	code, out, errs := changes(a, b, c)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "changes: 0 of 6 results changed over 3 runs; 0 result(s) FAILED in all 3 runs") {
		t.Errorf("summary:\n%s", out)
	}
}

func TestChangesAFlippedVerdictFailsAndIsNamed(t *testing.T) {
	flipped := append([]string(nil), steadyRun...)
	flipped[3] = "migration-handoff M2 handoff_window FAILED"
	a, b, c := soakRun(t, "r1", steadyRun, nil), soakRun(t, "r2", flipped, nil), soakRun(t, "r3", steadyRun, nil)
	code, out, _ := changes(a, b, c)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"migration-handoff  M2           handoff_window #2  OK 2, FAILED 1 (run 2)",
		"migration-handoff M2 handoff_window #2:\n  run 2 FAILED: detail of FAILED",
		"changes: 1 of 6 results changed over 3 runs",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "backoff-java-abort  R2") {
		t.Errorf("an unchanged result is listed:\n%s", out)
	}
}

func TestChangesAbsentResultsProblemsAndSteadyFailures(t *testing.T) {
	short := steadyRun[:1]
	withFail := append([]string{"opt-out R7 no_reconnect FAILED"}, steadyRun...)
	a := soakRun(t, "r1", withFail, nil)
	b := soakRun(t, "r2", append([]string{"opt-out R7 no_reconnect FAILED"}, short...), map[string][]string{"backoff-java-abort": {"teardown: drivers did not close"}})
	code, out, _ := changes(a, b)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"OK 1, absent 1 (run 2)",
		"backoff-java-abort  -            runs as scheduled  OK 1, FAILED 1 (run 2)",
		"run 2 FAILED: teardown: drivers did not close",
		"FAILED in every run: opt-out R7 no_reconnect",
		"; 1 result(s) FAILED in all 2 runs",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestChangesBadInput(t *testing.T) {
	a := soakRun(t, "r1", steadyRun, nil)
	for _, args := range [][]string{{a}, {a, "/nonexistent/report.json"}} {
		if code, out, errs := changes(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s%s", args, code, out, errs)
		}
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"report", "--changes", "--out", t.TempDir(), a, a}, &out, &errb); code != 2 {
		t.Errorf("--changes with --out: exit %d, want 2", code)
	}
}
