package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/reports"
)

// checkScenarios are the shipped scenarios TestCheck runs: small, fast, one
// with several checks, one with a reconnect window to tighten.
var checkScenarios = []string{
	"reconnect/opt-out.yaml",
	"reconnect/recovery-messages.yaml", // four checks
	"reconnect/reset-detection.yaml",   // the reconnect window TestCheck tightens
	"reconnect/server-close.yaml",
}

// copyScenarios copies the checkScenarios from ../../scenarios into dir,
// edit changing each file's text.
func copyScenarios(t *testing.T, dir string, edit func(name, src string) string) {
	t.Helper()
	for _, f := range checkScenarios {
		b, err := os.ReadFile(filepath.Join("../../scenarios", f))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(edit(f, string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func same(_, src string) string { return src }

func main2(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func readReport(t *testing.T, path string) *reports.Report {
	t.Helper()
	r, err := reports.ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCheck runs a few real scenarios once with the Go engine, through
// faultline run (runner.Run, reports.Build, WriteAll), then judges the
// report again in every way check is meant to be used.
func TestCheck(t *testing.T) {
	tmp := t.TempDir()
	scDir := filepath.Join(tmp, "scenarios")
	copyScenarios(t, scDir, same)
	runDir := filepath.Join(tmp, "run")
	runCode, out, errs := main2("run", "--scenarios", scDir, "--report", runDir)
	if runCode == 2 {
		t.Fatalf("run: exit 2\n%s%s", out, errs)
	}
	runReport := filepath.Join(runDir, "report.json")
	orig := readReport(t, runReport)
	if len(orig.Scenarios) != len(checkScenarios) || len(orig.Results) < 7 {
		t.Fatalf("run: %d scenarios, %d results\n%s", len(orig.Scenarios), len(orig.Results), out)
	}
	for _, s := range orig.Scenarios {
		if s.Source == "" || !strings.Contains(s.Source, "name: "+s.Name) {
			t.Fatalf("report keeps no source for %s: %q", s.Name, s.Source)
		}
	}
	n := len(orig.Results)

	t.Run("unchanged report reproduces every result", func(t *testing.T) {
		outDir := filepath.Join(tmp, "check")
		code, out, errs := main2("check", runReport, "--report", outDir)
		if code != runCode {
			t.Fatalf("check: exit %d, run's %d\n%s%s", code, runCode, out, errs)
		}
		again := readReport(t, filepath.Join(outDir, "report.json"))
		sameReport(t, orig, again)
		if want := regexp.MustCompile(`(?m)^(\d+) result\(s\) compared: (\d+) reproduced, 0 changed$`); !want.MatchString(out) ||
			want.FindStringSubmatch(out)[1] != strconv.Itoa(n) || want.FindStringSubmatch(out)[2] != strconv.Itoa(n) {
			t.Errorf("want %d compared, %d reproduced, 0 changed in:\n%s", n, n, out)
		}
		for _, f := range []string{"junit.xml", "index.html", "summary.md"} {
			if _, err := os.Stat(filepath.Join(outDir, f)); err != nil {
				t.Error(err)
			}
		}
		// The checked report checks again to itself.
		code, out, _ = main2("check", filepath.Join(outDir, "report.json"), "--report", filepath.Join(tmp, "check2"))
		if code != runCode || !strings.Contains(out, " 0 changed") {
			t.Errorf("check of the check: exit %d\n%s", code, out)
		}
	})

	t.Run("default folder is the report's with -check", func(t *testing.T) {
		code, out, errs := main2("check", runReport)
		if code != runCode {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		sameReport(t, orig, readReport(t, filepath.Join(tmp, "run-check", "report.json")))
	})

	t.Run("a tightened bound changes that result alone", func(t *testing.T) {
		edited := filepath.Join(tmp, "edited")
		copyScenarios(t, edited, func(name, src string) string {
			if name != "reconnect/reset-detection.yaml" {
				return src
			}
			const line = "{check: reconnect_window, requirement: R4}"
			if !strings.Contains(src, line) {
				t.Fatalf("%s has no %s", name, line)
			}
			return strings.Replace(src, line, "{check: reconnect_window, requirement: R4, within: 1ms}", 1)
		})
		outDir := filepath.Join(tmp, "edited-check")
		code, out, errs := main2("check", "--scenarios", edited, runReport, "--report", outDir)
		if code != 1 || strings.Contains(errs, "warning") {
			t.Fatalf("exit %d, want 1 (and no warning: only an expect changed)\n%s%s", code, out, errs)
		}
		again := readReport(t, filepath.Join(outDir, "report.json"))
		if len(again.Results) != n {
			t.Fatalf("%d results, want %d", len(again.Results), n)
		}
		var was string
		for i, o := range orig.Results {
			g := again.Results[i]
			if !strings.HasPrefix(g.File, edited) {
				t.Errorf("result %d judged with %s, not the edited copy", i, g.File)
			}
			g.File = o.File
			if o.Scenario == "reset-detection" && o.Check == "reconnect_window" {
				was = o.Verdict
				if o.Verdict == check.Failed || g.Verdict != check.Failed || !strings.Contains(g.Detail, "1.0ms") {
					t.Errorf("tightened window: %s → %s (%s)", o.Verdict, g.Verdict, g.Detail)
				}
				continue
			}
			if !reflect.DeepEqual(o, g) {
				t.Errorf("result %d changed:\nrun:   %+v\ncheck: %+v", i, o, g)
			}
		}
		if was == "" {
			t.Fatal("no reset-detection reconnect_window result in the run")
		}
		if !strings.Contains(out, strconv.Itoa(n)+" result(s) compared: "+strconv.Itoa(n-1)+" reproduced, 1 changed") ||
			!strings.Contains(out, "reset-detection R4 reconnect_window: "+was+" → FAILED") {
			t.Errorf("summary:\n%s", out)
		}
		if again.Totals[check.Failed] != orig.Totals[check.Failed]+1 {
			t.Errorf("totals %v, run's %v", again.Totals, orig.Totals)
		}
	})

	t.Run("a changed timeline is warned of", func(t *testing.T) {
		moved := filepath.Join(tmp, "moved")
		copyScenarios(t, moved, func(name, src string) string {
			return strings.Replace(src, "fault: reset, for: 600ms", "fault: reset, for: 900ms", 1)
		})
		code, out, errs := main2("check", runReport, "--scenarios", moved, "--report", filepath.Join(tmp, "moved-check"))
		if code == 2 || !strings.Contains(errs, "warning: reset-detection in "+moved+" differs") || strings.Count(errs, "warning") != 1 {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
	})

	t.Run("a report without sources needs --scenarios", func(t *testing.T) {
		old := readReport(t, runReport)
		for i := range old.Scenarios {
			old.Scenarios[i].Source = ""
		}
		dir := filepath.Join(tmp, "old")
		if _, err := old.WriteJSON(dir); err != nil {
			t.Fatal(err)
		}
		code, out, errs := main2("check", filepath.Join(dir, "report.json"), "--report", filepath.Join(tmp, "old-check"))
		if code != 2 || !strings.Contains(errs, "keeps no scenario source") || !strings.Contains(errs, "--scenarios DIR") {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		code, out, errs = main2("check", filepath.Join(dir, "report.json"), "--scenarios", scDir, "--report", filepath.Join(tmp, "old-check"))
		if code != runCode || !strings.Contains(out, " 0 changed") {
			t.Fatalf("with --scenarios: exit %d\n%s%s", code, out, errs)
		}
		sameReport(t, orig, readReport(t, filepath.Join(tmp, "old-check", "report.json")))
	})

	t.Run("an interrupted run's cut-short scenario stays not judged", func(t *testing.T) {
		part := readReport(t, runReport)
		cut := part.Scenarios[len(part.Scenarios)-1].Name
		part.Interrupt(cut, []string{"never-ran"})
		dir := filepath.Join(tmp, "partial")
		if _, err := part.WriteJSON(dir); err != nil {
			t.Fatal(err)
		}
		part = readReport(t, filepath.Join(dir, "report.json"))
		outDir := filepath.Join(tmp, "partial-check")
		code, out, errs := main2("check", filepath.Join(dir, "report.json"), "--report", outDir)
		if code != 1 || !strings.Contains(out, "during "+cut+" (still not judged)") {
			t.Fatalf("exit %d, want 1 (partial)\n%s%s", code, out, errs)
		}
		sameReport(t, part, readReport(t, filepath.Join(outDir, "report.json")))
	})

	t.Run("bad input exits 2", func(t *testing.T) {
		garbage := filepath.Join(tmp, "garbage.json")
		if err := os.WriteFile(garbage, []byte("{not json"), 0o644); err != nil {
			t.Fatal(err)
		}
		oneOnly := filepath.Join(tmp, "one-only")
		copyScenarios(t, oneOnly, same)
		if err := os.Remove(filepath.Join(oneOnly, "reconnect/server-close.yaml")); err != nil {
			t.Fatal(err)
		}
		broken := filepath.Join(tmp, "broken")
		copyScenarios(t, broken, func(name, src string) string {
			return strings.Replace(src, "requirement: R1}", "requirement: R1, frobnicate: 3}", 1)
		})
		for _, c := range []struct {
			args []string
			want string // in stderr
		}{
			{[]string{"check"}, "usage: faultline check"},
			{[]string{"check", runReport, runReport}, "usage: faultline check"},
			{[]string{"check", filepath.Join(tmp, "nope.json")}, "no such file"},
			{[]string{"check", garbage}, "garbage.json"},
			{[]string{"check", runReport, "--scenarios", oneOnly}, "no scenario named server-close"},
			{[]string{"check", runReport, "--scenarios", broken}, filepath.Join(broken, "reconnect", "reset-detection.yaml") + ":"},
			{[]string{"check", runReport, "--report", runDir}, "would be overwritten"},
			{[]string{"check", "--frobnicate", runReport}, "flag provided but not defined"},
		} {
			code, out, errs := main2(c.args...)
			if code != 2 || !strings.Contains(errs, c.want) {
				t.Errorf("%v: exit %d, want 2 and %q in stderr\n%s%s", c.args, code, c.want, out, errs)
			}
		}
		// parse errors come as file:line:col
		_, _, errs := main2("check", runReport, "--scenarios", broken)
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(filepath.Join(broken, "reconnect", "reset-detection.yaml")) + `:\d+:\d+: `).MatchString(errs) {
			t.Errorf("want file:line:col errors, got:\n%s", errs)
		}
	})
}

// sameReport compares a report judged again with the run's: every result
// field by field, the totals, and what each scenario keeps.
func sameReport(t *testing.T, want, got *reports.Report) {
	t.Helper()
	if len(got.Results) != len(want.Results) {
		t.Fatalf("%d results, want %d", len(got.Results), len(want.Results))
	}
	for i := range want.Results {
		w, g := want.Results[i], got.Results[i]
		for _, f := range []struct {
			name string
			a, b any
		}{
			{"scenario", w.Scenario, g.Scenario}, {"requirement", w.Requirement, g.Requirement}, {"check", w.Check, g.Check},
			{"verdict", w.Verdict, g.Verdict}, {"detail", w.Detail, g.Detail}, {"measurements", w.Measurements, g.Measurements},
			{"file", w.File, g.File}, {"at_ms", w.AtMS, g.AtMS},
		} {
			if !reflect.DeepEqual(f.a, f.b) {
				t.Errorf("result %d (%s %s %s): %s differs\nrun:   %#v\ncheck: %#v", i, w.Scenario, w.Requirement, w.Check, f.name, f.a, f.b)
			}
		}
	}
	if !reflect.DeepEqual(got.Totals, want.Totals) {
		t.Errorf("totals %v, want %v", got.Totals, want.Totals)
	}
	if !reflect.DeepEqual(got.Scenarios, want.Scenarios) {
		t.Errorf("scenarios differ")
	}
	if !reflect.DeepEqual(got.SDK, want.SDK) || got.Driver != want.Driver || got.Seed != want.Seed ||
		!got.Started.Equal(want.Started) || !reflect.DeepEqual(got.Incomplete, want.Incomplete) {
		t.Errorf("report header differs: %+v %q %d %v %+v", got.SDK, got.Driver, got.Seed, got.Started, got.Incomplete)
	}
}
