package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/harness/runner"
)

// emptyCwd moves the test into an empty folder (restored after). Not
// parallel: the working directory is the process's.
func emptyCwd(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

func builtinCount(t *testing.T, root string) int {
	t.Helper()
	scs, err := runner.LoadFS(faultline.ScenarioFS(), root)
	if err != nil || len(scs) == 0 {
		t.Fatalf("built-in %s: %d scenarios, %v", root, len(scs), err)
	}
	return len(scs)
}

// From a folder without ./scenarios, list uses the built-in set and says so
// once; the files read as they do in the repository.
func TestListFromAnEmptyFolderUsesTheBuiltInScenarios(t *testing.T) {
	emptyCwd(t)
	n := builtinCount(t, "scenarios")
	var out, errb bytes.Buffer
	if code := Main([]string{"list"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := "faultline: no ./scenarios here: using the " + strconv.Itoa(n) + " scenarios built into faultline " + faultline.Version() + "\n"
	if errb.String() != want {
		t.Fatalf("stderr %q, want %q", errb.String(), want)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != n || !strings.Contains(out.String(), " scenarios/reconnect/server-close.yaml\n") {
		t.Fatalf("listed %d lines, want %d, with scenarios/reconnect/server-close.yaml:\n%s", len(lines), n, out.String())
	}
}

func TestABuiltInSubPathWorksWhenNotOnDisk(t *testing.T) {
	emptyCwd(t)
	n := builtinCount(t, "scenarios/reconnect")
	var out, errb bytes.Buffer
	if code := Main([]string{"list", "--scenarios", "./scenarios/reconnect", "--label", "close"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "no ./scenarios/reconnect here: using the "+strconv.Itoa(n)+" scenarios built into") {
		t.Fatalf("stderr: %q", errb.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.Contains(l, " scenarios/reconnect/") || !strings.Contains(l, "close") {
			t.Fatalf("a line outside scenarios/reconnect or without the close label: %q", l)
		}
	}
}

// A path given that is neither on disk nor in the built-in set is bad input.
func TestAMissingScenariosPathIsStillAnError(t *testing.T) {
	emptyCwd(t)
	for _, dir := range []string{"nope", "scenarios/nope", "../scenarios"} {
		for _, cmd := range []string{"list", "run"} {
			var out, errb bytes.Buffer
			if code := Main([]string{cmd, "--scenarios", dir}, &out, &errb); code != 2 {
				t.Errorf("%s --scenarios %s: exit %d, want 2 (stderr %q)", cmd, dir, code, errb.String())
			}
			if strings.Contains(errb.String(), "built into faultline "+faultline.Version()) {
				t.Errorf("%s --scenarios %s: used the built-in set: %q", cmd, dir, errb.String())
			}
		}
	}
	var out, errb bytes.Buffer
	Main([]string{"list", "--scenarios", "scenarios/nope"}, &out, &errb)
	if !strings.Contains(errb.String(), "nor among the scenarios built into faultline (scenarios/cascade, ") {
		t.Errorf("the error should name the built-in folders: %q", errb.String())
	}
}

// A ./scenarios on disk wins over the built-in set, silently.
func TestScenariosOnDiskWin(t *testing.T) {
	dir := emptyCwd(t)
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "docs/examples/cut-recovers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "scenarios"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scenarios", "mine.yaml"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"list"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if errb.Len() != 0 || strings.Count(out.String(), "\n") != 1 || !strings.Contains(out.String(), "example-cut-recovers") {
		t.Fatalf("want the one scenario on disk, quietly; got stdout %q stderr %q", out.String(), errb.String())
	}
}

// run from an empty folder runs a built-in scenario end to end, and its
// report names the file as in the repository.
func TestRunFromAnEmptyFolder(t *testing.T) {
	dir := emptyCwd(t)
	var out, errb bytes.Buffer
	code := Main([]string{"run", "--scenarios", "scenarios/reconnect/server-close.yaml", "--report", "rep"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "using the 1 scenarios built into faultline") {
		t.Errorf("stderr: %q", errb.String())
	}
	rep, err := os.ReadFile(filepath.Join(dir, "rep", "report.json"))
	if err != nil || !bytes.Contains(rep, []byte(`"file": "scenarios/reconnect/server-close.yaml"`)) {
		t.Fatalf("report.json should name the built-in file (%v):\n%.400s", err, rep)
	}
}

// repoRoot is the repository's root, from this package's folder (captured
// before a test changes directory: go test starts in the package's).
var startDir, _ = os.Getwd()

func repoRoot(t *testing.T) string {
	t.Helper()
	return filepath.Join(startDir, "..", "..")
}
