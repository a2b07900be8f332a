// Package regdoc renders what the registries define (checkers, fault verbs,
// server kinds, requirements) as the parts of the scenario JSON Schema and
// of docs/ that describe them, so that those cannot drift from the code.
// Tests compare the files with a fresh rendering and rewrite them with
// -update (make generate).
package regdoc

import (
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/proxy"
)

// Param is one parameter of a checker, or one attribute of a fault verb.
type Param struct {
	Key  string       // its yaml key
	Type reflect.Type // as declared: a pointer is optional with a default
	// Doc is the field's comment on one line, less its leading Go name.
	Doc      string
	Required bool
	Extra    Obj // schema keywords from the extra table, "required" left out
}

// Check is one registered checker as scenario authors see it.
type Check struct {
	Spec check.Spec
	// Judges is its doc comment's first sentence without the type's name:
	// "judges R2: the reconnection attempts …".
	Judges string
	Params []Param
}

// Verb is one registered fault verb.
type Verb struct {
	Name   string
	Doc    string
	Params []Param
}

// Checks returns every registered checker, sorted by name.
func Checks() ([]Check, error) {
	var out []Check
	for _, n := range check.Names() {
		s, _ := check.Lookup(n)
		t := reflect.TypeOf(s.New())
		td, err := docsOf(t)
		if err != nil {
			return nil, err
		}
		tn := t.Elem().Name()
		rest, ok := strings.CutPrefix(synopsis(td.Doc), tn+" ")
		if !ok {
			return nil, fmt.Errorf("regdoc: check %s: %s's doc comment must start with %q (it is the check's description)", n, tn, tn+" judges")
		}
		ps, err := params(t.Elem(), td, "check_"+n)
		if err != nil {
			return nil, err
		}
		out = append(out, Check{Spec: s, Judges: rest, Params: ps})
	}
	return out, nil
}

// Verbs returns every registered fault verb, sorted by name (heal, which is
// no verb of the proxy, is not among them).
func Verbs() ([]Verb, error) {
	var out []Verb
	for _, n := range proxy.Verbs() {
		a, _ := proxy.NewAttrs(n)
		t := reflect.TypeOf(a)
		td, err := docsOf(t)
		if err != nil {
			return nil, err
		}
		ps, err := params(t.Elem(), td, "fault_"+n)
		if err != nil {
			return nil, err
		}
		d, ok := verbDocs[n]
		if !ok {
			return nil, fmt.Errorf("regdoc: fault verb %s has no description in verbDocs (harness/internal/regdoc/extra.go)", n)
		}
		out = append(out, Verb{Name: n, Doc: d, Params: ps})
	}
	return out, nil
}

// params lists a struct's yaml-tagged fields, in declaration order.
func params(t reflect.Type, td typeDoc, def string) ([]Param, error) {
	var out []Param
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || key == "-" {
			continue
		}
		if f.Anonymous || key == "" {
			return nil, fmt.Errorf("regdoc: %s.%s: a parameter needs a yaml key (embedded structs are not supported)", t, f.Name)
		}
		p := Param{Key: key, Type: f.Type, Doc: oneLine(td.Fields[f.Name])}
		p.Doc = describe(p.Doc, f.Name, key)
		for _, m := range extra[def+"."+key] {
			switch m.K {
			case "required":
				p.Required = m.V == true
			case "description":
				p.Doc = m.V.(string)
			default:
				p.Extra = append(p.Extra, m)
			}
		}
		if p.Doc == "" {
			return nil, fmt.Errorf("regdoc: %s.%s has no doc comment: it is the parameter's description", t, f.Name)
		}
		out = append(out, p)
	}
	return out, nil
}

// checkExtra reports entries of the extra table that name no parameter.
func checkExtra(checks []Check, verbs []Verb) error {
	known := map[string]bool{}
	for _, c := range checks {
		for _, p := range c.Params {
			known["check_"+c.Spec.Name+"."+p.Key] = true
		}
	}
	for _, v := range verbs {
		for _, p := range v.Params {
			known["fault_"+v.Name+"."+p.Key] = true
		}
	}
	for k := range extra {
		if !known[k] {
			return fmt.Errorf("regdoc: extra[%q] names no registered parameter", k)
		}
	}
	for k := range verbDocs {
		if _, ok := proxy.NewAttrs(k); !ok && k != "heal" {
			return fmt.Errorf("regdoc: verbDocs[%q] names no registered verb", k)
		}
	}
	return nil
}

// Kind is a parameter's type in the schema's and the docs' terms: duration,
// bytes, boolean, integer, number, string, array.
func (p Param) Kind() string {
	t := p.Type
	if t.Kind() == reflect.Pointer {
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
	}
	return ""
}

// capitalize upper-cases s's first letter.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// describe turns a field's comment into its parameter's description: "X is
// the slack …" becomes "The slack …", "X adds …" "Adds …"; a comment that
// goes on otherwise ("X on the close time …") names the key instead of the
// Go field ("Tolerance on the close time …").
func describe(doc, goName, key string) string {
	for _, pre := range []string{" is ", " are ", ": "} {
		if rest, ok := strings.CutPrefix(doc, goName+pre); ok {
			return capitalize(rest)
		}
	}
	rest, ok := strings.CutPrefix(doc, goName+" ")
	if !ok {
		return doc
	}
	if verb, _, _ := strings.Cut(rest, " "); strings.HasSuffix(verb, "s") && verb != "as" {
		return capitalize(rest)
	}
	return capitalize(strings.ReplaceAll(key, "_", " ")) + " " + rest
}
