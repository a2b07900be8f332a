package scenario

import (
	"maps"
	"reflect"
)

// Test-only views of the loader's own key tables, for the schema test in
// package scenario_test (it imports the registries, which import this
// package, so it cannot live inside it).
var (
	TopKeys       = topKeys
	ClientOps     = func() []string { return clientOps }
	Directions    = directions
	Backoffs      = backoffs
	ServerActions = func() []string { return serverActions }
	SendArgs      = reflect.TypeFor[sendArgs]()
	RequestArgs   = reflect.TypeFor[requestArgs]()
)

// StepKeys is a copy of stepKeys: step key → the kind of step that owns it.
func StepKeys() map[string]string { return maps.Clone(stepKeys) }

// KeysOf maps the file keys of struct type t (by tag, as the loader decodes
// them) to their Go types.
func KeysOf(t reflect.Type, tag string) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, f := range fieldsOf(t, tag) {
		out[f.name] = t.FieldByIndex(f.index).Type
	}
	return out
}

// BadFile is one case of the bad-file table.
type BadFile struct{ Name, Src, Want string }

// BadFiles is the bad-file table (bad_test.go).
func BadFiles() []BadFile {
	out := make([]BadFile, len(badFiles))
	for i, b := range badFiles {
		out[i] = BadFile{b.name, b.src, b.want}
	}
	return out
}

// TestRegistry is the stub registry the bad-file table is written against.
var TestRegistry = testRegistry
