package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func diff(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(append([]string{"report", "--diff"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestDiffSameVerdictsIsAPass(t *testing.T) {
	a, b := soakRun(t, "fake", steadyRun, nil), soakRun(t, "real", steadyRun, nil)
	code, out, errs := diff(a, b)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	// 4 results and the 2 scenarios' "runs as scheduled".
	if want := "diff: 6 result(s) with the same verdict, 0 that differ, 0 in one report only\n"; out != want {
		t.Errorf("output:\n%s\nwant only:\n%s", out, want)
	}
}

func TestDiffADifferingVerdictFailsWithBothDetails(t *testing.T) {
	flipped := append([]string(nil), steadyRun...)
	flipped[3] = "migration-handoff M2 handoff_window FAILED"
	a, b := soakRun(t, "fake", steadyRun, nil), soakRun(t, "real", flipped, nil)
	code, out, _ := diff(a, b)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"A: " + a + "\nB: " + b + "\n",
		"migration-handoff  M2           handoff_window #2  OK  FAILED",
		"migration-handoff M2 handoff_window #2:\n  A OK: detail of OK\n  B FAILED: detail of FAILED",
		"diff: 5 result(s) with the same verdict, 1 that differ, 0 in one report only",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "backoff-java-abort  R2") {
		t.Errorf("a result with the same verdict is listed:\n%s", out)
	}
	// Either way round: the same difference, A and B exchanged.
	code, out, _ = diff(b, a)
	if code != 1 || !strings.Contains(out, "  A FAILED: detail of FAILED\n  B OK: detail of OK") {
		t.Errorf("reversed: exit %d\n%s", code, out)
	}
}

func TestDiffHarnessProblemsDiffer(t *testing.T) {
	a := soakRun(t, "fake", steadyRun, nil)
	b := soakRun(t, "real", steadyRun, map[string][]string{"backoff-java-abort": {"teardown: drivers did not close"}})
	code, out, _ := diff(a, b)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"backoff-java-abort  -            runs as scheduled  OK  FAILED",
		"  A OK: (no detail)\n  B FAILED: teardown: drivers did not close",
		"1 that differ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// A result in one report only (a fake server's lever the real one lacks:
// the scenario was left out with --label) is listed, not a difference.
func TestDiffResultsInOneReportOnlyAreListedNotCounted(t *testing.T) {
	withLever := append([]string{"nats-lame-duck R1 reconnect_window OK"}, steadyRun...)
	a, b := soakRun(t, "fake", withLever, nil), soakRun(t, "real", steadyRun, nil)
	code, out, errs := diff(a, b)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		"A: " + a + "\nB: " + b + "\n",
		"nats-lame-duck  R1           reconnect_window   OK  absent",
		"nats-lame-duck  -            runs as scheduled  OK  absent",
		"diff: 6 result(s) with the same verdict, 0 that differ, 2 in one report only",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\n  A ") {
		t.Errorf("a result in one report only is detailed as a difference:\n%s", out)
	}
	// In B only, and beside a real difference: still not counted.
	flipped := append([]string(nil), steadyRun...)
	flipped[0] = "backoff-java-abort R2 backoff_schedule FAILED"
	code, out, _ = diff(soakRun(t, "fake2", flipped, nil), soakRun(t, "real2", withLever, nil))
	if code != 1 || !strings.Contains(out, "absent  OK") || !strings.Contains(out, "1 that differ, 2 in one report only") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestDiffBadInput(t *testing.T) {
	a := soakRun(t, "fake", steadyRun, nil)
	notJSON := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(notJSON, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{},
		{a},
		{a, a, a},
		{a, "/nonexistent/report.json"},
		{"/nonexistent/report.json", a},
		{a, notJSON},
		{"--merge", a, a},
		{"--changes", a, a},
		{"--out", t.TempDir(), a, a},
	} {
		code, out, errs := diff(args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s%s", args, code, out, errs)
		}
		if errs == "" {
			t.Errorf("%v: nothing on stderr", args)
		}
		if strings.Contains(out, "diff: ") {
			t.Errorf("%v: a summary on bad input:\n%s", args, out)
		}
	}
}
