// Command faultline runs conformance scenarios against a client engine and
// writes reports; it also validates and lists scenario files, judges recorded
// runs again, merges reports and serves fake servers for external runs.
//
// Each command is one file that registers itself (commands.go); `faultline
// help` lists them with their one-line descriptions, and `faultline help CMD`
// or `faultline CMD --help` prints a command's usage and flags on stdout
// (exit 0); `faultline version` prints the build.
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
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[1] != "help" {
			c, ok := commands[args[1]]
			if !ok {
				fmt.Fprintf(stderr, "faultline help: unknown command %q%s\n", args[1], suggestCommand(args[1]))
				return 2
			}
			return help(c, stdout, stderr)
		}
		usage(stdout)
		return 0
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "faultline: unknown command %q%s\n", args[0], suggestCommand(args[0]))
		usage(stderr)
		return 2
	}
	// Help as a command's first argument, for every command alike: those that
	// take paths (validate) would otherwise read "--help" as one.
	if len(args) > 1 && isHelp(args[1]) {
		return help(c, stdout, stderr)
	}
	return c.run(args[1:], stdout, stderr)
}
