package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/driver/stdio"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
	"github.com/faultline/faultline/reports"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", stderr) // flags.go
	sdk := fs.String("sdk", "go", `the engine under test: "go" (in-process) or a driver command, split like a shell line, run without a shell`)
	dir := fs.String("scenarios", "scenarios", "folder of scenario files (searched recursively)")
	label := fs.String("label", "", "label filter in Ginkgo's grammar: && || ! ( ) , /regex/ (e.g. 'reconnect && !slow', 'a,b')")
	out := fs.String("report", "faultline-report", "folder for report.json, junit.xml, summary.md and index.html")
	seed := fs.Int64("seed", 1, "seed for jitter and shuffles")
	opTimeout := fs.Duration("op-timeout", 10*time.Second, "bound on each op's reply from a driver")
	helloTimeout := fs.Duration("hello-timeout", 5*time.Second, "bound on a driver's start and hello: once before any scenario runs (a driver that misses it is bad input, exit 2), then for every driver of the run")
	keepStderr := fs.Bool("driver-stderr", false, fmt.Sprintf("keep what each driver process writes on stderr (its last %d KiB) in report.json", driverStderrKeep>>10))
	var kinds kindSwaps
	fs.Var(&kinds, "server-kind", "run servers of one kind as another: `FROM=TO` (e.g. nats=nats-server: the real server behind the same links); repeatable")
	modes := addModeFlags(fs) // mode.go
	shard := addShardFlag(fs) // shard.go
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "faultline run: unexpected argument %q (scenarios are named with --scenarios PATH)\n", fs.Arg(0))
		return 2
	}
	filter, err := parseLabels(*label)
	if err != nil {
		fmt.Fprintf(stderr, "faultline: --label: %v\n", err)
		return 2
	}
	var factory driver.Factory
	var argv []string // the driver command; nil for the in-process engine
	switch *sdk {
	case "go":
		factory = godriver.Factory(*seed)
		if *keepStderr {
			fmt.Fprintln(stderr, "faultline: --driver-stderr: the in-process Go engine has no driver process; nothing to keep")
		}
	default:
		// One driver process per client, started from argv: no shell.
		if argv, err = splitCommand(*sdk); err == nil {
			err = findDriver(argv) // probe.go
		}
		if err != nil {
			fmt.Fprintf(stderr, "faultline: --sdk: %v\n", err)
			return 2
		}
		opts := []stdio.Option{stdio.Seed(*seed), stdio.HelloTimeout(*helloTimeout)}
		if *keepStderr {
			opts = append(opts, stdio.KeepStderr(driverStderrKeep))
		}
		factory = stdio.Factory(argv, opts...)
	}
	scs, err := loadScenarios(*dir, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	scs = shard.pick(filterScenarios(scs, filter), stderr)
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
	hello := godriver.Hello() // the in-process engine's; a driver's comes from its probe
	if argv != nil {
		if hello, err = probeDriver(ctx, argv, *seed, *helloTimeout); err != nil { // probe.go
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "faultline: interrupted before any scenario ran")
				return 2
			}
			fmt.Fprintf(stderr, "faultline: --sdk %q: %v\n%s\n", *sdk, err, probeAdvice(*helloTimeout))
			return 2
		}
	}
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
	cut := ""   // the scenario an interrupt cut short
	notRun := 0 // scenarios whose results the hello alone decided
	for i, sc := range scs {
		if res, why := planned(topo, hello, sc); res != nil {
			runs = append(runs, res)
			notRun++
			fmt.Fprintf(stdout, "%s %-40s not run: %s (%s)\n", progress(i+1, len(scs)), sc.Name, verdictWords(res.Checks), why)
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, runner.Bound(sc, *sdk != "go"))
		res := runner.Run(sctx, sc, runner.Config{Driver: factory, Topology: topo, OpTimeout: *opTimeout, HelloTimeout: *helloTimeout})
		cancel()
		if res.Hello.SDK != "" {
			hello = res.Hello
		}
		runs = append(runs, res)
		status := verdictWords(res.Checks)
		if ctx.Err() != nil { // its checks saw half a timeline
			cut, status = sc.Name, "INTERRUPTED (not judged)"
		}
		fmt.Fprintf(stdout, "%s %-40s %s in %.1fs\n", progress(i+1, len(scs)), sc.Name, status, res.Wall.Seconds())
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
		var left []string
		for _, sc := range scs[len(runs):] {
			left = append(left, sc.Name)
		}
		fmt.Fprintf(stderr, "faultline: interrupted during %s; %d scenario(s) not run\n", cut, len(left))
		rep.Interrupt(cut, left)
	}
	files, err := rep.WriteAll(*out)
	if err != nil {
		fmt.Fprintf(stderr, "faultline: %v\n", err)
		return 2
	}
	fmt.Fprintln(stdout, closingLine(len(runs), notRun, rep, time.Since(started), *out, files))
	if rep.Failed() || rep.Incomplete != nil {
		return 1
	}
	return 0
}

// driverStderrKeep is how much of each driver process's stderr
// --driver-stderr keeps: the end of a chatty driver's log, bounded.
const driverStderrKeep = 64 << 10

// planned is a scenario's result when the driver's hello alone decides it
// (runner.Plan), with why; nil when it must run. A scenario the mode
// refuses is left to the runner, which says UNSUPPORTED.
func planned(topo topology.Topology, hello driver.Hello, sc *scenario.Scenario) (*runner.Result, string) {
	if topology.Refuses(topo, sc) != "" {
		return nil, ""
	}
	began := time.Now()
	checks, why := runner.Plan(hello, sc)
	if checks == nil {
		return nil, ""
	}
	return &runner.Result{Scenario: sc, Hello: hello, Checks: checks, Wall: time.Since(began), NotSpoken: runner.Speaks(hello, sc)}, why
}

func filterScenarios(scs []*scenario.Scenario, f labelFilter) []*scenario.Scenario {
	var out []*scenario.Scenario
	for _, sc := range scs {
		if f.Match(sc.Labels) {
			out = append(out, sc)
		}
	}
	return out
}

func cmdList(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("list", stderr) // flags.go
	dir := fs.String("scenarios", "scenarios", "folder of scenario files (searched recursively), or one file")
	label := fs.String("label", "", "label filter, as run's (Ginkgo's grammar: && || ! ( ) , /regex/)")
	shard := addShardFlag(fs) // shard.go
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	filter, err := parseLabels(*label)
	if err != nil {
		fmt.Fprintf(stderr, "faultline: --label: %v\n", err)
		return 2
	}
	scs, err := loadScenarios(*dir, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	for _, sc := range shard.pick(filterScenarios(scs, filter), stderr) {
		fmt.Fprintf(stdout, "%-40s %v %v %s\n", sc.Name, sc.Covers, sc.Labels, sc.File)
	}
	return 0
}

func init() {
	register(&command{name: "run", summary: "run scenarios against an SDK (the Go engine or a driver command) and write reports", flags: true,
		usage: `faultline run [--sdk go|"DRIVER COMMAND"] [--scenarios PATH] [--label EXPR] [--report DIR] [flags]

A driver command is started once first: a driver that cannot start or says
no hello is bad input (exit 2). A scenario whose results its hello alone
decides (another protocol, or every requirement needs a feature it does not
declare) is not run: its results are UNIMPLEMENTED, with the reason.
Exit: 0 nothing FAILED or UNKNOWN, 1 something is (or the run was
interrupted), 2 bad input (nothing run).`, run: cmdRun})
}

func init() {
	register(&command{name: "list", summary: "list the scenarios (name, requirements, labels, file) a label filter selects", flags: true,
		usage: "faultline list [--scenarios PATH] [--label EXPR] [flags]", run: cmdList})
}
