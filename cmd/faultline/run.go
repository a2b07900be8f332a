package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/driver/stdio"
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
	out := fs.String("report", "faultline-report", "folder for report.json, junit.xml, summary.md and index.html")
	seed := fs.Int64("seed", 1, "seed for jitter and shuffles")
	opTimeout := fs.Duration("op-timeout", 10*time.Second, "bound on a driver's hello and on each op's reply")
	var kinds kindSwaps
	fs.Var(&kinds, "server-kind", "run servers of one kind as another, FROM=TO (e.g. nats=nats-server: the real server behind the same links); repeatable")
	modes := addModeFlags(fs) // mode.go
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
		// One driver process per client, started from argv: no shell.
		argv, err := splitCommand(*sdk)
		if err != nil {
			fmt.Fprintf(stderr, "faultline: --sdk: %v\n", err)
			return 2
		}
		factory = stdio.Factory(argv, stdio.Seed(*seed), stdio.HelloTimeout(*opTimeout))
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
	if err := kinds.apply(scs); err != nil {
		fmt.Fprintf(stderr, "faultline: --server-kind: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	topo, closeTopo, err := modes.open(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "faultline: %v\n", err)
		return 2
	}
	defer closeTopo() // runs before stop (LIFO): a second Ctrl-C cannot cut the cleanup short

	if why := refusedAll(topo, scs); why != "" { // mode.go
		fmt.Fprintf(stderr, "faultline: nothing to run in %s mode: %s\n", *modes.mode, why)
		return 2
	}
	started := time.Now()
	var runs []*runner.Result
	var hello driver.Hello
	cut := "" // the scenario an interrupt cut short
	for i, sc := range scs {
		// each scenario is bounded by its own timeline plus generous teardown
		bound := sc.End() + 30*time.Second
		if *sdk != "go" { // a driver process per client: 300 of them take seconds to start
			bound += time.Duration(sc.Clients) * 200 * time.Millisecond
		}
		sctx, cancel := context.WithTimeout(ctx, bound)
		res := runner.Run(sctx, sc, runner.Config{Driver: factory, Topology: topo, OpTimeout: *opTimeout})
		cancel()
		if res.Hello.SDK != "" {
			hello = res.Hello
		}
		runs = append(runs, res)
		status := summary(res)
		if ctx.Err() != nil { // its checks saw half a timeline
			cut, status = sc.Name, "INTERRUPTED (not judged)"
		}
		fmt.Fprintf(stdout, "[%d/%d] %-40s %s  %.1fs\n", i+1, len(scs), sc.Name, status, res.Wall.Seconds())
		if cut != "" {
			break
		}
		for i, c := range res.Checks {
			switch {
			case check.FailsRun(c.Verdict):
				fmt.Fprintf(stdout, "      %s %s %s: %s\n", c.Verdict, c.Requirement, c.Check, c.Detail)
			case c.Verdict == check.Unsupported && i == 0: // one reason for the scenario: it did not run
				fmt.Fprintf(stdout, "      UNSUPPORTED (not run): %s\n", c.Detail)
			}
		}
	}
	rep := reports.Build(hello, started, *seed, runs)
	rep.Driver = *sdk
	if cut != "" {
		var notRun []string
		for _, sc := range scs[len(runs):] {
			notRun = append(notRun, sc.Name)
		}
		fmt.Fprintf(stderr, "faultline: interrupted during %s; %d scenario(s) not run\n", cut, len(notRun))
		rep.Interrupt(cut, notRun)
	}
	files, err := rep.WriteAll(*out)
	if err != nil {
		fmt.Fprintf(stderr, "faultline: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "%s: %v  (%s)\n", strings.Join(files, " "), map[string]int(rep.Totals), time.Since(started).Round(time.Millisecond))
	if rep.Failed() || rep.Incomplete != nil {
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
	for _, v := range check.Verdicts() {
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

func init() {
	register(&command{name: "run", summary: "run scenarios against an SDK (the Go engine or a driver command) and write reports", run: cmdRun})
}

func init() {
	register(&command{name: "list", summary: "list the scenarios (name, requirements, labels, file) a label filter selects", run: cmdList})
}
