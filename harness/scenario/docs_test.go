package scenario_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/proxy"
)

// TestAuthoringGuideDocumentsEveryName: docs/authoring.md has a section
// (a heading "`name`") for every registered fault verb, check and server
// kind, so that a new one cannot ship undocumented for scenario authors.
func TestAuthoringGuideDocumentsEveryName(t *testing.T) {
	b, err := os.ReadFile("../../docs/authoring.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^#{2,6} `([a-z0-9_-]+)`\\s*$").FindAllStringSubmatch(string(b), -1) {
		headings[m[1]] = true
	}
	for what, names := range map[string][]string{
		"fault verb":  proxy.Verbs(),
		"check":       check.Names(),
		"server kind": fakeserver.Kinds(),
	} {
		for _, n := range names {
			if !headings[n] {
				t.Errorf("docs/authoring.md has no section for the %s %q (a heading #### `%s`)", what, n, n)
			}
		}
	}
}
