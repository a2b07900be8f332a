package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/faultline/faultline/harness/scenario"
)

// newFlags is a command's flag set: errors go to stderr, and nothing is
// printed by the flag package itself beyond its one-line error (parseFlags
// prints the help or the synopsis, each where it belongs).
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses a command's arguments. -h, -help or --help anywhere is a
// request, not a mistake: the command's help goes to stdout and the command
// ends with exit 0. A bad flag ends it with exit 2, the flag package's
// message and the synopsis on stderr. ok is false when the command is to
// return code at once.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		writeHelp(stdout, commandOf(fs), fs)
		return 0, false
	}
	c := commandOf(fs)
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
		if near := nearestFlag(fs, strings.TrimLeft(name, "-")); near != "" {
			fmt.Fprintf(stderr, "did you mean --%s?\n", near)
		}
	}
	fmt.Fprintf(stderr, "usage: %s\n(`faultline help %s` lists every flag)\n", c.synopsis(), c.name)
	return 2, false
}

// nearestFlag is the flag of fs nearest to an unknown name ("" when none
// is near): a typo, or a flag of another command.
func nearestFlag(fs *flag.FlagSet, name string) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if near := scenario.Nearest(name, names); len(near) == 1 {
		return near[0]
	}
	return ""
}

// commandOf is the registered command a flag set is named after (a bare one
// if none is: a test's own flag set).
func commandOf(fs *flag.FlagSet) *command {
	if c, ok := commands[fs.Name()]; ok {
		return c
	}
	return &command{name: fs.Name()}
}

// writeHelp prints a command's help: its summary, its usage, and, given its
// flag set, every flag with its default.
func writeHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	if c.summary != "" {
		fmt.Fprintf(w, "faultline %s: %s\n\n", c.name, c.summary)
	}
	u := c.usage
	if u == "" {
		u = "faultline " + c.name
	}
	fmt.Fprintf(w, "usage: %s\n", strings.TrimRight(u, "\n"))
	if fs == nil {
		return
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprint(w, "\nflags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		kind, text := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		if d := defaultText(f); d != "" {
			text += " (default " + d + ")"
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, strings.ReplaceAll(text, "\n", "\n      "))
	})
}

// defaultText is a flag's default as help shows it: strings quoted, and
// nothing for a zero value (no default worth stating).
func defaultText(f *flag.Flag) string {
	switch f.DefValue {
	case "", "0", "0s", "false":
		return ""
	}
	if kind, _ := flag.UnquoteUsage(f); kind == "string" {
		return fmt.Sprintf("%q", f.DefValue)
	}
	return f.DefValue
}
