package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// sameSDK is what makes reports one column of a merge: the SDK, its
// version and the driver that ran it. The shards of one run share it, as do
// runs of one SDK over different folders; the same library behind another
// driver (in-process and over stdio) is another column.
func sameSDK(r *Report) string { return r.sdkLabel() + "\x00" + r.Driver }

// Union joins reports of one SDK (the shards of one run, or one report per
// folder of scenarios) into one report, as if one run had run them all:
//
//   - scenarios and their results are unioned, in scenario-file order (the
//     order a whole run over their folders takes);
//   - a scenario in two reports is kept once when its results are the same
//     in both, and is an error naming it and both reports when they differ;
//     a scenario cut short by an interrupt yields to a judged copy;
//   - totals are counted again; started is the earliest, wall the span from
//     it to the latest end, seed the first report's;
//   - the union is incomplete only for what no report ran: scenarios one
//     report did not run and no other did, and cut scenarios no other judged.
//
// Reports of different SDKs, versions or drivers, or whose hellos differ, are
// an error: their verdicts were judged against different declarations.
// sources name the reports in errors.
func Union(reps []*Report, sources []string) (*Report, error) {
	if len(reps) == 0 {
		return nil, fmt.Errorf("no report to join")
	}
	first := reps[0]
	hello, _ := json.Marshal(first.SDK)
	u := &Report{SDK: first.SDK, Driver: first.Driver, Started: first.Started, Seed: first.Seed,
		Results: []Result{}, Scenarios: []Scenario{}}
	type kept struct {
		from    int // the report it came from
		results []Result
		cut     bool
	}
	byName := map[string]*kept{}
	scenario := map[string]Scenario{}
	var names []string
	end := first.Started
	notRun := map[string]bool{}
	for i, r := range reps {
		if sameSDK(r) != sameSDK(first) {
			return nil, fmt.Errorf("%s (%s, driver %q) and %s (%s, driver %q) are different SDKs: they are two columns, not one",
				sources[0], first.sdkLabel(), first.Driver, sources[i], r.sdkLabel(), r.Driver)
		}
		if h, _ := json.Marshal(r.SDK); !bytes.Equal(h, hello) {
			return nil, fmt.Errorf("%s and %s: %s said different hellos (%s, %s): their verdicts were judged against different declarations",
				sources[0], sources[i], r.sdkLabel(), hello, h)
		}
		if r.Started.Before(u.Started) {
			u.Started = r.Started
		}
		if e := r.Started.Add(time.Duration(r.WallMS * float64(time.Millisecond))); e.After(end) {
			end = e
		}
		cut := ""
		if r.Incomplete != nil {
			cut = r.Incomplete.Cut
			for _, n := range r.Incomplete.NotRun {
				notRun[n] = true
			}
		}
		results := r.byScenario()
		seen := map[string]bool{}
		for _, sc := range r.Scenarios {
			seen[sc.Name] = true
		}
		var own []Scenario
		own = append(own, r.Scenarios...)
		for _, res := range r.Results { // results of a scenario the report does not list: keep them too
			if !seen[res.Scenario] {
				seen[res.Scenario] = true
				own = append(own, Scenario{Name: res.Scenario, File: res.File})
			}
		}
		for _, sc := range own {
			k := &kept{from: i, results: results[sc.Name], cut: sc.Name == cut}
			prev, dup := byName[sc.Name]
			switch {
			case !dup:
				names = append(names, sc.Name)
			case k.cut:
				continue // a judged (or equally cut) copy is already kept
			case prev.cut:
				// the judged copy replaces the cut one
			case !sameResults(prev.results, k.results):
				return nil, fmt.Errorf("scenario %s is in %s and %s with different results: they are not parts of one run (compare them with faultline report --changes)",
					sc.Name, sources[prev.from], sources[i])
			default:
				continue // the same results: kept once
			}
			byName[sc.Name], scenario[sc.Name] = k, sc
		}
	}
	sort.SliceStable(names, func(a, b int) bool { return scenario[names[a]].File < scenario[names[b]].File })
	var cuts []string
	for _, n := range names {
		k := byName[n]
		u.Scenarios = append(u.Scenarios, scenario[n])
		u.Results = append(u.Results, k.results...)
		delete(notRun, n)
		if k.cut {
			cuts = append(cuts, n)
		}
	}
	if len(cuts) > 0 || len(notRun) > 0 {
		u.Incomplete = &Incomplete{Reason: "interrupted", Cut: strings.Join(cuts, ", ")}
		for n := range notRun {
			u.Incomplete.NotRun = append(u.Incomplete.NotRun, n)
		}
		sort.Strings(u.Incomplete.NotRun)
	}
	u.WallMS = float64(end.Sub(u.Started)) / float64(time.Millisecond)
	u.Tally()
	return u, nil
}

// sameResults compares two scenarios' results field by field, as
// report.json holds them.
func sameResults(a, b []Result) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
