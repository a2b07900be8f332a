package regdoc

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/proxy"
)

// TestEncodeRoundTripsSchemaJSON: schema.json, written by Python's
// json.dumps(indent=2, ensure_ascii=False), decodes and encodes to the same
// bytes (key order, non-ASCII, no HTML escaping, numbers as written).
func TestEncodeRoundTripsSchemaJSON(t *testing.T) {
	raw, err := os.ReadFile("../../scenario/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(raw) {
		t.Fatal("schema.json does not round-trip byte for byte")
	}
	small := `{"a": "<µ & ±>", "n": 0.5, "e": [], "o": {}, "l": [1, true, null]}`
	v, err = Decode([]byte(small))
	if err != nil {
		t.Fatal(err)
	}
	out, _ = Encode(v)
	want := "{\n  \"a\": \"<µ & ±>\",\n  \"n\": 0.5,\n  \"e\": [],\n  \"o\": {},\n  \"l\": [\n    1,\n    true,\n    null\n  ]\n}\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestReplaceGroupKeepsItsPlace(t *testing.T) {
	defs := Obj{{"a", 1}, {"x_1", 1}, {"b", 1}, {"x_2", 1}, {"c", 1}}
	got := replaceGroup(defs, "x_", "a", []Member{{"x_3", 3}})
	var keys []string
	for _, m := range got {
		keys = append(keys, m.K)
	}
	if strings.Join(keys, " ") != "a x_3 b c" {
		t.Errorf("got %v", keys)
	}
	got = replaceGroup(Obj{{"a", 1}, {"b", 1}}, "x_", "a", []Member{{"x_1", 1}})
	if got[1].K != "x_1" {
		t.Errorf("a new group goes after its anchor: got %v", got)
	}
}

func TestDescribe(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"Tolerance is the slack (default 30ms).", "The slack (default 30ms)."},
		{"TolerancePct adds this percentage.", "Adds this percentage."},
		{"Tolerance on the close time.", "Tolerance on the close time."},
		{"Lag as in round_robin.", "Lag as in round_robin."},
		{"ExpectLoss: unset or true.", "Unset or true."},
		{"Something else.", "Something else."},
	} {
		goName, key := "Tolerance", "tolerance"
		switch {
		case strings.HasPrefix(c.doc, "TolerancePct"):
			goName, key = "TolerancePct", "tolerance_pct"
		case strings.HasPrefix(c.doc, "Lag"):
			goName, key = "Lag", "lag"
		case strings.HasPrefix(c.doc, "ExpectLoss"):
			goName, key = "ExpectLoss", "expect_loss"
		}
		if got := describe(c.doc, goName, key); got != c.want {
			t.Errorf("describe(%q) = %q, want %q", c.doc, got, c.want)
		}
	}
}

func TestDefaultColumn(t *testing.T) {
	ptr, plain := reflect.TypeFor[*int](), reflect.TypeFor[bool]()
	for _, c := range []struct {
		p    Param
		want string
	}{
		{Param{Type: ptr, Doc: "The slack (default 30ms + 10%)."}, "30ms + 10%"},
		{Param{Type: ptr, Doc: "The slack (default 50ms: a timer and a dial)."}, "50ms"},
		{Param{Type: ptr, Doc: "How many (the point; default 0)."}, "0"},
		{Param{Type: ptr, Doc: "As before (default: the router's liveness bound, or 2 × ping)."}, "the router's liveness bound, or 2 × ping"},
		{Param{Type: ptr, Doc: "What it ends in: failed, or any (default)."}, "any"},
		{Param{Type: ptr, Doc: "Order. Default: list."}, "list"},
		{Param{Type: ptr, Doc: "A bound (unset: measured only)."}, "unset"},
		{Param{Type: plain, Doc: "A flag."}, "false"},
		{Param{Type: plain, Doc: "A flag.", Required: true}, "required"},
	} {
		if got := c.p.Default(); got != c.want {
			t.Errorf("Default(%q) = %q, want %q", c.p.Doc, got, c.want)
		}
	}
}

// TestTablesNameRegisteredThings: every entry of the hand-written tables
// names a registered parameter, verb or kind.
func TestTablesNameRegisteredThings(t *testing.T) {
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	verbs, err := Verbs()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkExtra(checks, verbs); err != nil {
		t.Fatal(err)
	}
	extra["check_backoff_schedule.no_such_key"] = Obj{{"minimum", 0}}
	defer delete(extra, "check_backoff_schedule.no_such_key")
	if err := checkExtra(checks, verbs); err == nil {
		t.Error("an entry for no parameter must be an error")
	}
}

// TestBoundsAgreeWithValidate: a value just outside a bound of the extra
// table is one the parameter's Validate rejects (naming the key), so the
// schema is never stricter than the loader.
func TestBoundsAgreeWithValidate(t *testing.T) {
	type validator interface{ Validate() error }
	try := func(def string, fresh func() any, ps []Param, p Param) {
		for _, m := range p.Extra {
			var below float64
			switch m.K {
			case "minimum":
				below = toFloat(m.V) - 1
				if p.Kind() == "number" {
					below = toFloat(m.V) - 0.001
				}
			case "exclusiveMinimum":
				below = toFloat(m.V)
			default:
				continue
			}
			c := fresh()
			fillRequired(t, c, ps)
			setField(t, c, p.Key, below)
			v, ok := c.(validator)
			if !ok {
				t.Errorf("%s.%s has a bound but its struct has no Validate", def, p.Key)
				continue
			}
			if err := v.Validate(); err == nil || !strings.Contains(err.Error(), p.Key) {
				t.Errorf("%s.%s = %v: Validate says %v; the schema's %s %v rejects it", def, p.Key, below, err, m.K, m.V)
			}
		}
	}
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		for _, p := range c.Params {
			try("check_"+c.Spec.Name, func() any { return c.Spec.New() }, c.Params, p)
		}
	}
	verbs, err := Verbs()
	if err != nil {
		t.Fatal(err)
	}
	for _, vb := range verbs {
		for _, p := range vb.Params {
			try("fault_"+vb.Name, func() any {
				a, _ := proxy.NewAttrs(vb.Name)
				return a
			}, vb.Params, p)
		}
	}
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case float64:
		return v
	}
	panic("not a number")
}

// fillRequired gives the required parameters of *c valid values, so that
// Validate judges the one under test.
func fillRequired(t *testing.T, c any, ps []Param) {
	t.Helper()
	for _, p := range ps {
		if !p.Required {
			continue
		}
		switch p.Kind() {
		case "integer", "number":
			x := 1.0
			if v, ok := p.Extra.Get("maximum"); ok {
				x = toFloat(v)
			} else if v, ok := p.Extra.Get("exclusiveMinimum"); ok {
				x = toFloat(v) + 1
			} else if v, ok := p.Extra.Get("minimum"); ok {
				x = toFloat(v) + 1
			}
			setField(t, c, p.Key, x)
		}
	}
}

// setField sets the field tagged key of the struct *c to x.
func setField(t *testing.T, c any, key string, x float64) {
	t.Helper()
	rv := reflect.ValueOf(c).Elem()
	for i := 0; i < rv.NumField(); i++ {
		if k, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("yaml"), ","); k != key {
			continue
		}
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer {
			f.Set(reflect.New(f.Type().Elem()))
			f = f.Elem()
		}
		switch f.Kind() {
		case reflect.Float32, reflect.Float64:
			f.SetFloat(x)
		case reflect.Int, reflect.Int64, reflect.Int32:
			f.SetInt(int64(x))
		default:
			t.Fatalf("%s: cannot set a %s", key, f.Kind())
		}
		return
	}
	t.Fatalf("no field %s", key)
}
