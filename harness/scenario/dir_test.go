package scenario

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLoadDirNested(t *testing.T) {
	scs, err := LoadDir("testdata/tree", testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sc := range scs {
		got = append(got, sc.Name+"@"+filepath.ToSlash(sc.File))
	}
	want := []string{ // sorted by path; README.txt is no scenario
		"three@testdata/tree/nested/deeper/three.yaml",
		"two@testdata/tree/nested/two.yml",
		"one@testdata/tree/one.yaml",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestLoadDirDuplicateNames(t *testing.T) {
	scs, err := LoadDir("testdata/dup", testRegistry())
	want := `testdata/dup/sub/b.yaml:1:7: duplicate scenario name "same" (also at testdata/dup/a.yaml:1:7)`
	if scs != nil || err == nil || filepath.ToSlash(err.Error()) != want {
		t.Fatalf("got %v, %v\nwant %s", scs, err, want)
	}
}

// TestLoadDirCollects: problems of every file come back together, sorted by
// file then position; good files do not run when any file is bad.
func TestLoadDirCollects(t *testing.T) {
	scs, err := LoadDir("testdata", testRegistry())
	var es Errors
	if scs != nil || !errors.As(err, &es) {
		t.Fatalf("got %v, %v", scs, err)
	}
	// testdata holds the dup pair and, besides, files named "one", "two",
	// "three" only once each: the one problem is the duplicate.
	if len(es) != 1 || es[0].Pos.Line != 1 {
		t.Fatalf("errors:\n%v", err)
	}
}

func TestLoadDirMissing(t *testing.T) {
	if _, err := LoadDir("testdata/nope", testRegistry()); err == nil {
		t.Fatal("no error for a missing directory")
	}
}
