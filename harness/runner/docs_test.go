package runner

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/requirement"
)

var update = flag.Bool("update", false, "rewrite the generated blocks of docs/")

// TestGeneratedDocs fails when a generated block of docs/ differs from what
// the registries render today (a check added, or its requirements changed).
func TestGeneratedDocs(t *testing.T) {
	for _, path := range []string{"../../docs/requirements.md"} {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), "<!-- generated: checks-by-requirement -->") {
			t.Fatalf("%s has no generated checks-by-requirement block", path)
		}
		fresh, err := FillDocBlocks(string(raw))
		if err != nil {
			t.Fatal(err)
		}
		if fresh == string(raw) {
			continue
		}
		if *update {
			if err := os.WriteFile(path, []byte(fresh), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s is stale: run go test ./harness/runner -run TestGeneratedDocs -update", path)
	}
}

func TestFillDocBlocksReplacesOnlyItsBlock(t *testing.T) {
	in := "before\n<!-- generated: checks-by-requirement -->\nold\n<!-- end: checks-by-requirement -->\nafter\n"
	out, err := FillDocBlocks(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "before\n") || !strings.HasSuffix(out, "<!-- end: checks-by-requirement -->\nafter\n") ||
		strings.Contains(out, "old") || !strings.Contains(out, "| `backoff_schedule` | R2 |") {
		t.Errorf("got:\n%s", out)
	}
	if _, err := FillDocBlocks("<!-- generated: checks-by-requirement -->\nno end"); err == nil {
		t.Error("an unterminated block must be an error")
	}
}

// TestRequirementTextsNameTheirChecks holds docs/requirements.md's prose to
// the registry: each requirement's "Judged by" names every check that
// registers for it.
func TestRequirementTextsNameTheirChecks(t *testing.T) {
	raw, err := os.ReadFile("../../docs/requirements.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, id := range requirement.IDs() {
		i := strings.Index(text, "- **"+id+" ")
		if i < 0 {
			i = strings.Index(text, "- **"+id+"**")
		}
		if i < 0 {
			t.Errorf("docs/requirements.md has no entry for %s", id)
			continue
		}
		entry := text[i:]
		if j := strings.Index(entry[2:], "\n- **"); j >= 0 {
			entry = entry[:j+2]
		}
		if j := strings.Index(entry, "\n#"); j >= 0 {
			entry = entry[:j]
		}
		for _, n := range check.Names() {
			if slices.Contains(check.Judges(n), id) && !strings.Contains(entry, "`"+n+"`") {
				t.Errorf("docs/requirements.md: %s does not name %s, which judges it", id, n)
			}
		}
	}
}
