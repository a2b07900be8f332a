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
// the registries render today (a check added, its requirements or its
// parameters changed, a parameter's comment edited). make generate rewrites
// them.
func TestGeneratedDocs(t *testing.T) {
	var params []string
	for _, n := range check.Names() {
		params = append(params, "params:"+n)
	}
	for path, blocks := range map[string][]string{
		"../../docs/requirements.md": {"checks-by-requirement"},
		"../../docs/authoring.md":    params,
	} {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			if !strings.Contains(string(raw), "<!-- generated: "+b+" -->") {
				t.Errorf("%s has no generated %s block", path, b)
			}
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
		t.Errorf("%s is stale: run make generate (or go test ./harness/runner -run TestGeneratedDocs -update)", path)
	}
}

// TestParamTablesInTheirSections: each check's parameter table stands in
// that check's section of docs/authoring.md (after its heading, before the
// next heading).
func TestParamTablesInTheirSections(t *testing.T) {
	raw, err := os.ReadFile("../../docs/authoring.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, n := range check.Names() {
		h := strings.Index(text, "#### `"+n+"`\n")
		if h < 0 {
			t.Errorf("docs/authoring.md has no section for %s", n)
			continue
		}
		section := text[h+1:]
		if i := strings.Index(section, "\n#"); i >= 0 {
			section = section[:i]
		}
		if !strings.Contains(section, "<!-- generated: params:"+n+" -->\n") || !strings.Contains(section, "<!-- end: params:"+n+" -->") {
			t.Errorf("docs/authoring.md: the section of %s has no params:%s block", n, n)
		}
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
	in = "#### `deliberate_close`\n\nprose\n\n<!-- generated: params:deliberate_close -->\n<!-- end: params:deliberate_close -->\n"
	out, err = FillDocBlocks(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "| `by` | one of `client`, `server` | required | Who closes") {
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
