package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestValidateReportsEveryProblemWithPosition(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main([]string{"validate", "testdata/three-mistakes.yaml"}, &out, &errb)
	if code != 2 {
		t.Fatalf("exit %d, want 2; out:\n%s", code, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	pos := regexp.MustCompile(`^testdata/three-mistakes\.yaml:\d+:\d+: `)
	for _, l := range lines {
		if !pos.MatchString(l) {
			t.Errorf("line without file:line:col: %q", l)
		}
	}
	for _, want := range []string{`:7:3: `, `:11:10: `, `:11:21: `} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing an error at %s in:\n%s", want, out.String())
		}
	}
	if len(lines) != 3 {
		t.Errorf("want exactly 3 errors, got %d:\n%s", len(lines), out.String())
	}
}

func TestValidateAcceptsTheShippedScenarios(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"validate", "../../scenarios"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
	}
}

func TestImpossibleBoundFailsAndExitsOne(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := Main([]string{"run", "--scenarios", "testdata/impossible", "--report", dir}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Results []struct {
			Requirement, Verdict, Detail string
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	// R4 FAILED; the universal U1 is judged beside it and holds.
	if len(rep.Results) != 2 || rep.Results[0].Requirement != "R4" || rep.Results[0].Verdict != "FAILED" ||
		rep.Results[1].Requirement != "U1" || rep.Results[1].Verdict != "OK" {
		t.Fatalf("want one FAILED R4 result and U1 OK, got %+v", rep.Results)
	}
	// the message says expected vs measured
	if d := rep.Results[0].Detail; !strings.Contains(d, "1.0ms") || !strings.Contains(d, ">") {
		t.Errorf("detail should state measured > bound 1.0ms, got %q", d)
	}
}

func TestBadCommandLine(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"frobnicate"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if code := Main([]string{"run", "--label", "a && (b"}, &out, &errb); code != 2 {
		t.Fatalf("bad label: exit %d, want 2", code)
	}
	if code := Main([]string{"run", "--scenarios", "testdata/nothing-here"}, &out, &errb); code != 2 {
		t.Fatalf("missing dir: exit %d, want 2", code)
	}
}

// --label is Ginkgo's label-filter grammar: what worked before ('a,b',
// '!x', 'a && !b') means what it meant, and Ginkgo's own forms work too.
func TestLabelFilter(t *testing.T) {
	for _, c := range []struct {
		expr   string
		labels []string
		want   bool
	}{
		{"", nil, true},
		{"reconnect && !slow, failover", []string{"reconnect"}, true},
		{"reconnect && !slow, failover", []string{"reconnect", "slow"}, false},
		{"reconnect && !slow, failover", []string{"failover", "slow"}, true},
		{"reconnect && !slow, failover", nil, false},
		{"a,b", []string{"b"}, true},
		{"a,b", []string{"c"}, false},
		{"!fake-only", []string{"nats", "fake-only"}, false},
		{"!fake-only", []string{"nats"}, true},
		{"a || b", []string{"a"}, true},
		{"(a || b) && !c", []string{"b", "c"}, false},
		{"(a || b) && !c", []string{"b"}, true},
		{"/^load_/", []string{"load_balancing"}, true},
		{"/^load_/", []string{"overload_x"}, false},
		{"Reconnect", []string{"reconnect"}, true}, // Ginkgo matches labels without regard to case
	} {
		f, err := parseLabels(c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if got := f.Match(c.labels); got != c.want {
			t.Errorf("%q match(%v) = %v, want %v", c.expr, c.labels, got, c.want)
		}
	}
}

// A bad expression is Ginkgo's message, in plain text, pointing at the
// place; run and list exit 2 with it.
func TestBadLabelFilter(t *testing.T) {
	for expr, want := range map[string]string{
		"a && )": "Syntax Error Parsing Label Filter: Mismatched ')' - could not find matching '('.\n    a && )\n         ^",
		"a &&":   "Syntax Error Parsing Label Filter: Unexpected EOF.\n    a &&\n        ^",
	} {
		if _, err := parseLabels(expr); err == nil || err.Error() != want {
			t.Errorf("%q: error %q, want %q", expr, err, want)
		}
	}
	for _, expr := range []string{"a && (b", "a &&", ")", "a || || b", "/[/"} {
		if _, err := parseLabels(expr); err == nil || strings.Contains(err.Error(), "\x1b") {
			t.Errorf("%q: error %q: want one, without terminal colours", expr, err)
		}
		for _, cmd := range []string{"run", "list"} {
			var out, errb bytes.Buffer
			if code := Main([]string{cmd, "--label", expr, "--scenarios", "testdata/driverfail"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--label: ") {
				t.Errorf("%s --label %q: exit %d, stderr %q", cmd, expr, code, errb.String())
			}
		}
	}
}

// list selects with the same filter.
func TestListFiltersByLabel(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"list", "--scenarios", "../../scenarios/nats", "--label", "nats && /^lame/"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "nats-lame-duck") || !strings.HasPrefix(lines[1], "nats-lame-duck") {
		t.Errorf("list gave:\n%s", out.String())
	}
}
