package runner

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/internal/regdoc"
	"github.com/faultline/faultline/harness/requirement"
)

// Generated documentation: tables rendered from the registries, so that the
// docs cannot drift from the code. A test (docs_test.go) fails when a
// generated block in docs/ is stale; `make generate` (or `go test
// ./harness/runner -run TestGeneratedDocs -update`) rewrites it.

// DocBlocks are the generated blocks, by marker name. In a Markdown file a
// block stands between `<!-- generated: NAME -->` and `<!-- end: NAME -->`.
// Besides the table of checks by requirement, each check has its parameter
// table (`params:NAME`, in its section of docs/authoring.md), from its
// struct's fields and their comments (harness/internal/regdoc).
func DocBlocks() (map[string]string, error) {
	out := map[string]string{"checks-by-requirement": checksTable()}
	checks, err := regdoc.Checks()
	if err != nil {
		return nil, err
	}
	for _, c := range checks {
		out["params:"+c.Spec.Name] = regdoc.ParamTable(c)
	}
	return out, nil
}

// checksTable lists every registered check with the requirements it judges,
// in the order of the requirement list.
func checksTable() string {
	rank := map[string]int{}
	for i, id := range requirement.IDs() {
		rank[id] = i
	}
	first := func(s check.Spec) int {
		best := len(rank)
		for _, id := range s.Judges {
			if r, ok := rank[id]; ok && r < best {
				best = r
			}
		}
		return best
	}
	var specs []check.Spec
	for _, n := range check.Names() {
		s, _ := check.Lookup(n)
		specs = append(specs, s)
	}
	sort.SliceStable(specs, func(i, j int) bool { return first(specs[i]) < first(specs[j]) })
	var b strings.Builder
	b.WriteString("| check | judges |\n| --- | --- |\n")
	for _, s := range specs {
		js := slices.Clone(s.Judges)
		sort.SliceStable(js, func(i, j int) bool { return rank[js[i]] < rank[js[j]] })
		note := ""
		if s.Universal {
			note = " (every scenario, automatically)"
		}
		fmt.Fprintf(&b, "| `%s` | %s%s |\n", s.Name, strings.Join(js, ", "), note)
	}
	return b.String()
}

// FillDocBlocks replaces every generated block of a Markdown text with its
// current rendering; unknown markers are left alone.
func FillDocBlocks(text string) (string, error) {
	blocks, err := DocBlocks()
	if err != nil {
		return "", err
	}
	for name, body := range blocks {
		open, end := "<!-- generated: "+name+" -->\n", "<!-- end: "+name+" -->"
		i := strings.Index(text, open)
		if i < 0 {
			continue
		}
		j := strings.Index(text[i:], end)
		if j < 0 {
			return "", fmt.Errorf("generated block %q has no %q", name, end)
		}
		text = text[:i+len(open)] + body + text[i+j:]
	}
	return text, nil
}
