package scenario_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/requirement"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/proxy"
)

// The schema's names must be the loader's: these tests compare each set of
// keys, verbs, checks, kinds and values in schema.json with the loader's own
// tables and the registries, so that adding one on either side alone fails.

type obj = map[string]any

func schemaDoc(t *testing.T) obj {
	t.Helper()
	var doc obj
	if err := json.Unmarshal(scenario.Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func def(t *testing.T, doc obj, name string) obj {
	t.Helper()
	d, ok := doc["$defs"].(obj)[name].(obj)
	if !ok {
		t.Fatalf("schema has no $defs/%s", name)
	}
	return d
}

func props(o obj) obj {
	p, _ := o["properties"].(obj)
	return p
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func same(t *testing.T, what string, schema, loader []string) {
	t.Helper()
	schema, loader = sorted(schema), sorted(loader)
	if !slices.Equal(schema, loader) {
		t.Errorf("%s: schema has %v, loader has %v", what, schema, loader)
	}
}

// ifConsts lists the const values the allOf/if branches of o switch on.
func ifConsts(o obj, key string) []string {
	var out []string
	for _, b := range o["allOf"].([]any) {
		c := b.(obj)["if"].(obj)["properties"].(obj)[key].(obj)["const"].(string)
		out = append(out, c)
	}
	return out
}

// kindOf is what a schema property accepts, in the terms goKind uses.
func kindOf(doc obj, p obj) string {
	if r, ok := p["$ref"].(string); ok {
		name := strings.TrimPrefix(r, "#/$defs/")
		switch name {
		case "duration", "bytes":
			return name
		}
		return kindOf(doc, doc["$defs"].(obj)[name].(obj))
	}
	if p["const"] == true {
		return "boolean"
	}
	if s, ok := p["const"].(string); ok && s != "" {
		return "string"
	}
	s, _ := p["type"].(string)
	return s
}

// goKind is the schema kind a Go field type must have.
func goKind(t reflect.Type) string {
	if t.Kind() == reflect.Pointer { // an optional parameter: nil is "not given"
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[time.Duration]():
		return "duration"
	case reflect.TypeFor[scenario.Bytes]():
		return "bytes"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.String()
}

// sameFields compares a schema object's properties (less skip) with the keys
// and types of a Go struct as the loader decodes it.
func sameFields(t *testing.T, doc obj, what string, o obj, typ reflect.Type, tag string, skip ...string) {
	t.Helper()
	fields := scenario.KeysOf(typ, tag)
	p := props(o)
	var names []string
	for k := range p {
		if !slices.Contains(skip, k) {
			names = append(names, k)
		}
	}
	same(t, what+" keys", names, keys(fields))
	for k, ft := range fields {
		if sp, ok := p[k].(obj); ok {
			if got, want := kindOf(doc, sp), goKind(ft); got != want {
				t.Errorf("%s.%s: schema type %s, loader decodes %s (%s)", what, k, got, want, ft)
			}
		}
	}
}

func TestSchemaKeysMatchTheLoader(t *testing.T) {
	doc := schemaDoc(t)
	same(t, "top-level keys", keys(props(doc)), scenario.TopKeys)
	for name, typ := range map[string]reflect.Type{
		"server":    reflect.TypeFor[scenario.Server](),
		"client":    reflect.TypeFor[scenario.Client](),
		"reconnect": reflect.TypeFor[scenario.Reconnect](),
		"strategy":  reflect.TypeFor[scenario.Strategy](),
		"failover":  reflect.TypeFor[scenario.Failover](),
		"router":    reflect.TypeFor[scenario.Router](),
		"migration": reflect.TypeFor[scenario.Migration](),
		"publish":   reflect.TypeFor[scenario.Publish](),
		"discovery": reflect.TypeFor[scenario.DiscoveryStep](),
		"migrate":   reflect.TypeFor[scenario.Migrate](),
	} {
		sameFields(t, doc, name, def(t, doc, name), typ, "json")
	}
	sameFields(t, doc, "send", def(t, doc, "send"), scenario.SendArgs, "yaml")
	sameFields(t, doc, "request", def(t, doc, "request"), scenario.RequestArgs, "yaml")
}

func TestSchemaStepsMatchTheLoader(t *testing.T) {
	doc := schemaDoc(t)
	owners := scenario.StepKeys()
	same(t, "step keys", keys(props(def(t, doc, "step"))), keys(owners))
	kinds := map[string]bool{}
	for _, o := range owners {
		if o != "" {
			kinds[o] = true
		}
	}
	var oneOf []string
	for _, b := range def(t, doc, "step")["oneOf"].([]any) {
		oneOf = append(oneOf, strs(b.(obj)["required"])...)
	}
	same(t, "step kinds", oneOf, keys(kinds))
	for kind := range kinds {
		var want []string
		for k, o := range owners {
			if o == "" || o == kind {
				want = append(want, k)
			}
		}
		if kind == "server" { // and every server kind's own actions
			want = append(want, kindActions()...)
		}
		same(t, kind+" step keys", keys(props(def(t, doc, kind+"Step"))), want)
	}
	var acts []string
	for _, b := range def(t, doc, "serverStep")["oneOf"].([]any) {
		acts = append(acts, strs(b.(obj)["required"])...)
	}
	same(t, "server actions", acts, append(scenario.ServerActions(), kindActions()...))

	op := def(t, doc, "clientOp")["anyOf"].([]any)
	scalar, mapping := op[0].(obj), op[1].(obj)
	same(t, "client ops", keys(props(mapping)), scenario.ClientOps())
	for _, s := range strs(scalar["enum"]) {
		if !slices.Contains(scenario.ClientOps(), s) {
			t.Errorf("client op %q (scalar form) is no loader op", s)
		}
	}
	same(t, "directions", strs(def(t, doc, "direction")["enum"]), scenario.Directions)
	same(t, "backoffs", strs(props(def(t, doc, "strategy"))["backoff"].(obj)["enum"]), scenario.Backoffs)
}

// linkKeys are a link step's own keys; a verb's attributes are the others.
func linkKeys() []string {
	var out []string
	for k, o := range scenario.StepKeys() {
		if o == "" || o == "link" {
			out = append(out, k)
		}
	}
	return out
}

func TestSchemaVerbsMatchTheRegistry(t *testing.T) {
	doc := schemaDoc(t)
	verbs := append(proxy.Verbs(), "heal")
	same(t, "fault verbs", strs(def(t, doc, "verb")["enum"]), verbs)
	same(t, "link step branches", ifConsts(def(t, doc, "linkStep"), "fault"), verbs)
	same(t, "fault_* definitions", defsWith(doc, "fault_"), verbs)
	same(t, "heal's keys", keys(props(def(t, doc, "fault_heal"))), []string{"at", "link", "fault"})
	for _, v := range proxy.Verbs() {
		attrs, _ := proxy.NewAttrs(v)
		sameFields(t, doc, "fault "+v, def(t, doc, "fault_"+v), reflect.TypeOf(attrs).Elem(), "yaml", linkKeys()...)
		same(t, "fault "+v+" link keys", keysIn(props(def(t, doc, "fault_"+v)), linkKeys()), linkKeys())
	}
}

func TestSchemaChecksMatchTheRegistry(t *testing.T) {
	doc := schemaDoc(t)
	names := check.Names()
	same(t, "checks", strs(def(t, doc, "check")["enum"]), names)
	same(t, "expect branches", ifConsts(def(t, doc, "expect"), "check"), names)
	same(t, "check_* definitions", defsWith(doc, "check_"), names)
	for _, n := range names {
		c, _ := check.New(n)
		sameFields(t, doc, "check "+n, def(t, doc, "check_"+n), reflect.TypeOf(c).Elem(), "yaml", "check", "requirement")
	}
}

func TestSchemaKindsAndRequirementsMatch(t *testing.T) {
	doc := schemaDoc(t)
	same(t, "server kinds", strs(def(t, doc, "kind")["enum"]), fakeserver.Kinds())
	same(t, "requirements", strs(def(t, doc, "requirement")["enum"]), requirement.IDs())
	for i, d := range def(t, doc, "requirement")["enumDescriptions"].([]any) {
		if id := requirement.IDs()[i]; d != requirement.Title(id) {
			t.Errorf("requirement %s is described %q, titled %q", id, d, requirement.Title(id))
		}
	}
}

// TestSchemaDescribesEveryKey: completion popups show descriptions, so every
// property and every enum value has one.
func TestSchemaDescribesEveryKey(t *testing.T) {
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case obj:
			if p, ok := v["properties"].(obj); ok {
				for k, s := range p {
					if d, _ := s.(obj)["description"].(string); d == "" {
						t.Errorf("%s.properties.%s has no description", path, k)
					}
				}
			}
			if e, ok := v["enum"].([]any); ok {
				if d, _ := v["enumDescriptions"].([]any); len(d) != len(e) {
					t.Errorf("%s: %d enum values, %d enumDescriptions", path, len(e), len(d))
				}
			}
			for k, x := range v {
				if k != "if" { // a condition, not keys an editor offers
					walk(path+"/"+k, x)
				}
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", path, i), x)
			}
		}
	}
	walk("#", schemaDoc(t))
}

// defsWith lists the names after prefix of the $defs that have it.
func defsWith(doc obj, prefix string) []string {
	var out []string
	for k := range doc["$defs"].(obj) {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			out = append(out, name)
		}
	}
	return out
}

// keysIn lists the keys of p that are in want.
func keysIn(p obj, want []string) []string {
	var out []string
	for k := range p {
		if slices.Contains(want, k) {
			out = append(out, k)
		}
	}
	return out
}

// openByDesign are the objects whose keys depend on a discriminator (the
// step's kind, the verb, the check): their if/then branches close them.
var openByDesign = []string{"#/$defs/step", "#/$defs/linkStep", "#/$defs/expect"}

// TestSchemaIsClosed: the loader rejects unknown keys everywhere, so every
// object with properties forbids others (or closes through its branches).
func TestSchemaIsClosed(t *testing.T) {
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case obj:
			if _, ok := v["properties"]; ok && v["additionalProperties"] != false && !slices.Contains(openByDesign, path) {
				t.Errorf("%s takes unknown keys; the loader does not", path)
			}
			for k, x := range v {
				if k != "if" && k != "properties" {
					walk(path+"/"+k, x)
				}
			}
			if p, ok := v["properties"].(obj); ok {
				for k, x := range p {
					walk(path+"/properties/"+k, x)
				}
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", path, i), x)
			}
		}
	}
	walk("#", schemaDoc(t))
}

// kindActions are the registered server kinds' own actions, once each.
func kindActions() []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range fakeserver.Kinds() {
		for _, a := range fakeserver.ActionNames(k) {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}
