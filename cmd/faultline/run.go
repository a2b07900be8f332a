package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/reports"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sdk := fs.String("sdk", "go", `the engine under test: "go" (in-process) or a driver command`)
	dir := fs.String("scenarios", "scenarios", "folder of scenario files (searched recursively)")
	label := fs.String("label", "", "label filter, e.g. 'reconnect && !slow' or 'a,b'")
	out := fs.String("report", "faultline-report", "folder for report.json")
	seed := fs.Int64("seed", 1, "seed for jitter and shuffles")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	filter, err := parseLabels(*label)
	if err != nil {
		fmt.Fprintf(stderr, "faultline: --label: %v\n", err)
		return 2
	}
	var factory driver.Factory
	switch *sdk {
	case "go":
		factory = godriver.Factory(*seed)
	default:
		fmt.Fprintf(stderr, "faultline: --sdk %q: only the in-process Go engine (\"go\") is available in this version\n", *sdk)
		return 2
	}
	scs, err := runner.Load(*dir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	scs = filterScenarios(scs, filter)
	if len(scs) == 0 {
		fmt.Fprintf(stderr, "faultline: no scenario in %s matches\n", *dir)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	started := time.Now()
	var runs []*runner.Result
	var hello driver.Hello
	for i, sc := range scs {
		// each scenario is bounded by its own timeline plus generous teardown
		sctx, cancel := context.WithTimeout(ctx, sc.End()+30*time.Second)
		res := runner.Run(sctx, sc, runner.Config{Driver: factory})
		cancel()
		if res.Hello.SDK != "" {
			hello = res.Hello
		}
		runs = append(runs, res)
		fmt.Fprintf(stdout, "[%d/%d] %-40s %s  %.1fs\n", i+1, len(scs), sc.Name, summary(res), res.Wall.Seconds())
		for _, c := range res.Checks {
			if c.Verdict == check.Failed {
				fmt.Fprintf(stdout, "      FAILED %s %s: %s\n", c.Requirement, c.Check, c.Detail)
			}
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "faultline: interrupted")
			break
		}
	}
	rep := reports.Build(hello, started, *seed, runs)
	p, err := rep.WriteJSON(*out)
	if err != nil {
		fmt.Fprintf(stderr, "faultline: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "%s: %v  (%s)\n", p, map[string]int(rep.Totals), time.Since(started).Round(time.Millisecond))
	if rep.Failed() || ctx.Err() != nil {
		return 1
	}
	return 0
}

func summary(r *runner.Result) string {
	n := map[string]int{}
	for _, c := range r.Checks {
		n[c.Verdict]++
	}
	s := ""
	for _, v := range []string{check.OK, check.NonStrict, check.Failed, check.Unimplemented, check.Informational} {
		if n[v] > 0 {
			s += fmt.Sprintf("%s:%d ", v, n[v])
		}
	}
	return s
}

func filterScenarios(scs []*scenario.Scenario, f labelFilter) []*scenario.Scenario {
	var out []*scenario.Scenario
	for _, sc := range scs {
		if f.match(sc.Labels) {
			out = append(out, sc)
		}
	}
	return out
}

func cmdList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("scenarios", "scenarios", "folder of scenario files")
	label := fs.String("label", "", "label filter")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	filter, err := parseLabels(*label)
	if err != nil {
		fmt.Fprintf(stderr, "faultline: --label: %v\n", err)
		return 2
	}
	scs, err := runner.Load(*dir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	for _, sc := range filterScenarios(scs, filter) {
		fmt.Fprintf(stdout, "%-40s %v %v %s\n", sc.Name, sc.Covers, sc.Labels, sc.File)
	}
	return 0
}
