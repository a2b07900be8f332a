package runner

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/faultline/faultline/harness/scenario"
)

// LoadFS over the repository's scenarios gives what Load gives, the File
// fields read inside the FS instead of on disk.
func TestLoadFSGivesWhatLoadGives(t *testing.T) {
	disk, err := Load("../../scenarios")
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadFS(os.DirFS("../.."), "scenarios")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(disk) || len(got) == 0 {
		t.Fatalf("LoadFS: %d scenarios, Load: %d", len(got), len(disk))
	}
	for i, sc := range got {
		want := disk[i]
		if wf := strings.TrimPrefix(want.File, "../../"); sc.File != wf {
			t.Errorf("scenario %d: File %q, want %q", i, sc.File, wf)
		}
		if sc.Source != want.Source {
			t.Errorf("%s: Source differs", sc.Name)
		}
		a, b := asJSON(t, sc), asJSON(t, want)
		if a != b {
			t.Errorf("%s: LoadFS and Load differ:\n%s\n%s", sc.Name, a, b)
		}
	}
}

func asJSON(t *testing.T, sc *scenario.Scenario) string {
	t.Helper()
	c := *sc
	c.File = ""
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const goodScenario = `name: NAME
covers: [R1]
servers:
  - {name: s1}
client:
  servers: [s1]
steps:
  - {at: 0s, client: connect}
  - {at: 100ms, link: s1, fault: cut, for: 300ms}
expect:
  - {check: loss_detected, requirement: R1}
`

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for p, src := range files {
		m[p] = &fstest.MapFile{Data: []byte(src)}
	}
	return m
}

func TestLoadFSLoadsAFolderOrAFile(t *testing.T) {
	fsys := mapFS(map[string]string{
		"set/a/one.yaml":  strings.Replace(goodScenario, "NAME", "one", 1),
		"set/b/two.yml":   strings.Replace(goodScenario, "NAME", "two", 1),
		"set/b/notes.txt": "not a scenario",
		"other/x.yaml":    "not: [valid",
	})
	scs, err := LoadFS(fsys, "set")
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) != 2 || scs[0].File != "set/a/one.yaml" || scs[1].File != "set/b/two.yml" || scs[1].Name != "two" {
		t.Fatalf("got %v", files(scs))
	}
	scs, err = LoadFS(fsys, "set/b/two.yml")
	if err != nil || len(scs) != 1 || scs[0].Name != "two" {
		t.Fatalf("one file: %v, %v", files(scs), err)
	}
}

func files(scs []*scenario.Scenario) []string {
	var out []string
	for _, sc := range scs {
		out = append(out, sc.File)
	}
	return out
}

// Problems are positioned inside the FS, every file's at once, sorted.
func TestLoadFSReportsEveryProblemWithItsPosition(t *testing.T) {
	fsys := mapFS(map[string]string{
		"s/a.yaml": strings.Replace(strings.Replace(goodScenario, "NAME", "a", 1), "R1]", "R99]", 1),
		"s/b.yaml": strings.Replace(strings.Replace(goodScenario, "NAME", "b", 1), "loss_detected", "loss_detcted", 1),
	})
	_, err := LoadFS(fsys, "s")
	var es scenario.Errors
	if !errors.As(err, &es) {
		t.Fatalf("want scenario.Errors, got %v", err)
	}
	msg := err.Error()
	ia, ib := strings.Index(msg, "s/a.yaml:2:"), strings.Index(msg, "s/b.yaml:11:")
	if ia < 0 || ib < 0 || ia > ib || !strings.Contains(msg, "R99") || !strings.Contains(msg, "loss_detcted") {
		t.Fatalf("want both files' problems at file:line:col, in order; got:\n%s", msg)
	}
}

func TestLoadFSRejectsADuplicateName(t *testing.T) {
	fsys := mapFS(map[string]string{
		"s/a.yaml":   strings.Replace(goodScenario, "NAME", "same", 1),
		"s/b/c.yaml": strings.Replace(goodScenario, "NAME", "same", 1),
	})
	_, err := LoadFS(fsys, "s")
	if err == nil || !strings.Contains(err.Error(), `s/b/c.yaml:1:7: duplicate scenario name "same" (also at s/a.yaml:1:7)`) {
		t.Fatalf("want the duplicate at both positions, got %v", err)
	}
}

func TestLoadFSMissingRootIsAnError(t *testing.T) {
	_, err := LoadFS(mapFS(map[string]string{"s/a.yaml": goodScenario}), "nope")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("want fs.ErrNotExist, got %v", err)
	}
}
