package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A driver that says no hello is bad input, found once before any scenario
// runs: exit 2 within its --hello-timeout (not one wait per scenario), with
// its stderr and what was expected, and no report.
func TestADriverWithoutHelloIsBadInput(t *testing.T) {
	for _, tc := range []struct{ name, flags, evidence, stderr string }{
		{"silent", "-mode no-hello", "no hello within 400ms", "fake driver no-hello starting"},
		{"an event first", "-mode bad-hello", `{\"type\":\"state\"`, "fake driver bad-hello starting"},
		{"dies at once", "-no-such-flag", "exited before its hello: exit status 64", "flag provided but not defined: -no-such-flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var out, errb bytes.Buffer
			start := time.Now()
			code := Main([]string{"run", "--scenarios", "testdata/driverfail", "--report", dir, "--hello-timeout", "400ms",
				"--sdk", fakeSDK(tc.flags)}, &out, &errb)
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %v: want the probe's bound, once", el)
			}
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
			}
			if strings.Contains(out.String(), "[1/2]") {
				t.Errorf("a scenario ran:\n%s", out.String())
			}
			for _, want := range []string{"faultline: --sdk ", tc.evidence, tc.stderr, "first line on stdout is its hello", "--hello-timeout (400ms)"} {
				if !strings.Contains(errb.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errb.String())
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "report.json")); err == nil {
				t.Error("a report was written for a run that never started")
			}
		})
	}
}

// A program that cannot be started at all is named at once.
func TestAMissingDriverIsBadInput(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "driver")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ sdk, want string }{
		{"./does-not-exist --flag", `cannot run "./does-not-exist": stat ./does-not-exist: no such file or directory`},
		{"faultline-no-such-program-anywhere", `cannot run "faultline-no-such-program-anywhere": executable file not found in $PATH`},
		{"'" + notExec + "'", "permission denied"},
	} {
		var out, errb bytes.Buffer
		start := time.Now()
		code := Main([]string{"run", "--scenarios", "testdata/driverfail", "--report", t.TempDir(), "--sdk", tc.sdk}, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("--sdk %s: exit %d, stderr %q; want 2 and %q", tc.sdk, code, errb.String(), tc.want)
		}
		if el := time.Since(start); el > time.Second {
			t.Errorf("--sdk %s: took %v", tc.sdk, el)
		}
	}
}

// A driver that passed the probe and then says no hello in a scenario is
// that scenario's failure, with the evidence, bounded by --hello-timeout;
// the run goes on.
func TestADriverSilentInOneScenarioFailsIt(t *testing.T) {
	start := time.Now()
	code, out, rep, _ := runCLI(t, "--scenarios", "testdata/driverfail", "--hello-timeout", "400ms",
		"--sdk", fakeSDK("-silent-driver 2"))
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, out)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("took %v", el)
	}
	n := 0
	for _, r := range rep.Results {
		if r.Scenario != "driverfail-b-subscribe" {
			continue
		}
		n++
		if r.Verdict != "FAILED" || !strings.Contains(r.Detail, "no hello within") || !strings.Contains(r.Detail, "fake driver good starting") {
			t.Errorf("%s %s: %s %q", r.Scenario, r.Requirement, r.Verdict, r.Detail)
		}
	}
	if n != 2 {
		t.Errorf("%d result(s) for the silent driver's scenario, want 2:\n%s", n, out)
	}
}
