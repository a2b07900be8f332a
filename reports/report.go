package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/runner"
)

// Report is report.json.
type Report struct {
	SDK       driver.Hello `json:"sdk"`
	Driver    string       `json:"driver,omitempty"` // the --sdk it ran with ("go" or a command line)
	Started   time.Time    `json:"started"`
	WallMS    float64      `json:"wall_ms"`
	Seed      int64        `json:"seed"`
	Results   []Result     `json:"results"`
	Scenarios []Scenario   `json:"scenarios"`
	Totals    Totals       `json:"totals"`
	// Incomplete is set when the run stopped before its last scenario (an
	// interrupt): absent in a full report.
	Incomplete *Incomplete `json:"incomplete,omitempty"`
}

// Result is one check's verdict (the fixed minimum plus where it came from).
type Result struct {
	Scenario     string              `json:"scenario"`
	Requirement  string              `json:"requirement"`
	Verdict      string              `json:"verdict"`
	Measurements []check.Measurement `json:"measurements"`
	Detail       string              `json:"detail"`
	Check        string              `json:"check"`
	File         string              `json:"file"`
	AtMS         float64             `json:"at_ms"`
}

// Scenario keeps each run's timeline, for reports that draw it.
type Scenario struct {
	Name     string          `json:"name"`
	File     string          `json:"file"`
	Covers   []string        `json:"covers"`
	WallMS   float64         `json:"wall_ms"`
	Problems []string        `json:"problems,omitempty"`
	History  history.History `json:"history"`
	// Source is the scenario file's text as it was loaded for the run, so
	// that faultline check can judge the history again without the file
	// (absent in reports written before it was kept).
	Source string `json:"source,omitempty"`
	// NoHello is set when the scenario's drivers never said hello (they
	// failed to start, or the mode did not run it): its checks were judged
	// without the features of the report's sdk.
	NoHello bool `json:"no_hello,omitempty"`
	// DriverStderr is what each driver process wrote on stderr (its tail),
	// kept with `faultline run --driver-stderr`.
	DriverStderr []runner.DriverStderr `json:"driver_stderr,omitempty"`
	// NotSpoken is why the scenario does not apply to the SDK (it speaks
	// another protocol than the scenario's servers): its UNIMPLEMENTED
	// results take nothing from a requirement's verdict where the SDK was
	// judged (Applicable).
	NotSpoken string `json:"not_spoken,omitempty"`
}

// Totals counts verdicts.
type Totals map[string]int

// Build assembles a report from run results.
func Build(hello driver.Hello, started time.Time, seed int64, runs []*runner.Result) *Report {
	r := &Report{SDK: hello, Started: started, Seed: seed, Results: []Result{}, Scenarios: []Scenario{}}
	for _, run := range runs {
		for _, c := range run.Checks {
			r.Results = append(r.Results, ResultOf(c))
		}
		r.Scenarios = append(r.Scenarios, Scenario{Name: run.Scenario.Name, File: run.Scenario.File,
			Covers: run.Scenario.Covers, WallMS: check.Ms(run.Wall), Problems: run.Problems, History: run.History,
			Source: run.Scenario.Source, NoHello: run.Hello.SDK == "", DriverStderr: run.DriverStderr, NotSpoken: run.NotSpoken})
	}
	r.Tally()
	r.WallMS = check.Ms(time.Since(started))
	return r
}

// ResultOf is a check's verdict as a report holds it.
func ResultOf(c runner.CheckResult) Result {
	return Result{Scenario: c.Scenario, Requirement: c.Requirement, Verdict: c.Verdict,
		Measurements: c.Measurements, Detail: c.Detail, Check: c.Check, File: c.File, AtMS: check.Ms(c.At)}
}

// Tally counts Totals from Results: Build does, and so does faultline check
// after it replaced them.
func (r *Report) Tally() { r.Totals = tally(r.Results) }

// tally counts the results' verdicts: Totals is always this of Results.
func tally(results []Result) Totals {
	t := Totals{}
	for _, res := range results {
		t[res.Verdict]++
	}
	return t
}

// Failed reports whether any result fails the run: FAILED or UNKNOWN.
func (r *Report) Failed() bool { return r.Totals[check.Failed]+r.Totals[check.Unknown] > 0 }

// WriteJSON writes dir/report.json.
func (r *Report) WriteJSON(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	p := filepath.Join(dir, "report.json")
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}

// ReadJSON reads a report.json.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// notSpoken is the set of the report's scenarios that do not apply to its
// SDK (Scenario.NotSpoken).
func (r *Report) notSpoken() map[string]bool {
	out := map[string]bool{}
	for _, sc := range r.Scenarios {
		if sc.NotSpoken != "" {
			out[sc.Name] = true
		}
	}
	return out
}

// Worst is a requirement's verdict over the report: the worst of its
// results in the scenarios that apply to the SDK; the worst of all of them
// only when none applies. A Go engine judged OK on R2 wherever it speaks the
// scenario's protocol is not "UNIMPLEMENTED" on R2 for the NATS scenarios
// it cannot speak ("" when no result judges req).
func (r *Report) Worst(req string) string {
	skip := r.notSpoken()
	applies, all := "", ""
	for _, x := range r.Results {
		if x.Requirement != req {
			continue
		}
		all = check.Worse(all, x.Verdict)
		if !skip[x.Scenario] {
			applies = check.Worse(applies, x.Verdict)
		}
	}
	if applies != "" {
		return applies
	}
	return all
}
