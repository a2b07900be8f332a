package proxy

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Validator is implemented by attribute structs whose values have bounds. The
// scenario loader calls it after decoding, and Apply calls it again.
type Validator interface{ Validate() error }

// verb is one fault verb: its attributes and how to put it in force with the
// primitives of a change (which remembers how to undo it).
type verb interface {
	newAttrs() any // pointer to the zero attribute struct
	apply(ctx context.Context, c *change, attrs any, dir Direction) error
}

// undirected is implemented by verbs that ignore the direction (always both).
type undirected interface{ undirected() }

var verbs = map[string]verb{}

// register is called from each verb's init.
func register(name string, v verb) {
	if _, dup := verbs[name]; dup {
		panic("proxy: verb registered twice: " + name)
	}
	verbs[name] = v
}

// NewAttrs returns a pointer to the verb's attribute struct (zero value = its
// defaults), or false for an unknown verb. Its fields carry yaml and json tags.
func NewAttrs(verb string) (any, bool) {
	v, ok := verbs[verb]
	if !ok {
		return nil, false
	}
	return v.newAttrs(), true
}

// Verbs returns the registered verbs, sorted.
func Verbs() []string {
	out := make([]string, 0, len(verbs))
	for k := range verbs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lookup(name string) (verb, error) {
	v, ok := verbs[name]
	if !ok {
		return nil, fmt.Errorf("proxy: unknown fault verb %q (known: %s)", name, strings.Join(Verbs(), ", "))
	}
	return v, nil
}

// checkAttrs returns attrs as a pointer to the verb's struct, validated. nil
// means defaults; a struct value is accepted as well as a pointer.
func checkAttrs(name string, v verb, attrs any) (any, error) {
	want := v.newAttrs()
	if attrs == nil {
		attrs = want
	}
	if rv := reflect.ValueOf(attrs); rv.Kind() != reflect.Pointer && rv.Type() == reflect.TypeOf(want).Elem() {
		p := reflect.New(rv.Type())
		p.Elem().Set(rv)
		attrs = p.Interface()
	}
	if reflect.TypeOf(attrs) != reflect.TypeOf(want) || reflect.ValueOf(attrs).IsNil() {
		return nil, fmt.Errorf("proxy: %s: attributes of type %T, want %T", name, attrs, want)
	}
	if val, ok := attrs.(Validator); ok {
		if err := val.Validate(); err != nil {
			return nil, fmt.Errorf("proxy: %s: %w", name, err)
		}
	}
	return attrs, nil
}

// renderAttrs renders an attribute struct as strings keyed by yaml name, for
// the history (durations in Go's notation).
func renderAttrs(attrs any, into map[string]string) {
	rv := reflect.ValueOf(attrs).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		key, _, _ := strings.Cut(rt.Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		switch f := rv.Field(i).Interface().(type) {
		case time.Duration:
			into[key] = f.String()
		case int:
			into[key] = strconv.Itoa(f)
		case int64:
			into[key] = strconv.FormatInt(f, 10)
		default:
			into[key] = fmt.Sprint(f)
		}
	}
}

// ms converts a duration to Toxiproxy's millisecond attributes.
func ms(d time.Duration) int64 { return d.Milliseconds() }
