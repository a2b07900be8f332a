package proxy

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestVerbsRegistry(t *testing.T) {
	want := []string{"blackhole", "cut", "down", "limit", "reset", "slice", "slow", "throttle"}
	if got := Verbs(); !slices.Equal(got, want) {
		t.Fatalf("Verbs() = %v, want %v", got, want)
	}
	if _, ok := NewAttrs("melt"); ok {
		t.Fatal("NewAttrs accepted an unknown verb")
	}
	for _, v := range want {
		a, ok := NewAttrs(v)
		rv := reflect.ValueOf(a)
		if !ok || rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
			t.Fatalf("NewAttrs(%s) = %T, %v", v, a, ok)
		}
		// (Empty structs may share an address: nothing to share.)
		if a2, _ := NewAttrs(v); rv.Elem().Type().Size() > 0 && reflect.ValueOf(a2).Pointer() == rv.Pointer() {
			t.Fatalf("NewAttrs(%s) shares its struct between calls", v)
		}
		st := rv.Elem().Type()
		for i := range st.NumField() {
			f := st.Field(i)
			if f.Tag.Get("yaml") == "" || f.Tag.Get("yaml") != f.Tag.Get("json") {
				t.Errorf("%s.%s: yaml and json tags must be set and agree", st.Name(), f.Name)
			}
		}
	}
}

// The loader decodes a step's extra keys into NewAttrs' struct by yaml tags.
func TestAttrsFromYAML(t *testing.T) {
	cases := []struct {
		verb, src string
		want      any
		render    map[string]string
	}{
		{"slow", "latency: 100ms\njitter: 5ms", &SlowAttrs{Latency: 100 * time.Millisecond, Jitter: 5 * time.Millisecond},
			map[string]string{"latency": "100ms", "jitter": "5ms"}},
		{"slice", "average_size: 8\nsize_variation: 2\ndelay: 1ms", &SliceAttrs{AverageSize: 8, SizeVariation: 2, Delay: time.Millisecond},
			map[string]string{"average_size": "8", "size_variation": "2", "delay": "1ms"}},
		{"throttle", "rate: 64", &ThrottleAttrs{Rate: 64}, map[string]string{"rate": "64"}},
		{"limit", "bytes: 1024", &LimitAttrs{Bytes: 1024}, map[string]string{"bytes": "1024"}},
		{"reset", "timeout: 2s", &ResetAttrs{Timeout: 2 * time.Second}, map[string]string{"timeout": "2s"}},
		{"cut", "{}", &CutAttrs{}, map[string]string{}},
	}
	for _, c := range cases {
		a, _ := NewAttrs(c.verb)
		if err := yaml.Unmarshal([]byte(c.src), a); err != nil {
			t.Fatalf("%s: %v", c.verb, err)
		}
		if !reflect.DeepEqual(a, c.want) {
			t.Fatalf("%s: decoded %+v, want %+v", c.verb, a, c.want)
		}
		if v, ok := a.(Validator); ok {
			if err := v.Validate(); err != nil {
				t.Fatalf("%s: %v", c.verb, err)
			}
		}
		got := map[string]string{}
		renderAttrs(a, got)
		if !maps.Equal(got, c.render) {
			t.Fatalf("%s: rendered %v, want %v", c.verb, got, c.render)
		}
	}
	a, _ := NewAttrs("slow")
	if err := yaml.Unmarshal([]byte("latency: soon"), a); err == nil || !strings.Contains(err.Error(), "soon") {
		t.Fatalf("bad duration: %v", err)
	}
}
