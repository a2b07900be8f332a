package main

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Every registered command explains itself on stdout with exit 0, however
// help is asked for: `faultline help CMD`, `faultline CMD --help`, -h,
// -help. Commands that take paths (validate) are no exception.
func TestEveryCommandHasHelp(t *testing.T) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 9 {
		t.Fatalf("only %d commands registered: %v", len(names), names)
	}
	for _, name := range names {
		c := commands[name]
		if c.summary == "" {
			t.Errorf("%s: no summary", name)
		}
		var first string
		for _, args := range [][]string{{"help", name}, {name, "--help"}, {name, "-h"}, {name, "-help"}, {"--help", name}} {
			var out, errb bytes.Buffer
			code := Main(args, &out, &errb)
			if code != 0 || errb.Len() > 0 {
				t.Errorf("%v: exit %d, stderr %q; want 0 and nothing on stderr", args, code, errb.String())
			}
			for _, want := range []string{"faultline " + name + ": " + c.summary, "usage: faultline " + name} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("%v: stdout lacks %q:\n%s", args, want, out.String())
				}
			}
			if first == "" {
				first = out.String()
			} else if out.String() != first {
				t.Errorf("%v: help differs from `faultline help %s`:\n%s\nvs\n%s", args, name, out.String(), first)
			}
		}
	}
}

// A command that parses flags lists every flag it defines, with its default,
// and honours -h anywhere among its arguments.
func TestHelpListsFlagsWithDefaults(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"run", "--seed", "3", "--label", "x", "-h"}, &out, &errb); code != 0 || errb.Len() > 0 {
		t.Fatalf("run ... -h: exit %d, stderr %q", code, errb.String())
	}
	for _, want := range []string{
		"  --sdk string\n", `(default "go")`,
		"  --hello-timeout duration\n", "(default 5s)",
		"  --op-timeout duration\n", "(default 10s)",
		"  --driver-stderr\n", "  --label string\n", "  --server-kind FROM=TO\n",
		`(default "faultline-report")`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("run help lacks %q:\n%s", want, out.String())
		}
	}
	for _, name := range []string{"run", "list", "check", "serve", "driver"} {
		if !commands[name].flags {
			t.Errorf("%s parses flags but its help would not list them", name)
		}
	}
}

// A bad flag is a mistake: exit 2, the error, the nearest flag and the
// synopsis on stderr, nothing on stdout.
func TestBadFlagGoesToStderr(t *testing.T) {
	for _, args := range [][]string{{"run", "--seeed", "2"}, {"list", "--labl", "x"}, {"check", "--scenario", "x", "r.json"}, {"driver", "--sesions", "2"}, {"serve", "--contrl", "x"}} {
		var out, errb bytes.Buffer
		code := Main(args, &out, &errb)
		if code != 2 || out.Len() > 0 {
			t.Errorf("%v: exit %d, stdout %q", args, code, out.String())
		}
		for _, want := range []string{"flag provided but not defined", "did you mean --", "usage: faultline " + args[0]} {
			if !strings.Contains(errb.String(), want) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, want, errb.String())
			}
		}
	}
}

// An unknown command is named with the nearest one; help for one too.
func TestUnknownCommand(t *testing.T) {
	for _, args := range [][]string{{"rnu"}, {"help", "rnu"}} {
		var out, errb bytes.Buffer
		if code := Main(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), `did you mean "run"?`) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := Main(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage: faultline COMMAND") {
		t.Errorf("no command: exit %d, stderr %q", code, errb.String())
	}
}

// writeHelp leaves out zero defaults and quotes strings, as Go's flag
// package does.
func TestWriteHelp(t *testing.T) {
	fs := newFlags("x", io.Discard)
	fs.String("name", "", "a `NAME`")
	fs.String("dir", "out", "a folder")
	fs.Int("n", 0, "a count")
	fs.Bool("v", false, "loud")
	var b bytes.Buffer
	writeHelp(&b, &command{name: "x", summary: "does x", usage: "faultline x [flags]\n\nMore words."}, fs)
	want := `faultline x: does x

usage: faultline x [flags]

More words.

flags:
  --dir string
      a folder (default "out")
  --n int
      a count
  --name NAME
      a NAME
  --v
      loud
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if s := (&command{name: "x", usage: "faultline x A\n\nmore"}).synopsis(); s != "faultline x A" {
		t.Errorf("synopsis %q", s)
	}
}

// docs/cli.md has a section for every command and names every flag of the
// commands that parse them: help and the manual cannot drift apart.
func TestCLIDocCoversEveryCommandAndFlag(t *testing.T) {
	b, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	flagLine := regexp.MustCompile(`(?m)^  --([a-z][a-z0-9-]*)`)
	for name, c := range commands {
		if !strings.Contains(doc, "\n## "+name+"\n") {
			t.Errorf("docs/cli.md has no section ## %s", name)
		}
		if !c.flags {
			continue
		}
		var out bytes.Buffer
		if code := Main([]string{"help", name}, &out, io.Discard); code != 0 {
			t.Fatalf("help %s: exit %d", name, code)
		}
		for _, m := range flagLine.FindAllStringSubmatch(out.String(), -1) {
			if !strings.Contains(doc, "`--"+m[1]+"`") {
				t.Errorf("docs/cli.md does not name %s's flag `--%s`", name, m[1])
			}
		}
	}
}
