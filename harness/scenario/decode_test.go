package scenario

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Size  uint8         `yaml:"size"`
	Delay time.Duration `yaml:"delay"`
}

type common struct {
	Toxicity float64 `yaml:"toxicity"`
}

// richParams has one field of each kind the generic decoder supports.
type richParams struct {
	common   `yaml:",inline"`
	Name     string            `yaml:"name"`
	Enabled  bool              `yaml:"enabled"`
	Count    int32             `yaml:"count"`
	Ratio    float32           `yaml:"ratio"`
	Nested   inner             `yaml:"nested"`
	Optional *inner            `yaml:"optional"`
	List     []inner           `yaml:"list"`
	Tags     map[string]int    `yaml:"tags"`
	Addr     netip.Addr        `yaml:"addr"` // a TextUnmarshaler
	Anything any               `yaml:"anything"`
	Durs     []time.Duration   `yaml:"durs,omitempty"`
	Skipped  string            `yaml:"-"`
	Untagged string            // key "untagged", as yaml.v3 does
	ByName   map[string]string `yaml:"by_name"`
}

func richRegistry() Registry {
	reg := testRegistry()
	reg.Check = func(name string) (any, bool) {
		if name == "rich" {
			return &richParams{}, true
		}
		return nil, false
	}
	return reg
}

const richHead = `covers: [R1]
servers: [{name: s1}]
client: {servers: [s1]}
expect:
`

func TestDecodeKinds(t *testing.T) {
	src := richHead + `  - check: rich
    requirement: R1
    toxicity: 0.5
    name: 42
    enabled: true
    count: 0x10
    ratio: 1
    nested: {size: 255, delay: 1m30s}
    optional: {size: 1}
    list: [{size: 2}, {delay: 0}]
    tags: {a: 1, b: 2}
    addr: 127.0.0.1
    anything: {x: [1, two]}
    durs: [1ms, 2h]
    untagged: u
    by_name: {k: v}
`
	sc, err := Parse("rich.yaml", []byte(src), richRegistry())
	if err != nil {
		t.Fatal(err)
	}
	want := &richParams{
		common: common{Toxicity: 0.5}, Name: "42", Enabled: true, Count: 16, Ratio: 1,
		Nested:   inner{Size: 255, Delay: 90 * time.Second},
		Optional: &inner{Size: 1},
		List:     []inner{{Size: 2}, {}},
		Tags:     map[string]int{"a": 1, "b": 2},
		Addr:     netip.MustParseAddr("127.0.0.1"),
		Anything: map[string]any{"x": []any{1, "two"}},
		Durs:     []time.Duration{time.Millisecond, 2 * time.Hour},
		Untagged: "u",
		ByName:   map[string]string{"k": "v"},
	}
	if got := sc.Expect[0].Params; !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestDecodeMismatches(t *testing.T) {
	src := richHead + `  - check: rich
    requirement: R1
    name: [a]
    enabled: yes
    count: 1.5
    ratio: .nan
    nested: {size: 256, delay: 1}
    optional: 3
    list: {size: 1}
    tags: {a: x}
    addr: nowhere
    durs: [1ms, -1ms]
    skipped: x
    untagged:
    toxicity: high
`
	_, err := Parse("rich.yaml", []byte(src), richRegistry())
	want := []string{
		`rich.yaml:7:11: expected a string for name, got a list`,
		`rich.yaml:8:14: expected true or false for enabled, got "yes"`,
		`rich.yaml:9:12: expected an integer for count, got "1.5"`,
		`rich.yaml:10:12: .nan is out of range for ratio`,
		`rich.yaml:11:20: 256 is out of range for nested.size`,
		`rich.yaml:11:32: bad duration "1" for nested.delay: a duration is a number and a unit, e.g. 500ms, 2s, 1m30s`,
		`rich.yaml:12:15: expected a mapping for optional, got "3"`,
		`rich.yaml:13:11: expected a list for list, got a mapping`,
		`rich.yaml:14:15: expected an integer for tags.a, got "x"`,
		`rich.yaml:15:11: bad value "nowhere" for addr: ParseAddr("nowhere"): unable to parse IP`,
		`rich.yaml:16:17: negative duration "-1ms" for durs[1]`,
		`rich.yaml:17:5: unknown key "skipped" in expect (keys:` + "\n" +
			`    addr, anything, by_name, check, count, durs, enabled, list, name,` + "\n" +
			`    nested, optional, ratio, requirement, tags, toxicity, untagged)`,
		`rich.yaml:18:14: no value for untagged`,
		`rich.yaml:19:15: expected a number for toxicity, got "high"`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("got:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestDidYouMean(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"withn", "within"}, {"retension", "retention"}, {"xyz", ""}, {"a", ""},
	} {
		got := didYouMean(tc.name, []string{"within", "retention", "at"})
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("didYouMean(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPosString(t *testing.T) {
	if got := (Error{Pos: Pos{File: "f.yaml", Line: 3, Col: 4}, Msg: "m"}).Error(); got != "f.yaml:3:4: m" {
		t.Fatal(got)
	}
	es := Errors{{Pos: Pos{File: "f", Line: 2, Col: 1}, Msg: "b"}, {Pos: Pos{File: "f", Line: 1, Col: 9}, Msg: "a"}, {Pos: Pos{File: "f", Line: 2, Col: 1}, Msg: "b"}}
	if got := es.sorted().Error(); got != "f:1:9: a\nf:2:1: b" {
		t.Fatal(got)
	}
}
