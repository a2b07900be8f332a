package selftest

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The table of terms and the params the checks read are the protocol
// document's: a term or a value added there and not here (or the other way
// round) fails this test.
func TestContractTablesAreTheDocuments(t *testing.T) {
	b, err := os.ReadFile("../../../docs/driver-protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	ticked := regexp.MustCompile("`([a-z_]+)`")
	section := func(title string) []string {
		i := strings.Index(doc, title)
		if i < 0 {
			t.Fatalf("docs/driver-protocol.md has no %q", title)
		}
		var rows []string
		inTable := false
		for _, l := range strings.Split(doc[i:], "\n") {
			if strings.HasPrefix(l, "| ") {
				inTable = true
				rows = append(rows, l)
			} else if inTable {
				break
			}
		}
		return rows[2:] // the header and its rule
	}
	terms := map[string][]string{}
	for _, row := range section("| term | values | asks |") {
		cells := strings.Split(row, "|")
		name := ticked.FindStringSubmatch(cells[1])[1]
		for _, m := range ticked.FindAllStringSubmatch(cells[2], -1) {
			terms[name] = append(terms[name], m[1])
		}
	}
	if len(terms) != len(contractTerms) {
		t.Errorf("the document has %d terms, the table %d", len(terms), len(contractTerms))
	}
	for name, values := range terms {
		if !slices.Equal(values, contractTerms[name]) {
			t.Errorf("term %s: the document says %v, the table %v", name, values, contractTerms[name])
		}
	}
	var params []string
	for _, row := range section("| param | read by | meaning |") {
		for _, m := range ticked.FindAllStringSubmatch(strings.Split(row, "|")[1], -1) {
			params = append(params, m[1])
		}
	}
	sort.Strings(params)
	if !slices.Equal(params, sortedKeys(contractParams)) {
		t.Errorf("params: the document says %v, the table %v", params, sortedKeys(contractParams))
	}
}

func TestJudgeContract(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        string
		effective bool
		problems  []string // each must be among the problems; none: no problem
		notes     []string
		summary   string
	}{
		{name: "terms with values and cites", in: `{"first_attempt":{"value":"after_delay","cite":"x.go reconnect()"},"jitter":{"value":"added","cite":"y"}}`,
			summary: "2 term(s): first_attempt after_delay, jitter added"},
		{name: "an effective contract", effective: true,
			in:      `{"jitter":{"value":"none","cite":"c"},"params":{"reconnect_wait_ms":150,"first_wait_exact":true,"own":"x"},"unsupported":[{"option":"reconnect.timeout_ms","reason":"r"}],"driver_adds":[{"what":"w","why":"y"}]}`,
			summary: "1 term(s): jitter none"},
		{name: "a term the checks do not read", in: `{"first_wait":{"value":"exact","cite":"c"}}`,
			notes: []string{`term "first_wait" is not one the checks read`}},
		{name: "a value outside the term's set", in: `{"jitter":{"value":"random","cite":"c"}}`,
			problems: []string{`term "jitter" has value "random"; expected one of none, added, symmetric, below`}},
		{name: "no cite", in: `{"reset":{"value":"never"}}`, problems: []string{`term "reset" has no cite`}},
		{name: "no value", in: `{"reset":{"cite":"c"}}`, problems: []string{`term "reset" has no value`}},
		{name: "a term that is not an object", in: `{"reset":"never"}`, problems: []string{`term "reset" is "never"`}},
		{name: "not an object", in: `[1]`, problems: []string{"the contract is not a JSON object"}},
		{name: "a param of the wrong type", effective: true, in: `{"params":{"jitter_ms":"150","first_wait_exact":1}}`,
			problems: []string{`param "jitter_ms" is "150"; expected a number`, `param "first_wait_exact" is 1; expected true or false`}},
		{name: "params in the hello", in: `{"params":{"jitter_ms":1}}`, notes: []string{`"params" in the hello`}},
		{name: "an unsupported option without a reason", effective: true, in: `{"unsupported":[{"option":"x"}]}`,
			problems: []string{`"unsupported": [{"option":"x"}] lacks an option or a reason`}},
		{name: "driver_adds of the wrong shape", effective: true, in: `{"driver_adds":{"what":"x"}}`,
			problems: []string{`"driver_adds": json: cannot unmarshal object`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := judgeContract([]byte(tc.in), tc.effective)
			if len(tc.problems) == 0 && len(f.problems) > 0 {
				t.Errorf("problems %q, want none", f.problems)
			}
			for _, want := range tc.problems {
				if !containsSub(f.problems, want) {
					t.Errorf("problems %q lack %q", f.problems, want)
				}
			}
			for _, want := range tc.notes {
				if !containsSub(f.notes, want) {
					t.Errorf("notes %q lack %q", f.notes, want)
				}
			}
			if tc.summary != "" && f.summary != tc.summary {
				t.Errorf("summary %q, want %q", f.summary, tc.summary)
			}
		})
	}
}

func containsSub(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
