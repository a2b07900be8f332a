package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validate runs the validate command and returns its exit code and output.
func validate(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"validate"}, args...), &out, &errb)
	return code, out.String() + errb.String()
}

// TestValidateExplainsEachMistake: each file of testdata/validate-bad holds
// one kind of mistake; validate names the likely fix (or what the scenario
// lacks) at its position.
func TestValidateExplainsEachMistake(t *testing.T) {
	const dir = "testdata/validate-bad/"
	want := strings.Join([]string{
		dir + `a-check-typo.yaml:9:13: unknown check "reconect_window" (did you mean "reconnect_window"?)`,
		dir + `b-check-prefix.yaml:9:13: unknown check "reconnect" (did you mean one of "reconnect_before_failover", "reconnect_timeout", "reconnect_window"?)`,
		dir + `c-fault-and-kind.yaml:3:28: unknown server kind "sesion" (did you mean "session"?)`,
		dir + `c-fault-and-kind.yaml:7:31: unknown fault "blackhol" (did you mean "blackhole"?)`,
		dir + `d-tab.yaml:7:1: tab in indentation: YAML indents with spaces`,
		dir + `e-duration.yaml:7:41: bad duration "5 seconds" for for: a duration is a number and a unit, e.g. 500ms, 2s, 1m30s`,
		dir + `f-nothing-to-judge.yaml:12:13: check loss_detected cannot judge R1 here: it needs a loss fault (cut, reset, blackhole or down) on a link, and the timeline has none`,
		dir + `f-nothing-to-judge.yaml:13:13: check failover_sequence cannot judge F1 here: it judges autofailover, and client.failover.auto is off`,
		dir + `f-nothing-to-judge.yaml:14:13: check exactly_once_in_order cannot judge R3 here: it needs a client step {subscribe: quotes}, and no step subscribes to "quotes"`,
	}, "\n") + "\n"
	code, out := validate(t, "testdata/validate-bad")
	if code != 2 || out != want {
		t.Fatalf("exit %d, want 2; got:\n%s\nwant:\n%s", code, out, want)
	}
}

// TestValidateAcceptsWhatTheChecksNeed: the checks of f-nothing-to-judge.yaml
// validate once the scenario has what each needs.
func TestValidateAcceptsWhatTheChecksNeed(t *testing.T) {
	if code, out := validate(t, "testdata/validate-good"); code != 0 || out != "ok: 1 path(s) valid\n" {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// TestValidateFolderWithoutScenarios: a folder with no scenario file in it
// is a mistyped path, not a pass.
func TestValidateFolderWithoutScenarios(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("no scenario here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := validate(t, dir)
	if want := dir + ": no scenario file (*.yaml, *.yml) in this folder or below\n"; code != 2 || out != want {
		t.Fatalf("exit %d, want 2; got %q, want %q", code, out, want)
	}
}

// TestValidateMissingPath: a path that does not exist is named, exit 2,
// and the other paths are still validated.
func TestValidateMissingPath(t *testing.T) {
	code, out := validate(t, "testdata/validate-nope", "testdata/validate-good")
	if want := "testdata/validate-nope: no such file or folder\n"; code != 2 || out != want {
		t.Fatalf("exit %d, want 2; got %q, want %q", code, out, want)
	}
}
