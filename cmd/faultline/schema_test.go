package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/faultline/faultline/harness/scenario"
)

func TestSchemaCommandPrintsTheSchema(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"schema"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !bytes.Equal(out.Bytes(), scenario.Schema()) {
		t.Fatalf("printed something other than the embedded schema")
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Fatalf("not a 2020-12 JSON Schema (err %v)", err)
	}
	if code := Main([]string{"schema", "extra"}, &out, &errb); code != 2 {
		t.Fatalf("schema with an argument: exit %d, want 2", code)
	}
}

// TestValidateAcceptsTheDocsExamples: the worked example in
// docs/authoring.md is a real file, and it stays valid.
func TestValidateAcceptsTheDocsExamples(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"validate", "../../docs/examples"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
	}
}
