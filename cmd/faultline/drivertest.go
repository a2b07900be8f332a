package main

import (
	"fmt"
	"io"

	"github.com/faultline/faultline/harness/driver/selftest"
)

const driverTestUsage = `faultline driver-test --sdk "DRIVER COMMAND" [--timeout D] [--exit-wait D]

The first thing to run on a driver of your own: it starts the driver as a run
would, checks its hello, sends every op of the protocol (an unknown op and a
line that is not JSON too), opens sessions on a fake server of the hello's
protocol, holds replies and events to the protocol and to what the server
recorded, judges the lifecycle rule (U1), and checks that the driver exits
on the exit op and when its stdin ends. One line a step, PASS, FAIL or SKIP;
each problem names the offending line. See docs/drivers.md.
Exit: 0 every step passed, 1 a step failed, 2 bad input (the driver cannot
be started).`

// cmdDriverTest runs a driver's self-test (harness/driver/selftest): the
// first thing a driver author runs.
func cmdDriverTest(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("driver-test", stderr) // flags.go
	sdk := fs.String("sdk", "", `the driver's command line, split like a simple shell line and run without a shell (e.g. "node sdk/node/driver.js")`)
	timeout := fs.Duration("timeout", selftest.DefaultTimeout, "bound on the hello, on each reply, and on each event an op should cause (faultline run's --op-timeout)")
	exitWait := fs.Duration("exit-wait", selftest.DefaultExitWait, "bound on the exit after an exit op or the end of stdin (the harness's grace before it kills the driver)")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if *sdk == "" || fs.NArg() > 0 || *timeout <= 0 || *exitWait <= 0 {
		fmt.Fprintf(stderr, "usage: %s\n", commands["driver-test"].synopsis())
		return 2
	}
	argv, err := splitCommand(*sdk)
	if err != nil {
		fmt.Fprintf(stderr, "faultline driver-test: --sdk: %v\n", err)
		return 2
	}
	rep, err := selftest.Run(selftest.Config{Argv: argv, Timeout: *timeout, ExitWait: *exitWait})
	if err != nil {
		fmt.Fprintf(stderr, "faultline driver-test: %v\n", err)
		return 2
	}
	rep.Write(stdout)
	if rep.Failed() {
		return 1
	}
	return 0
}

func init() {
	register(&command{name: "driver-test", summary: "self-test a driver: hello, every op, events against a fake server, lifecycle, exit", flags: true,
		usage: driverTestUsage, run: cmdDriverTest})
}
