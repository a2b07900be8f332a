package scenario

import (
	"encoding"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The generic decoder: a node into a Go value by reflection, strictly. It is
// ours rather than yaml.v3's Decode because yaml.v3 stops at the first
// problem and reports lines without columns.

var (
	durationType    = reflect.TypeFor[time.Duration]()
	yamlUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// field is a struct field reachable by a key.
type field struct {
	name  string
	index []int
}

// fieldsOf lists t's keys by the given struct tag ("yaml" for registry
// structs, "json" for the model's own, whose json names are the file's keys).
// Untagged exported fields use their lower-cased name, as yaml.v3 does;
// `,inline` structs contribute their fields.
func fieldsOf(t reflect.Type, tag string) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get(tag), ",")
		inline := strings.Contains(","+opts+",", ",inline,") && f.Type.Kind() == reflect.Struct
		if !f.IsExported() && !(inline && f.Anonymous) || name == "-" && opts == "" {
			continue
		}
		if inline {
			for _, sub := range fieldsOf(f.Type, tag) {
				sub.index = append([]int{i}, sub.index...)
				out = append(out, sub)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, field{name: name, index: []int{i}})
	}
	return out
}

// mapping decodes mapping n into struct (or map) v; where names the mapping
// in unknown-key messages.
func (p *parser) mapping(n *yaml.Node, v reflect.Value, path, where, tag string) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "expected a mapping for %s, got %s", where, describe(n))
		return
	}
	p.rest(p.pairs(n), v, path, where, tag, nil)
}

// rest decodes already-split entries into struct or map v. extra are keys the
// caller consumed itself, offered as did-you-mean candidates too.
func (p *parser) rest(pairs []pair, v reflect.Value, path, where, tag string, extra []string) {
	switch v.Kind() {
	case reflect.Map:
		p.mapEntries(pairs, v, path, tag)
		return
	case reflect.Struct:
	default:
		if len(pairs) > 0 {
			p.errorf(pairs[0].key, "%s takes no keys here (its config is %s)", where, v.Type())
		}
		return
	}
	fs := fieldsOf(v.Type(), tag)
	byName := make(map[string]field, len(fs))
	names := append([]string(nil), extra...)
	for _, f := range fs {
		byName[f.name] = f
		names = append(names, f.name)
	}
	for _, kv := range pairs {
		f, ok := byName[kv.name]
		if !ok {
			p.unknownKey(kv.key, kv.name, where, names)
			continue
		}
		fv, ok := fieldByIndex(v, f.index)
		if !ok {
			p.errorf(kv.key, "%s: cannot set %q (unexported inline field?)", where, kv.name)
			continue
		}
		p.value(kv.val, fv, join(path, kv.name), tag)
	}
}

// fieldByIndex is reflect's FieldByIndex, but safe on any value.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for _, i := range index {
		if v.Kind() != reflect.Struct || i >= v.NumField() {
			return reflect.Value{}, false
		}
		v = v.Field(i)
	}
	return v, v.CanSet()
}

func (p *parser) mapEntries(pairs []pair, v reflect.Value, path, tag string) {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		if len(pairs) == 0 {
			return
		}
		p.errorf(pairs[0].key, "%s: unsupported map key type %s", path, t.Key())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	for _, kv := range pairs {
		ev := reflect.New(t.Elem()).Elem()
		p.value(kv.val, ev, join(path, kv.name), tag)
		v.SetMapIndex(reflect.ValueOf(kv.name).Convert(t.Key()), ev)
	}
}

// decoded decodes n into *out and tells whether it went without errors.
func (p *parser) decoded(n *yaml.Node, out any, path string) bool {
	done := p.mark()
	p.value(n, reflect.ValueOf(out).Elem(), path, "json")
	return done()
}

// value decodes node n into v; path names it in messages ("for within").
func (p *parser) value(n *yaml.Node, v reflect.Value, path, tag string) {
	if n.Kind == yaml.AliasNode {
		target := deref(n)
		if p.active[target] {
			p.errorf(n, "alias *%s for %s refers to itself", n.Value, path)
			return
		}
		if p.active == nil {
			p.active = map[*yaml.Node]bool{}
		}
		p.active[target] = true
		defer delete(p.active, target)
		// Problems with the value itself are reported where the alias is
		// used; those inside it, where they are written.
		at := *target
		at.Line, at.Column = n.Line, n.Column
		n = &at
	}
	if p.nodes++; p.nodes == maxNodes {
		p.errorf(n, "too many values (aliases expand too far)")
	}
	if p.nodes >= maxNodes {
		return
	}
	t := v.Type()
	if isNull(n) && t.Kind() != reflect.Interface {
		p.errorf(n, "no value for %s", path)
		return
	}
	switch {
	case t == durationType:
		p.duration(n, v, path)
		return
	case v.CanAddr() && reflect.PointerTo(t).Implements(yamlUnmarshaler):
		if err := n.Decode(v.Addr().Interface()); err != nil {
			p.errorf(n, "bad value for %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return
	case v.CanAddr() && reflect.PointerTo(t).Implements(textUnmarshaler):
		if !p.scalar(n, "a string", path) {
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			p.errorf(n, "bad value %q for %s: %v", n.Value, path, err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		p.value(n, v.Elem(), path, tag)
	case reflect.Struct, reflect.Map:
		p.mapping(n, v, path, path, tag)
	case reflect.Slice:
		p.slice(n, v, path, tag)
	case reflect.Interface:
		p.anyValue(n, v, path)
	case reflect.String:
		if p.scalar(n, "a string", path) {
			v.SetString(n.Value)
		}
	case reflect.Bool:
		var b bool
		if p.scalar(n, "true or false", path) && p.tagged(n, "true or false", path, "!!bool") && p.decode(n, &b, path) {
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if p.scalar(n, "an integer", path) && p.tagged(n, "an integer", path, "!!int") && p.decode(n, &i, path) {
			if v.OverflowInt(i) {
				p.errorf(n, "%s is out of range for %s", n.Value, path)
				return
			}
			v.SetInt(i)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var i int64
		if p.scalar(n, "an integer", path) && p.tagged(n, "an integer", path, "!!int") && p.decode(n, &i, path) {
			if i < 0 || v.OverflowUint(uint64(i)) {
				p.errorf(n, "%s is out of range for %s", n.Value, path)
				return
			}
			v.SetUint(uint64(i))
		}
	case reflect.Float32, reflect.Float64:
		var f float64
		if p.scalar(n, "a number", path) && p.tagged(n, "a number", path, "!!int", "!!float") && p.decode(n, &f, path) {
			if math.IsNaN(f) || math.IsInf(f, 0) || v.OverflowFloat(f) {
				p.errorf(n, "%s is out of range for %s", n.Value, path)
				return
			}
			v.SetFloat(f)
		}
	default:
		p.errorf(n, "%s: unsupported config type %s", path, t)
	}
}

// durationHint follows every bad duration: Go's syntax, shown by example.
const durationHint = "a duration is a number and a unit, e.g. 500ms, 2s, 1m30s"

func (p *parser) duration(n *yaml.Node, v reflect.Value, path string) {
	if !p.scalar(n, "a duration", path) {
		return
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		p.errorf(n, "bad duration %q for %s: %s", n.Value, path, durationHint)
		return
	}
	if d < 0 {
		p.errorf(n, "negative duration %q for %s", n.Value, path)
		return
	}
	v.SetInt(int64(d))
}

func (p *parser) slice(n *yaml.Node, v reflect.Value, path, tag string) {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "expected a list for %s, got %s", path, describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p.value(item, s.Index(i), path+"["+strconv.Itoa(i)+"]", tag)
	}
	v.Set(s)
}

// anyValue hands an interface-typed field to yaml.v3, which knows the
// natural Go form of any node (and guards its own alias expansion).
func (p *parser) anyValue(n *yaml.Node, v reflect.Value, path string) {
	if v.NumMethod() != 0 {
		p.errorf(n, "%s: unsupported config type %s", path, v.Type())
		return
	}
	var x any
	if !p.decode(n, &x, path) {
		return
	}
	if x == nil {
		v.SetZero()
		return
	}
	v.Set(reflect.ValueOf(x))
}

// scalar reports a non-scalar node where one was expected.
func (p *parser) scalar(n *yaml.Node, want, path string) bool {
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "expected %s for %s, got %s", want, path, describe(n))
		return false
	}
	return true
}

// tagged checks the scalar's resolved YAML type: "5s" is no integer, "yes"
// no boolean (YAML 1.2).
func (p *parser) tagged(n *yaml.Node, want, path string, tags ...string) bool {
	st := n.ShortTag()
	for _, t := range tags {
		if st == t {
			return true
		}
	}
	p.errorf(n, "expected %s for %s, got %s", want, path, describe(n))
	return false
}

func (p *parser) decode(n *yaml.Node, out any, path string) bool {
	if err := n.Decode(out); err != nil {
		p.errorf(n, "bad value %q for %s: %s", n.Value, path, strings.TrimPrefix(err.Error(), "yaml: "))
		return false
	}
	return true
}
