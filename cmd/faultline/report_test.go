package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/reports"
)

// wholeRun is a run's report of seven scenarios, with a failure among them.
func wholeRun() *reports.Report {
	r := &reports.Report{SDK: driver.Hello{SDK: "faultline-go", Version: "0.1.0", Features: []string{"reconnect"}}, Driver: "go",
		Started: time.Date(2026, 12, 7, 2, 20, 0, 0, time.UTC), WallMS: 7000, Seed: 1}
	for i := 0; i < 7; i++ {
		name := fmt.Sprintf("scenario-%d", i)
		file := fmt.Sprintf("scenarios/s%d.yaml", i)
		r.Scenarios = append(r.Scenarios, reports.Scenario{Name: name, File: file, Covers: []string{"R1"}, WallMS: 1000})
		verdict := "OK"
		if i == 4 {
			verdict = "FAILED"
		}
		r.Results = append(r.Results,
			reports.Result{Scenario: name, Requirement: "R1", Verdict: verdict, Check: "loss_detected", File: file, AtMS: float64(100 + i), Detail: "detail " + name},
			reports.Result{Scenario: name, Requirement: "U1", Verdict: "OK", Check: "lifecycle", File: file, AtMS: 900, Detail: "legal"})
	}
	r.Tally()
	return r
}

// writeShards deals the whole run's scenarios round-robin into n report.json
// files and returns their paths.
func writeShards(t *testing.T, whole *reports.Report, n int) []string {
	t.Helper()
	var paths []string
	for i := 0; i < n; i++ {
		part := *whole
		part.Scenarios, part.Results = nil, nil
		for j, sc := range whole.Scenarios {
			if j%n != i {
				continue
			}
			part.Scenarios = append(part.Scenarios, sc)
			for _, res := range whole.Results {
				if res.Scenario == sc.Name {
					part.Results = append(part.Results, res)
				}
			}
		}
		part.Tally()
		p, err := part.WriteJSON(filepath.Join(t.TempDir(), fmt.Sprintf("shard%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// report --merge over a run's three shards writes one column, and the
// joined report.json holds the whole run's results, result by result.
func TestReportMergeJoinsShards(t *testing.T) {
	whole := wholeRun()
	out := t.TempDir()
	code, stdout, stderr := main2(append([]string{"report", "--merge", "--out", out}, writeShards(t, whole, 3)...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var m struct {
		SDKs []struct {
			Label   string         `json:"label"`
			Sources []string       `json:"sources"`
			Joined  string         `json:"joined"`
			Totals  map[string]int `json:"totals"`
		} `json:"sdks"`
	}
	b, err := os.ReadFile(filepath.Join(out, "merged.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil || len(m.SDKs) != 1 || len(m.SDKs[0].Sources) != 3 || m.SDKs[0].Joined != "faultline-go-0.1.0/report.json" {
		t.Fatalf("merged.json: %v %s", err, b)
	}
	joined, err := reports.ReadJSON(filepath.Join(out, m.SDKs[0].Joined))
	if err != nil {
		t.Fatal(err)
	}
	if len(joined.Results) != len(whole.Results) {
		t.Fatalf("%d results joined, the run had %d", len(joined.Results), len(whole.Results))
	}
	for i, want := range whole.Results { // file order is the run's order here
		got := joined.Results[i]
		if got.Scenario != want.Scenario || got.Requirement != want.Requirement || got.Check != want.Check ||
			got.Verdict != want.Verdict || got.Detail != want.Detail || got.AtMS != want.AtMS {
			t.Errorf("result %d: joined %+v, run %+v", i, got, want)
		}
	}
	if fmt.Sprint(joined.Totals) != fmt.Sprint(whole.Totals) || fmt.Sprint(m.SDKs[0].Totals) != fmt.Sprint(whole.Totals) {
		t.Errorf("totals %v / %v, run's %v", joined.Totals, m.SDKs[0].Totals, whole.Totals)
	}
	for _, f := range []string{"index.html", "summary.md", "faultline-go-0.1.0/index.html", "faultline-go-0.1.0/pages/scenario-4.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if page, _ := os.ReadFile(filepath.Join(out, "index.html")); !strings.Contains(string(page), `href="faultline-go-0.1.0/index.html"`) {
		t.Error("the merged column does not link to its joined report")
	}
	if !strings.Contains(stdout, "faultline-go-0.1.0/report.json") {
		t.Errorf("the joined report's files are not listed: %s", stdout)
	}
}

// Two reports of one SDK that disagree about a scenario are not parts of
// one run: exit 2, naming the scenario.
func TestReportMergeRefusesConflictingResults(t *testing.T) {
	whole := wholeRun()
	a := writeShards(t, whole, 1)[0]
	whole.Results[5].Verdict = "FAILED"
	whole.Tally()
	b := writeShards(t, whole, 1)[0]
	code, _, stderr := main2("report", "--merge", a, b, "--out", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "scenario scenario-2") {
		t.Errorf("exit %d, stderr %q: want 2 and the scenario named", code, stderr)
	}
}
