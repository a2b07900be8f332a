package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/reports"
)

// TestInterruptLeavesAPartialReport interrupts a run in its second scenario
// (one whose timeline is a minute long): the run stops at once, exits 1, and
// writes a report that says it is partial, keeps the first scenario's
// verdicts, judges nothing of the cut-short one and names the one never run.
func TestInterruptLeavesAPartialReport(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, faultlineBin, "run", "--scenarios", "testdata/interrupt", "--report", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	signalled := false
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		// the first scenario is judged: the second has started, and runs for a minute
		if !signalled && strings.HasPrefix(sc.Text(), "[1/3]") {
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			signalled = true
		}
	}
	err = cmd.Wait()
	wall := time.Since(started)
	if !signalled {
		t.Fatalf("the first scenario never finished (%v):\n%s%s", err, out.String(), stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", code, out.String(), stderr.String())
	}
	if wall > 30*time.Second {
		t.Errorf("the interrupted run took %v: the interrupt did not stop the minute-long scenario", wall)
	}
	for _, want := range []string{"[2/3] interrupt-b-long", "INTERRUPTED (not judged)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(stderr.String(), "interrupted during interrupt-b-long; 1 scenario(s) not run") {
		t.Errorf("stderr: %q", stderr.String())
	}

	rep, err := reports.ReadJSON(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	in := rep.Incomplete
	if in == nil || in.Reason != "interrupted" || in.Cut != "interrupt-b-long" || strings.Join(in.NotRun, ",") != "interrupt-c-never" {
		t.Fatalf("incomplete = %+v, want interrupted, cut interrupt-b-long, not run [interrupt-c-never]", in)
	}
	// The first scenario's one check and its universal lifecycle check.
	if len(rep.Results) != 2 || rep.Results[0].Scenario != "interrupt-a-short" || rep.Results[0].Verdict != "OK" ||
		rep.Results[1].Requirement != "U1" || rep.Results[1].Verdict != "OK" {
		t.Errorf("results = %+v, want the first scenario's OK and its U1 OK only", rep.Results)
	}
	if rep.Totals["FAILED"] != 0 || rep.Totals["OK"] != 2 {
		t.Errorf("totals = %v, want OK:2 and nothing FAILED", rep.Totals)
	}
	if len(rep.Scenarios) != 2 || len(rep.Scenarios[1].History) == 0 ||
		!strings.Contains(strings.Join(rep.Scenarios[1].Problems, "\n"), "interrupted before its timeline ended") {
		t.Errorf("the cut-short scenario's timeline and problem are not kept: %+v", rep.Scenarios)
	}
	summary, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(summary), "Run interrupted during interrupt-b-long (not judged); 1 scenario(s) not run: interrupt-c-never. This report is partial.") {
		t.Errorf("summary.md does not say the report is partial:\n%s", summary)
	}
}
