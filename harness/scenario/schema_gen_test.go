package scenario_test

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/internal/regdoc"
)

var update = flag.Bool("update", false, "rewrite schema.json's registry-derived parts")

// TestSchemaIsGenerated: the registry-derived parts of schema.json (the
// requirement, kind, verb and check enums, the expect and linkStep branches,
// every check_* and fault_* definition) are what the registries and the
// checkers' Go comments render today. make generate rewrites them.
func TestSchemaIsGenerated(t *testing.T) {
	cur, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := regdoc.Schema(cur)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(fresh, cur) {
		return
	}
	if *update {
		if err := os.WriteFile("schema.json", fresh, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("harness/scenario/schema.json is stale (first difference at line %d): run make generate (or go test ./harness/scenario -run TestSchemaIsGenerated -update)", firstDiffLine(cur, fresh))
}

// TestSchemaGenerationIsStable: generating from a generated schema changes
// nothing, and the hand-written parts come through byte for byte.
func TestSchemaGenerationIsStable(t *testing.T) {
	cur, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	once, err := regdoc.Schema(cur)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := regdoc.Schema(once)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(once, twice) {
		t.Fatalf("a second generation differs at line %d", firstDiffLine(once, twice))
	}
	// A hand-written description survives; a stale generated part does not.
	edited := bytes.Replace(cur, []byte(`"description": "The timeline; at is an offset from the start."`), []byte(`"description": "Hand-written <&> stays."`), 1)
	edited = bytes.Replace(edited, []byte(`"const": "backoff_schedule"`), []byte(`"const": "stale"`), 1)
	out, err := regdoc.Schema(edited)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"description": "Hand-written <&> stays."`) {
		t.Error("the generator rewrote (or HTML-escaped) a hand-written description")
	}
	if strings.Contains(string(out), `"const": "stale"`) {
		t.Error("the generator left a stale generated branch")
	}
}

func firstDiffLine(a, b []byte) int {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}
