package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/faultline/faultline", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "c3e216b"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "faultline v0.3.0\nmodule   github.com/faultline/faultline\nrevision c3e216b (2026-01-02T03:04:05Z), with changes not committed\ngo       go1.26.8 linux/amd64\n"
	if got := versionText(stamped, true, "linux/amd64"); got != want {
		t.Errorf("stamped:\n%s\nwant:\n%s", got, want)
	}
	devel := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/faultline/faultline", Version: "(devel)"}}
	got := versionText(devel, true, "linux/amd64")
	for _, w := range []string{"faultline (devel)\n", "revision unknown: built without version control stamps", "go       go1.26.8 linux/amd64\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("devel: lacks %q:\n%s", w, got)
		}
	}
	if got := versionText(nil, false, "x/y"); !strings.Contains(got, "no build information") {
		t.Errorf("no build info: %q", got)
	}
}

// version, --version and -version print the same, on stdout; an argument
// is a mistake.
func TestVersionCommand(t *testing.T) {
	var first string
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		var out, errb bytes.Buffer
		if code := Main(args, &out, &errb); code != 0 || errb.Len() > 0 {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errb.String())
		}
		if !strings.HasPrefix(out.String(), "faultline ") || !strings.Contains(out.String(), "\ngo       go1.") {
			t.Errorf("%v: %q", args, out.String())
		}
		if first == "" {
			first = out.String()
		} else if out.String() != first {
			t.Errorf("%v differs: %q vs %q", args, out.String(), first)
		}
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"version", "x"}, &out, &errb); code != 2 {
		t.Errorf("version x: exit %d", code)
	}
}
