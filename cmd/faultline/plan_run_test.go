package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/reports"
)

// Scenarios whose results the driver's hello decides are not run: a line
// each saying so and why, in no time, their UNIMPLEMENTED results in the
// report as a run would give them; the others run.
func TestScenariosTheHelloDecidesAreNotRun(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"../../scenarios/nats/close.yaml", "../../scenarios/routing/healthy.yaml", "testdata/driverfail/a-close.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(filepath.Dir(f))+"-"+filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	code, out, rep, _ := runCLI(t, "--scenarios", dir, "--sdk", fakeSDK("-sdk lib -features reconnect"))
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("took %v", el)
	}
	if code != 1 { // the scenario that runs fails U1 (the fake claims a session no server made)
		t.Errorf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		`nats-close                               not run: 2 UNIMPLEMENTED (lib 0.0.1-test speaks faultline; the scenario's servers speak nats)`,
		`routing-healthy                          not run: 4 UNIMPLEMENTED (lib 0.0.1-test does not declare the "routing" feature)`,
		"driverfail-a-close                       2 FAILED in ",
		"3 scenarios (2 not run), 8 results: 2 FAILED, 6 UNIMPLEMENTED in ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	unimpl := 0
	for _, r := range rep.Results {
		if r.Verdict == "UNIMPLEMENTED" {
			unimpl++
		}
	}
	if unimpl != 6 || rep.SDK.SDK != "lib" {
		t.Errorf("%d UNIMPLEMENTED, sdk %q: %+v", unimpl, rep.SDK.SDK, rep.Results)
	}
}

// --driver-stderr keeps each driver process's stderr in report.json; without
// it nothing is kept.
func TestDriverStderrInTheReport(t *testing.T) {
	for _, keep := range []bool{true, false} {
		args := []string{"--scenarios", "testdata/driverfail", "--sdk", fakeSDK("")}
		if keep {
			args = append(args, "--driver-stderr")
		}
		_, out, _, dir := runCLI(t, args...)
		rep, err := reports.ReadJSON(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(filepath.Join(dir, "report.json"))
		if !keep {
			if strings.Contains(string(raw), `"driver_stderr"`) {
				t.Error("driver_stderr without --driver-stderr")
			}
			continue
		}
		if len(rep.Scenarios) != 2 {
			t.Fatalf("scenarios: %d\n%s", len(rep.Scenarios), out)
		}
		for _, s := range rep.Scenarios {
			if len(s.DriverStderr) != 1 {
				t.Fatalf("%s: driver_stderr %+v", s.Name, s.DriverStderr)
			}
			d := s.DriverStderr[0]
			if d.Client != 0 || d.PID == 0 || d.Truncated || !strings.Contains(d.Text, "fake driver good starting") || d.Bytes != int64(len(d.Text)) {
				t.Errorf("%s: %+v", s.Name, d)
			}
		}
		var doc struct {
			Scenarios []struct {
				DriverStderr []map[string]any `json:"driver_stderr"`
			} `json:"scenarios"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Scenarios[0].DriverStderr) != 1 || doc.Scenarios[0].DriverStderr[0]["text"] == nil {
			t.Errorf("report.json's driver_stderr: %v %+v", err, doc.Scenarios)
		}
	}
}
