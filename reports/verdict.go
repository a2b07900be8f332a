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
