package scenario_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/requirement"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/proxy"

	_ "github.com/faultline/faultline/packs/all" // the packs' server kinds
)

// realRegistry is what the CLI's validate uses (runner.Registry), built here
// from the registries themselves so that this test does not depend on the
// runner.
func realRegistry() scenario.Registry {
	return scenario.Registry{
		Check: func(name string) (any, bool) {
			c, ok := check.New(name)
			return c, ok
		},
		Judges:       check.Judges,
		Fault:        proxy.NewAttrs,
		Checks:       check.Names(),
		Verbs:        proxy.Verbs(),
		Kinds:        fakeserver.Kinds(),
		Action:       fakeserver.ActionArgs,
		Actions:      fakeserver.ActionNames,
		Requirements: requirement.IDs(),
	}
}

// compiled is the embedded schema, compiled once; compiling also checks it
// against the 2020-12 metaschema.
func compiled(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(scenario.Schema()))
	if err != nil {
		t.Fatalf("schema.json is no JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("schema.json does not compile: %v", err)
	}
	return sch
}

// instance turns YAML into the JSON values an editor validates (through
// JSON, so numbers are json.Number as the validator wants them).
func instance(src []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// yamlFiles lists the *.yaml and *.yml files under dir.
func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSchemaAcceptsWhatTheLoaderAccepts: every file the loader takes (with
// the real registries) validates against the schema. The shipped scenarios
// and the docs' examples must be among them.
func TestSchemaAcceptsWhatTheLoaderAccepts(t *testing.T) {
	sch := compiled(t)
	reg := realRegistry()
	mustLoad := map[string]bool{"../../scenarios": true, "../../docs/examples": true}
	n := 0
	for _, dir := range []string{"../../scenarios", "../../docs/examples", "testdata", "../../cmd/faultline/testdata"} {
		for _, f := range yamlFiles(t, dir) {
			if _, err := scenario.Load(f, reg); err != nil {
				if mustLoad[dir] {
					t.Errorf("the loader rejects %s: %v", f, err)
				}
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v, err := instance(src)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			if err := sch.Validate(v); err != nil {
				t.Errorf("the loader accepts %s but the schema rejects it:\n%v", f, err)
			}
			n++
		}
	}
	if n < 50 {
		t.Errorf("only %d files checked: are the folders still there?", n)
	}
}

// notSchemaDetectable are the bad-file cases a schema cannot see (YAML
// syntax, cross-references, arithmetic over the timeline), or that the
// bad-file table's stub registry makes differ from the real one.
var notSchemaDetectable = map[string]string{
	"unknown server in client.servers":       "cross-reference",
	"unknown server in a step":               "cross-reference",
	"unknown link in a step":                 "cross-reference",
	"verb attrs that fail Validate":          "stub verb attribute (size) unlike the real slice's",
	"requirement not in covers":              "cross-reference",
	"duplicate server name":                  "uniqueness of one field across items",
	"syntax error":                           "not YAML",
	"only index out of range":                "depends on clients",
	"duplicate key":                          "not valid YAML for a JSON value",
	"empty file":                             "no document",
	"comments only":                          "no document",
	"two documents":                          "more than one document",
	"duration before a step ends":            "timeline arithmetic",
	"alias to a list where a string belongs": "recursive alias",
	"merge key":                              "YAML merges it before any schema sees it",
	"tab indentation":                        "not YAML",
	"not UTF-8":                              "not YAML",
	"binary":                                 "not YAML",
	"key not a name":                         "not valid YAML for a JSON value",
	"unknown migration target":               "cross-reference",
	"duration zero":                          "a duration string's value (0s, 0ms, 0.0h…)",
}

// TestSchemaRejectsTheBadFiles: every case of the loader's bad-file table
// that a schema can detect is rejected by the schema too, so an editor flags
// what validate would.
func TestSchemaRejectsTheBadFiles(t *testing.T) {
	sch := compiled(t)
	seen := map[string]bool{}
	for _, bf := range scenario.BadFiles() {
		seen[bf.Name] = true
		if _, skip := notSchemaDetectable[bf.Name]; skip {
			continue
		}
		t.Run(bf.Name, func(t *testing.T) {
			v, err := instance([]byte(bf.Src))
			if err != nil {
				t.Fatalf("not convertible: %v (list it in notSchemaDetectable if no schema can see it)", err)
			}
			if sch.Validate(v) == nil {
				t.Errorf("the schema accepts what the loader rejects (%s):\n%s", bf.Want, bf.Src)
			}
		})
	}
	for name := range notSchemaDetectable {
		if !seen[name] {
			t.Errorf("notSchemaDetectable names %q, which is no bad-file case", name)
		}
	}
}

// TestSchemaRejectsWithRealRegistries: cases where the real registries
// matter (required attributes, enums of a checker's parameters).
func TestSchemaRejectsWithRealRegistries(t *testing.T) {
	sch := compiled(t)
	reg := realRegistry()
	const head = "covers: [R1, R8]\nservers: [{name: s1}]\nclient: {servers: [s1]}\nsteps:\n"
	for name, src := range map[string]string{
		"slow without latency":   head + "  - {at: 0s, link: s1, fault: slow}\nexpect: [{check: loss_detected, requirement: R1}]\n",
		"throttle without rate":  head + "  - {at: 0s, link: s1, fault: throttle}\nexpect: [{check: loss_detected, requirement: R1}]\n",
		"deliberate_close by x":  head + "  - {at: 0s, client: connect}\nexpect: [{check: deliberate_close, requirement: R8, by: x}]\n",
		"check param of another": head + "  - {at: 0s, client: connect}\nexpect: [{check: loss_detected, requirement: R1, topic: t}]\n",
		"heal with an attribute": head + "  - {at: 0s, link: s1, fault: heal, latency: 5ms}\nexpect: [{check: loss_detected, requirement: R1}]\n",
		"requirement not judged": head + "  - {at: 0s, client: connect}\nexpect: [{check: loss_detected, requirement: R8}]\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := scenario.Parse("x.yaml", []byte(src), reg); err == nil {
				t.Fatalf("the loader accepts it: fix the case")
			}
			v, err := instance([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if sch.Validate(v) == nil {
				t.Errorf("the schema accepts what the loader rejects:\n%s", src)
			}
		})
	}
}

// TestSchemaReturnsACopy: Schema returns a copy, so a caller cannot
// change what the next one gets.
func TestSchemaReturnsACopy(t *testing.T) {
	a := scenario.Schema()
	a[0] = 'x'
	if b := scenario.Schema(); b[0] != '{' || !strings.Contains(string(b), "2020-12") {
		t.Fatalf("Schema() shares its bytes or is not the 2020-12 schema")
	}
}
