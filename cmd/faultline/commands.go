package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness/scenario"
)

// command is one subcommand of faultline: its name, a one-line description
// for `faultline help`, its usage, and the function that runs it with its
// arguments.
type command struct {
	name    string
	summary string
	// usage is the synopsis, then anything the flags do not say; empty:
	// "faultline NAME".
	usage string
	// flags says the command parses its arguments with parseFlags (flags.go):
	// its help is then its own run with -h, so the flags listed are exactly
	// the ones it defines, defaults included.
	flags bool
	run   func(args []string, stdout, stderr io.Writer) int
}

// commands holds every registered subcommand by name.
var commands = map[string]*command{}

// register adds a subcommand; each command's file registers its own in init.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("faultline: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func usage(w io.Writer) {
	fmt.Fprint(w, "faultline certifies how client engines manage their connections when the network misbehaves.\n\nusage: faultline COMMAND [flags]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\n`faultline help COMMAND` or `faultline COMMAND --help` prints a command's usage and flags;\n`faultline version` prints the build.\nExit codes: 0 nothing FAILED, 1 something FAILED, 2 bad input (nothing run).\n")
}

// isHelp reports whether an argument asks for help.
func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

// help prints a command's help on stdout and exits 0. A command that parses
// flags prints its own (it knows its flags); for the others the summary and
// usage are all there is.
func help(c *command, stdout, stderr io.Writer) int {
	if c.flags {
		return c.run([]string{"-h"}, stdout, stderr)
	}
	writeHelp(stdout, c, nil)
	return 0
}

// synopsis is the command's usage up to its first blank line.
func (c *command) synopsis() string {
	u := c.usage
	if u == "" {
		u = "faultline " + c.name
	}
	s, _, _ := strings.Cut(u, "\n\n")
	return s
}

// suggestCommand is "; did you mean X?" for the registered command nearest to
// an unknown one (scenario.Nearest: the validator's own reading of a typo);
// "" when none is near.
func suggestCommand(name string) string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	near := scenario.Nearest(name, names)
	if len(near) == 0 {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", strings.Join(near, `" or "`))
}
