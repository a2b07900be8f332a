package reports

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
)

// shards splits a report's scenarios into n reports, dealt round-robin (as a
// sharded run deals them), each written to and read back from its own
// report.json.
func shards(t *testing.T, whole *Report, n int) ([]*Report, []string) {
	t.Helper()
	byScenario := whole.byScenario()
	var reps []*Report
	var paths []string
	for i := 0; i < n; i++ {
		p := *whole
		p.Started = whole.Started.Add(time.Duration(i) * time.Second)
		p.WallMS = whole.WallMS / float64(n)
		p.Scenarios, p.Results = nil, []Result{}
		for j, sc := range whole.Scenarios {
			if j%n == i {
				p.Scenarios = append(p.Scenarios, sc)
				p.Results = append(p.Results, byScenario[sc.Name]...)
			}
		}
		p.Tally()
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("shard-%d", i+1))
		path, err := p.WriteJSON(dir)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ReadJSON(path)
		if err != nil {
			t.Fatal(err)
		}
		reps, paths = append(reps, back), append(paths, path)
	}
	return reps, paths
}

// resultKey names a result within a report: its scenario, requirement,
// check, and which of that scenario's results with the same three it is.
func keyed(rs []Result) map[string]string {
	out := map[string]string{}
	n := map[string]int{}
	for _, r := range rs {
		k := r.Scenario + "|" + r.Requirement + "|" + r.Check
		n[k]++
		b, _ := json.Marshal(r)
		out[fmt.Sprintf("%s|%d", k, n[k])] = string(b)
	}
	return out
}

// Merging the three shards of a run gives one column with the very results
// of the whole run, result by result, and the same matrix.
func TestMergeOfShardsIsTheWholeRun(t *testing.T) {
	whole := bigReport(20)
	parts, paths := shards(t, whole, 3)
	m, err := Merge(parts, paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.SDKs) != 1 || len(m.SDKs[0].Sources) != 3 {
		t.Fatalf("columns %+v: want the three shards in one", m.SDKs)
	}
	u := m.SDKs[0].report
	want, got := keyed(whole.Results), keyed(u.Results)
	if len(got) != len(want) {
		t.Errorf("%d results joined, the whole run has %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s:\n whole  %s\n joined %s", k, w, got[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: joined, not in the whole run", k)
		}
	}
	if fmt.Sprint(u.Totals) != fmt.Sprint(whole.Totals) || fmt.Sprint(m.SDKs[0].Totals) != fmt.Sprint(whole.Totals) {
		t.Errorf("totals %v, whole run's %v", u.Totals, whole.Totals)
	}
	if len(u.Scenarios) != len(whole.Scenarios) {
		t.Fatalf("%d scenarios, want %d", len(u.Scenarios), len(whole.Scenarios))
	}
	for i, sc := range u.Scenarios {
		if i > 0 && u.Scenarios[i-1].File > sc.File {
			t.Errorf("scenarios out of file order: %s before %s", u.Scenarios[i-1].File, sc.File)
		}
		var w Scenario
		for _, x := range whole.Scenarios {
			if x.Name == sc.Name {
				w = x
			}
		}
		a, _ := json.Marshal(sc)
		b, _ := json.Marshal(w)
		if string(a) != string(b) {
			t.Errorf("scenario %s differs from the whole run's", sc.Name)
		}
	}
	if u.Incomplete != nil || !u.Started.Equal(whole.Started) || u.WallMS < whole.WallMS/3+2000-1 {
		t.Errorf("incomplete %+v, started %v (want %v), wall %.0f", u.Incomplete, u.Started, whole.Started, u.WallMS)
	}
	one, err := Merge([]*Report{whole}, []string{"whole/report.json"})
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range one.Requirements {
		if fmt.Sprint(row) != fmt.Sprint(m.Requirements[i]) {
			t.Errorf("matrix row %s: whole %v, joined %v", row.Requirement, row, m.Requirements[i])
		}
	}
}

// A scenario in two reports is kept once when its results are the same,
// and is an error naming it and both reports when they differ.
func TestUnionOfOverlappingReports(t *testing.T) {
	a, b := fixture(), fixture()
	u, err := Union([]*Report{a, b}, []string{"a.json", "b.json"})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Results) != len(a.Results) || len(u.Scenarios) != 2 || u.Totals[check.OK] != 3 {
		t.Errorf("the same report twice: %d results, %d scenarios, totals %v", len(u.Results), len(u.Scenarios), u.Totals)
	}
	b.Results[1].Verdict, b.Results[1].Detail = check.Failed, "too slow"
	_, err = Union([]*Report{a, b}, []string{"a.json", "b.json"})
	if err == nil || !strings.Contains(err.Error(), "scenario recovers") || !strings.Contains(err.Error(), "a.json") || !strings.Contains(err.Error(), "b.json") {
		t.Errorf("error %v, want one naming the scenario and both reports", err)
	}
	if _, err := Merge([]*Report{a, b}, []string{"a.json", "b.json"}); err == nil {
		t.Error("Merge joins what Union refuses")
	}
	c := fixture()
	c.SDK.Features = nil // the same SDK, another hello: judged against other declarations
	if _, err := Union([]*Report{a, c}, []string{"a.json", "c.json"}); err == nil || !strings.Contains(err.Error(), "different hellos") {
		t.Errorf("different hellos: %v", err)
	}
	d := fixture()
	d.Driver = "another driver" // another driver: not one column, not an error for Merge
	if _, err := Union([]*Report{a, d}, []string{"a.json", "d.json"}); err == nil {
		t.Error("Union joins reports of two drivers")
	}
	if m, err := Merge([]*Report{a, d}, []string{"a.json", "d.json"}); err != nil || len(m.SDKs) != 2 {
		t.Errorf("two drivers: %v, %v", m, err)
	}
}

// An interrupted shard's cut scenario yields to another report's judged
// copy, and what it did not run is not missing when another report ran it.
func TestUnionCompletesInterruptedParts(t *testing.T) {
	whole := fixture()
	cut := fixture()
	cut.Interrupt("hostile", []string{"later"})
	rest := fixture()
	rest.Scenarios = append(rest.Scenarios, Scenario{Name: "later", File: "scenarios/later.yaml"})
	rest.Results = append(rest.Results, Result{Scenario: "later", Requirement: "R1", Verdict: check.OK, Check: "loss_detected"})
	u, err := Union([]*Report{cut, rest}, []string{"cut.json", "rest.json"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Incomplete != nil {
		t.Errorf("every scenario was judged somewhere, yet %+v", u.Incomplete)
	}
	if len(u.Results) != len(whole.Results)+1 || u.Totals[check.Failed] != 1 {
		t.Errorf("results %d, totals %v", len(u.Results), u.Totals)
	}
	for _, sc := range u.Scenarios {
		if sc.Name == "hostile" && len(sc.Problems) != 1 {
			t.Errorf("hostile kept the cut copy: %q", sc.Problems)
		}
	}
	alone, err := Union([]*Report{cut, fixture()}, []string{"cut.json", "again.json"})
	if err != nil {
		t.Fatal(err)
	}
	if alone.Incomplete == nil || alone.Incomplete.Cut != "" || strings.Join(alone.Incomplete.NotRun, ",") != "later" {
		t.Errorf("still not run: %+v", alone.Incomplete)
	}
}
