package reports

import (
	"sort"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/requirement"
)

// verdicts in the order reports list them.
var verdicts = check.Verdicts()

// columns are the verdicts a report's tables count: UNSUPPORTED and UNKNOWN
// only when the report has one, so that reports keep their shape.
func (r *Report) columns() []string {
	var out []string
	for _, v := range verdicts {
		if (v != check.Unsupported && v != check.Unknown) || r.Totals[v] > 0 {
			out = append(out, v)
		}
	}
	return out
}

// verdictClass is the CSS class of a verdict; anything unknown is "v-none".
func verdictClass(v string) string {
	switch v {
	case check.OK:
		return "v-ok"
	case check.NonStrict:
		return "v-nonstrict"
	case check.Failed:
		return "v-failed"
	case check.Unknown:
		return "v-unknown"
	case check.Unimplemented:
		return "v-unimpl"
	case check.Unsupported:
		return "v-unsupported"
	case check.Informational:
		return "v-info"
	}
	return "v-none"
}

// verdictCode is a verdict's text in a matrix cell: short enough for a
// narrow column, and read without its colour (the legend spells it out).
func verdictCode(v string) string {
	switch v {
	case check.NonStrict:
		return "NS"
	case check.Failed:
		return "FAIL"
	case check.Unknown:
		return "UNK"
	case check.Unimplemented:
		return "–"
	case check.Unsupported:
		return "n/a"
	case check.Informational:
		return "i"
	}
	return v
}

// verdictMeaning is a verdict's one line in the page's legend
// (docs/verdicts.md has the rest).
func verdictMeaning(v string) string {
	switch v {
	case check.OK:
		return "the rule held"
	case check.NonStrict:
		return "a SHOULD was missed; still conformant"
	case check.Failed:
		return "a MUST was broken, or the driver spoiled the run (fails the run)"
	case check.Unknown:
		return "could not be judged: nothing proved either way (fails the run)"
	case check.Unimplemented:
		return "the SDK does not declare the feature: not judged"
	case check.Unsupported:
		return "this mode cannot run the scenario: not run"
	case check.Informational:
		return "measured, not judged"
	}
	return ""
}

// verdictMark is a verdict's sign in Markdown.
func verdictMark(v string) string {
	switch v {
	case check.OK:
		return "✅"
	case check.NonStrict:
		return "⚠️"
	case check.Failed:
		return "❌"
	case check.Unknown:
		return "❓"
	case check.Unimplemented:
		return "➖"
	case check.Unsupported:
		return "⏭️"
	case check.Informational:
		return "ℹ️"
	}
	return "·"
}

// sortRequirements orders IDs as the requirement list does; unknown IDs
// follow, sorted.
func sortRequirements(ids []string) []string {
	rank := map[string]int{}
	for i, id := range requirement.IDs() {
		rank[id] = i
	}
	out := append([]string(nil), ids...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, iok := rank[out[i]]
		rj, jok := rank[out[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return out[i] < out[j]
	})
	return out
}

// sdkLabel names the SDK of a report: its hello, or the command that failed
// to say hello.
func (r *Report) sdkLabel() string {
	s := r.SDK.SDK
	if s == "" {
		if r.Driver != "" {
			return r.Driver + " (no hello)"
		}
		return "(no hello)"
	}
	if r.SDK.Version != "" {
		s += " " + r.SDK.Version
	}
	return s
}

// requirements lists the requirements a report's results name, in order.
func (r *Report) requirements() []string {
	seen := map[string]bool{}
	var ids []string
	for _, res := range r.Results {
		if !seen[res.Requirement] {
			seen[res.Requirement] = true
			ids = append(ids, res.Requirement)
		}
	}
	return sortRequirements(ids)
}
