// Command faultline runs conformance scenarios against a client engine and
// writes reports; it also validates and lists scenario files.
//
//	faultline run [--sdk go|"<driver command>"] [--scenarios DIR] [--label EXPR] [--report DIR] [--seed N]
//	faultline validate PATH...
//	faultline schema
//	faultline list [--scenarios DIR] [--label EXPR]
//	faultline driver [--seed N] [--n K] [--sessions S]
//	faultline report [--merge] REPORT.json... --out DIR
//	faultline report --changes REPORT.json...
//	faultline check REPORT.json [--scenarios DIR] [--report OUTDIR]
//	faultline serve [--control ADDR] --server NAME,kind=session,listen=ADDR,...
//
// Exit codes: 0 nothing FAILED, 1 something FAILED, 2 bad input (nothing run).
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main is the whole command, callable from tests.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "list":
		return cmdList(args[1:], stdout, stderr)
	case "driver":
		return cmdDriver(args[1:], os.Stdin, stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout, stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "schema":
		return cmdSchema(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "faultline: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  faultline run [--sdk go|"<driver command>"] [--scenarios DIR] [--label EXPR] [--report DIR] [--seed N] [--op-timeout D]
      [--mode embedded|containers|external] [--topology FILE] [--toxiproxy URL]
  faultline validate PATH...
  faultline schema                             the scenario format's JSON Schema (docs/authoring.md)
  faultline list [--scenarios DIR] [--label EXPR]
  faultline driver [--seed N] [--n K] [--sessions S]  the Go engine as a stdio driver (S sessions per process, default 100)
  faultline report [--merge] REPORT.json... --out DIR
  faultline report --changes REPORT.json...     what changed between runs (soak)
  faultline check REPORT.json [--scenarios DIR] [--report OUTDIR]  judge a run's histories again (default OUTDIR: <reportdir>-check)
  faultline serve [--control ADDR] --server NAME,kind=session,listen=ADDR,... [--config FILE]
`)
}
