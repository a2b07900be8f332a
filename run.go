package faultline

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/matchers"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/reports"
)

// Report is what Run ran and wrote: report.json's content (the embedded
// reports.Report: sdk, results, totals, …), the folder and files it wrote,
// and each scenario's run (its history, verdicts and problems).
type Report struct {
	*reports.Report
	Dir   string
	Files []string
	Runs  []*runner.Result
}

// Run certifies an SDK from its own test: it runs the selected scenarios
// (by default every built-in scenario the SDK speaks) one after another,
// each as a subtest named after the scenario, and each of the scenario's
// checks as a subtest under it ("R4_reconnect_window"). A check FAILED, or
// UNKNOWN (the harness could not judge), fails its subtest with what was
// expected, what was measured, and the timeline around it; OK, NON-STRICT
// and INFORMATIONAL pass (logged with -v); UNIMPLEMENTED (a feature the SDK
// does not declare) and UNSUPPORTED are skipped, saying why. Then it writes
// report.json, junit.xml, summary.md and index.html to ReportDir.
//
// The servers and Toxiproxy run in this process, on ephemeral ports. Every
// scenario is bounded by its timeline plus 30s, and by the test's deadline
// (go test -timeout): a scenario the deadline would cut short fails, and
// the report says which were not run. `go test -run
// 'TestX/reconnect-heal-early'` runs one scenario.
//
// Bad options, a set with bad scenario files, a selection that matches
// nothing, or an SDK whose driver does not start end the test (t.Fatal).
func Run(t *testing.T, opts ...Option) *Report {
	t.Helper()
	c := defaults()
	for _, o := range opts {
		o(&c)
	}
	if len(c.errs) > 0 {
		t.Fatalf("faultline.Run: %s", strings.Join(c.errs, "; "))
	}
	eng, err := newEngine(c)
	if err != nil {
		t.Fatal(err)
	}
	if eng.probe != nil {
		ctx, cancel := context.WithTimeout(t.Context(), c.opTimeout+5*time.Second)
		eng.hello, err = ProbeHello(ctx, eng.probe)
		cancel()
		if err != nil {
			t.Fatalf("faultline.Run: starting the SDK (%s): %v", eng.name, err)
		}
	}
	all, err := c.load()
	if err != nil {
		t.Fatalf("faultline.Run: loading the scenarios:\n%v", err)
	}
	scs, err := pick(all, c.paths, c.label)
	if err != nil {
		t.Fatal(err)
	}
	scs, left := spoken(eng.hello, scs)
	if len(left) > 0 {
		t.Logf("faultline: %d selected scenario(s) left out: %s %s speaks %s, they do not: %s",
			len(left), eng.hello.SDK, eng.hello.Version, protocolOf(eng.hello), strings.Join(left, ", "))
	}
	if len(scs) == 0 {
		t.Fatalf("faultline.Run: none of the selected scenarios speaks %s, the protocol of %s", protocolOf(eng.hello), eng.hello.SDK)
	}

	started := time.Now()
	var runs []*runner.Result
	hello := eng.hello
	cut, stopped := "", -1
	for i, sc := range scs {
		var res *runner.Result
		var cutShort bool
		t.Run(sc.Name, func(t *testing.T) { res, cutShort = runScenario(t, sc, eng, c) })
		if res == nil && !cutShort { // not selected by go test -run
			continue
		}
		if res != nil {
			runs = append(runs, res)
			if res.Hello.SDK != "" {
				hello = res.Hello
			}
		}
		if cutShort {
			if res != nil {
				cut = sc.Name
			}
			stopped = i
			break
		}
	}
	rep := reports.Build(hello, started, c.seed, runs)
	rep.Driver = eng.name
	if stopped >= 0 {
		var notRun []string
		for _, sc := range scs[stopped:] {
			if sc.Name != cut {
				notRun = append(notRun, sc.Name)
			}
		}
		rep.Interrupt(cut, notRun)
	}
	dir := c.reportDir
	if dir == "" {
		dir = filepath.Join("faultline-report", filepath.FromSlash(t.Name()))
	}
	files, err := rep.WriteAll(dir)
	if err != nil {
		t.Errorf("faultline.Run: writing the reports: %v", err)
	}
	t.Logf("faultline: %v; reports in %s", map[string]int(rep.Totals), dir)
	return &Report{Report: rep, Dir: dir, Files: files, Runs: runs}
}

// protocolOf is the protocol a hello speaks ("" is faultline's own).
func protocolOf(h driver.Hello) string {
	if h.Protocol == "" {
		return "faultline's session protocol"
	}
	return h.Protocol
}

// deadlineGrace is kept between a scenario's bound and the test's deadline:
// time to write the reports and let go test print the failure.
const deadlineGrace = 10 * time.Second

// runScenario runs one scenario in its subtest and judges its checks in
// subtests of it. cut is true when the test's deadline ended the scenario
// before its timeline did, or left it no time to start (res nil): its checks
// are not judged, and Run runs nothing more.
func runScenario(t *testing.T, sc *scenario.Scenario, eng *engine, c config) (res *runner.Result, cut bool) {
	bound := runner.Bound(sc, eng.procs)
	deadline, short := time.Now().Add(bound), false
	if d, ok := t.Deadline(); ok && d.Add(-deadlineGrace).Before(deadline) {
		deadline, short = d.Add(-deadlineGrace), true
		if time.Until(deadline) < sc.End() {
			t.Errorf("not run: the test's deadline leaves %v, the scenario's timeline is %v (raise go test -timeout)",
				time.Until(d).Round(time.Second), sc.End())
			return nil, true
		}
	}
	ctx, cancel := context.WithDeadline(t.Context(), deadline)
	res = runner.Run(ctx, sc, runner.Config{Driver: eng.factory, OpTimeout: c.opTimeout})
	ended := ctx.Err() != nil
	cancel()
	if short && ended {
		t.Errorf("cut short by the test's deadline after %v (raise go test -timeout): not judged", res.Wall.Round(time.Millisecond))
		return res, true
	}
	t.Logf("%s: %s in %v", sc.File, tally(res), res.Wall.Round(time.Millisecond))
	for _, p := range res.Problems {
		t.Logf("problem: %s", p)
	}
	for _, cr := range res.Checks {
		t.Run(cr.Requirement+" "+cr.Check, func(t *testing.T) { verdict(t, cr, res) })
	}
	return res, false
}

// verdict turns one check's result into its subtest's outcome.
func verdict(t *testing.T, cr runner.CheckResult, res *runner.Result) {
	switch v := cr.Verdict; {
	case check.FailsRun(v):
		t.Errorf("%s %s (%s) is %s, want OK\n%s", cr.Requirement, cr.Check, cr.File, v, matchers.Explain(matchers.Verdict{Check: cr, History: res.History}))
	case v == check.Unimplemented || v == check.Unsupported:
		t.Skipf("%s: %s", v, cr.Detail)
	default:
		t.Logf("%s: %s", v, cr.Detail)
	}
}

// tally is a scenario's results as words, "5 OK, 1 FAILED" (check.Words),
// as the CLI says them.
func tally(r *runner.Result) string {
	n := map[string]int{}
	for _, c := range r.Checks {
		n[c.Verdict]++
	}
	return check.Words(n)
}
