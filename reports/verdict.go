package reports

import (
	"sort"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/requirement"
)

// verdicts in the order reports list them.
var verdicts = []string{check.OK, check.NonStrict, check.Failed, check.Unimplemented, check.Unsupported, check.Informational}

// columns are the verdicts a report's tables count: UNSUPPORTED only when
// the report has one, so that reports of modes that run everything keep
// their shape.
func (r *Report) columns() []string {
	var out []string
	for _, v := range verdicts {
		if v != check.Unsupported || r.Totals[v] > 0 {
			out = append(out, v)
		}
	}
	return out
}

// severity orders verdicts for "the worst of": a FAILED anywhere is the
// requirement's verdict; an UNIMPLEMENTED outranks an OK (the feature is
// missing, whatever else passed). An UNSUPPORTED ranks below every judged
// verdict: a scenario the mode could not run takes nothing from the ones it
// did, and shows only where nothing else judged the requirement.
func severity(v string) int {
	switch v {
	case check.Failed:
		return 6
	case check.NonStrict:
		return 5
	case check.Unimplemented:
		return 4
	case check.Informational:
		return 3
	case check.OK:
		return 2
	case check.Unsupported:
		return 1
	}
	return 0 // not judged
}

// worse returns the worse of two verdicts ("" is none).
func worse(a, b string) string {
	if severity(b) > severity(a) {
		return b
	}
	return a
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
	case check.Unimplemented, check.Unsupported: // both: not judged here
		return "v-unimpl"
	case check.Informational:
		return "v-info"
	}
	return "v-none"
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
