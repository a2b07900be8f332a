package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/reports"
)

// cmdCheck judges a stored run again, as Jepsen re-analyses a stored test:
// it reads a report.json written by faultline run, judges every scenario's
// saved history with today's checkers (through the runner's own judge) and
// with the scenario as run (its source, kept in the report) or, with
// --scenarios, as it is now in DIR (matched by name), and writes the four
// report files again into another folder. It prints how many results it
// compared and each one that changed.
//
// An interrupted run's report stays partial: its cut-short scenario stays
// not judged. Exit codes as run's: 0 nothing FAILED or UNKNOWN, 1 something
// did (or the report is partial), 2 bad input (nothing written).
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr) // flags.go
	dir := fs.String("scenarios", "", "judge with the scenario files in this folder (matched by name) instead of the sources kept in the report")
	out := fs.String("report", "", "folder for the new report files (default: the report's folder with -check appended)")
	var files []string
	for { // flags may come before or after the report
		if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "usage: %s\n(`faultline help check` lists every flag)\n", commands["check"].synopsis())
		return 2
	}
	path := files[0]
	old, err := reports.ReadJSON(path)
	if err != nil {
		fmt.Fprintf(stderr, "faultline check: %v\n", err)
		return 2
	}
	if *out == "" {
		*out = defaultCheckDir(path)
	}
	if sameDir(*out, filepath.Dir(path)) {
		fmt.Fprintf(stderr, "faultline check: --report %s is the folder of %s: the report checked would be overwritten; choose another folder\n", *out, path)
		return 2
	}

	var scs map[string]*scenario.Scenario
	if *dir != "" {
		scs, err = scenariosFromDir(old, *dir, stderr)
	} else {
		scs, err = scenariosFromReport(old, path)
	}
	if err != nil {
		var errs scenario.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stderr, e.Error())
			}
			if *dir == "" {
				fmt.Fprintf(stderr, "faultline check: a scenario source kept in %s no longer loads (positions are in the source as run); pass --scenarios DIR with fixed files\n", path)
			}
		} else {
			fmt.Fprintf(stderr, "faultline check: %v\n", err)
		}
		return 2
	}

	if *dir != "" {
		for _, name := range timelinesChanged(old, scs) {
			fmt.Fprintf(stderr, "faultline check: warning: %s in %s differs from the scenario that ran in more than its expect entries (servers, client, steps or duration): its saved history is the old timeline's; judging the new one needs a new run\n", name, *dir)
		}
	}
	rep, changes, compared := rejudgeReport(old, scs)
	from := "the scenario sources kept in the report"
	if *dir != "" {
		from = "the scenarios in " + *dir
	}
	fmt.Fprintf(stdout, "faultline check: %s judged again with today's checkers and %s\n", path, from)
	changed := countChanged(changes)
	fmt.Fprintf(stdout, "%d result(s) compared: %d reproduced, %d changed", compared, compared-changed, changed)
	if extra := len(changes) - changed; extra > 0 {
		fmt.Fprintf(stdout, "; %d result(s) only on one side (checks added or removed)", extra)
	}
	fmt.Fprintln(stdout)
	for _, c := range changes {
		fmt.Fprintf(stdout, "  %s\n", c)
	}
	if in := rep.Incomplete; in != nil {
		fmt.Fprintf(stdout, "the run was %s", in.Reason)
		if in.Cut != "" {
			fmt.Fprintf(stdout, " during %s (still not judged)", in.Cut)
		}
		fmt.Fprintf(stdout, "; %d scenario(s) not run: the report stays partial\n", len(in.NotRun))
	}
	paths, err := rep.WriteAll(*out)
	if err != nil {
		fmt.Fprintf(stderr, "faultline check: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "%s: %s; %s\n", plurals(len(rep.Results), "result"), countWords(rep.Totals), reportsIn(*out, paths))
	if rep.Failed() || rep.Incomplete != nil {
		return 1
	}
	return 0
}

// defaultCheckDir is the folder beside the report's: reports/run1/report.json
// → reports/run1-check.
func defaultCheckDir(report string) string {
	d := filepath.Dir(report)
	if abs, err := filepath.Abs(d); err == nil {
		d = abs
	}
	return d + "-check"
}

// sameDir reports whether two paths name one folder.
func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && filepath.Clean(aa) == filepath.Clean(bb)
}

// judged lists the report's scenarios that were judged: all but the one an
// interrupt cut short.
func judged(rep *reports.Report) []reports.Scenario {
	var out []reports.Scenario
	for _, s := range rep.Scenarios {
		if rep.Incomplete != nil && s.Name == rep.Incomplete.Cut {
			continue
		}
		out = append(out, s)
	}
	return out
}

// scenariosFromReport parses each judged scenario's source, kept in the
// report, with today's loader.
func scenariosFromReport(rep *reports.Report, path string) (map[string]*scenario.Scenario, error) {
	var missing []string
	for _, s := range judged(rep) {
		if s.Source == "" {
			missing = append(missing, s.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s keeps no scenario source for %s (written by a faultline before check); pass --scenarios DIR",
			path, plural(missing))
	}
	reg := runner.Registry()
	scs := map[string]*scenario.Scenario{}
	var all scenario.Errors
	for _, s := range judged(rep) {
		sc, err := scenario.Parse(s.File, []byte(s.Source), reg)
		if err != nil {
			var errs scenario.Errors
			if !errors.As(err, &errs) {
				return nil, fmt.Errorf("%s: %w", s.File, err)
			}
			all = append(all, errs...)
			continue
		}
		if sc.Name != s.Name {
			return nil, fmt.Errorf("%s: the source kept for scenario %q now loads as %q", s.File, s.Name, sc.Name)
		}
		scs[s.Name] = sc
	}
	if len(all) > 0 {
		return nil, all
	}
	return scs, nil
}

// scenariosFromDir loads dir and picks the report's judged scenarios from
// it by name; every one must be there.
func scenariosFromDir(rep *reports.Report, dir string, stderr io.Writer) (map[string]*scenario.Scenario, error) {
	loaded, err := loadScenarios(dir, stderr)
	if err != nil {
		return nil, err
	}
	byName := map[string]*scenario.Scenario{}
	for _, sc := range loaded {
		byName[sc.Name] = sc
	}
	scs := map[string]*scenario.Scenario{}
	var missing []string
	for _, s := range judged(rep) {
		sc, ok := byName[s.Name]
		if !ok {
			missing = append(missing, s.Name)
			continue
		}
		scs[s.Name] = sc
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("--scenarios %s: no scenario named %s (the report ran it)", dir, plural(missing))
	}
	return scs, nil
}

// timelinesChanged names the scenarios of scs whose run (servers, client,
// steps, end) differs from the one the report ran, as far as the report
// keeps its source: judging their saved histories by the new expects reads
// an old timeline.
func timelinesChanged(rep *reports.Report, scs map[string]*scenario.Scenario) []string {
	reg := runner.Registry()
	var out []string
	for _, s := range judged(rep) {
		now, ok := scs[s.Name]
		if !ok || s.Source == "" {
			continue
		}
		ran, err := scenario.Parse(s.File, []byte(s.Source), reg)
		if err != nil { // today's loader refuses it: nothing to compare with
			continue
		}
		a, err1 := json.Marshal(timelineOf(ran))
		b, err2 := json.Marshal(timelineOf(now))
		if err1 == nil && err2 == nil && !bytes.Equal(a, b) {
			out = append(out, s.Name)
		}
	}
	return out
}

// timelineOf is what a scenario runs, without what judges it (its JSON
// leaves file positions out).
func timelineOf(sc *scenario.Scenario) any {
	return struct {
		Servers []scenario.Server
		Client  scenario.Client
		Clients int
		End     time.Duration
		Steps   []scenario.Step
	}{sc.Servers, sc.Client, sc.Clients, sc.End(), sc.Steps}
}

func plural(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return fmt.Sprintf("%d scenarios: %s", len(names), strings.Join(names, ", "))
}

// change is one result whose judgment differs between the report and
// today; Old or New is nil when the result exists on one side only (an
// expect added to or removed from an edited scenario).
type change struct {
	key      resultKey
	Old, New *reports.Result
	What     []string // the fields that differ
}

func (c change) String() string {
	v := func(r *reports.Result) string {
		if r == nil {
			return "(none)"
		}
		return r.Verdict
	}
	s := fmt.Sprintf("%s %s %s: %s → %s", c.key.Scenario, c.key.Requirement, c.key.label(), v(c.Old), v(c.New))
	if c.Old != nil && c.New != nil && c.Old.Verdict == c.New.Verdict {
		s += " (" + strings.Join(c.What, ", ") + " changed)"
	}
	if c.New != nil && c.New.Verdict != check.OK && c.New.Detail != "" {
		d, _, _ := strings.Cut(c.New.Detail, "\n")
		if len(d) > 200 {
			d = d[:200] + "…"
		}
		s += "\n      " + d
	}
	return s
}

// countChanged is how many compared results (present before and now) changed.
func countChanged(cs []change) int {
	n := 0
	for _, c := range cs {
		if c.Old != nil && c.New != nil {
			n++
		}
	}
	return n
}

// rejudgeReport judges every judged scenario of old again with its
// scenario from scs and returns the new report (old's, with new results,
// totals and scenario sources), the results that changed, and how many
// results both sides have.
func rejudgeReport(old *reports.Report, scs map[string]*scenario.Scenario) (*reports.Report, []change, int) {
	oldOf := map[string][]reports.Result{}
	for _, r := range old.Results {
		oldOf[r.Scenario] = append(oldOf[r.Scenario], r)
	}
	rep := *old
	rep.Results = []reports.Result{}
	rep.Scenarios = append([]reports.Scenario(nil), old.Scenarios...)
	for i, s := range rep.Scenarios {
		sc, ok := scs[s.Name]
		if !ok { // the cut-short scenario: not judged
			continue
		}
		saved := runner.Saved{
			History:  s.History,
			Hello:    old.SDK,
			HelloOK:  old.SDK.SDK != "" && !s.NoHello,
			Problems: s.Problems,
		}
		saved.Unsupported = unsupportedReason(oldOf[s.Name])
		for _, c := range runner.Rejudge(sc, saved) {
			rep.Results = append(rep.Results, reports.ResultOf(c))
		}
		// The new report says what it was judged with, so that checking it
		// again reproduces it.
		rep.Scenarios[i].File, rep.Scenarios[i].Source, rep.Scenarios[i].Covers = sc.File, sc.Source, sc.Covers
	}
	rep.Tally()
	changes, compared := compareResults(old.Results, rep.Results)
	return &rep, changes, compared
}

// unsupportedReason is why the mode refused a scenario, read from its
// results ("" if it ran): a scenario that ran is judged by its checkers,
// which never answer UNSUPPORTED, so results that are all UNSUPPORTED are
// those of a refused scenario, each with the reason.
func unsupportedReason(rs []reports.Result) string {
	if len(rs) == 0 {
		return ""
	}
	for _, r := range rs {
		if r.Verdict != check.Unsupported || r.Detail != rs[0].Detail {
			return ""
		}
	}
	return rs[0].Detail
}

// compareResults pairs the results by key and lists those whose judgment
// (verdict, detail, measurements, where it was decided) differs, in the
// new results' order, then those gone; compared counts the pairs.
func compareResults(old, now []reports.Result) ([]change, int) {
	oldKeys, newKeys := keyed(old), keyed(now)
	byKey := map[resultKey]int{}
	for i, k := range oldKeys {
		byKey[k] = i
	}
	var out []change
	compared := 0
	matched := map[int]bool{}
	for j, k := range newKeys {
		n := &now[j]
		i, ok := byKey[k]
		if !ok {
			out = append(out, change{key: k, New: n})
			continue
		}
		matched[i] = true
		compared++
		if what := differs(old[i], *n); len(what) > 0 {
			out = append(out, change{key: k, Old: &old[i], New: n, What: what})
		}
	}
	var gone []change
	for i, k := range oldKeys {
		if !matched[i] {
			gone = append(gone, change{key: k, Old: &old[i]})
		}
	}
	return append(out, gone...), compared
}

// differs names the judgment fields in which two results differ. The file
// is not one: with --scenarios it is the edited copy's.
func differs(a, b reports.Result) []string {
	var what []string
	if a.Verdict != b.Verdict {
		what = append(what, "verdict")
	}
	if a.Detail != b.Detail {
		what = append(what, "detail")
	}
	if !sameMeasurements(a.Measurements, b.Measurements) {
		what = append(what, "measurements")
	}
	if a.AtMS != b.AtMS {
		what = append(what, "at")
	}
	return what
}

// sameMeasurements compares measurements as report.json holds them (no
// measurement and an empty list are one).
func sameMeasurements(a, b []check.Measurement) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func init() {
	register(&command{name: "check", summary: "judge a recorded run's histories again, with today's checks", flags: true,
		usage: `faultline check REPORT.json [--scenarios DIR] [--report OUTDIR]

Judges the histories a report saved with this build's checkers, and writes
the four report files again into another folder; nothing is run. Exit codes
as run's.`, run: cmdCheck})
}
