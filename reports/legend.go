package reports

import (
	"strings"

	"github.com/faultline/faultline/harness/check"
)

// legendItem is one entry of a timeline's legend: a swatch drawn with the
// very class the timeline draws, and its words. Every class a timeline can
// draw is here (TestEveryTimelineClassIsInTheLegend), so no colour goes
// unexplained.
type legendItem struct {
	Class string // the CSS class drawn
	Shape string // "span", "tick", "mark" or "window"
	Code  string // a span's letters where its word does not fit
	Text  string
}

// timelineLegend is in the order the legend lists it. Spans carry a code as
// well as a colour (and faults a hatching), so that no lane is read by
// colour alone.
var timelineLegend = []legendItem{
	{"st-connecting", "span", "C", "client connecting"},
	{"st-active", "span", "A", "client active (CONNECTED_ACTIVE)"},
	{"st-recovering", "span", "R", "client recovering (RECOVERING_RECONNECT)"},
	{"st-closed-client", "span", "XC", "closed by the client"},
	{"st-closed-server", "span", "XS", "closed by the server"},
	{"st-closed-failed", "span", "XF", "closed: failed"},
	{"st-other", "span", "?", "a state the SDK named itself (hover)"},
	{"ss-live", "span", "L", "server: session live"},
	{"ss-retained", "span", "Rt", "server: session retained (client gone, kept for resumption)"},
	{"sv-down", "span", "D", "server process down"},
	{"ft-cut", "span", "cut", "link fault: cut"},
	{"ft-reset", "span", "rst", "link fault: reset"},
	{"ft-blackhole", "span", "bh", "link fault: blackhole"},
	{"ft-slow", "span", "slw", "link fault: slow"},
	{"ft-throttle", "span", "thr", "link fault: throttle"},
	{"ft-slice", "span", "slc", "link fault: slice"},
	{"ft-limit", "span", "lim", "link fault: limit"},
	{"ft-down", "span", "dn", "link fault: down"},
	{"ft-other", "span", "oth", "link fault: another verb (hover)"},
	{"tk-op", "tick", "", "op sent to a client"},
	{"tk-accept", "tick", "", "connection accepted (by a server, or by a link)"},
	{"tk-bad", "tick", "", "refused op, client error, failed dial, refused handshake, harness problem"},
	{"tk-step", "tick", "", "timeline step fired"},
	{"window", "window", "", "measured window (hover for which)"},
}

// spanCode is the code a span of class shows when its word does not fit.
func spanCode(class string) string {
	for _, it := range timelineLegend {
		if it.Class == class {
			return it.Code
		}
	}
	return ""
}

// legendFor lists the entries a timeline uses: its spans, ticks and windows
// by class, then a dashed line per verdict it marks.
func legendFor(tl timeline) []legendItem {
	used := map[string]bool{}
	for _, s := range tl.Spans {
		used[s.Class] = true
	}
	for _, t := range tl.Ticks {
		used[t.Class] = true
	}
	for _, p := range append(tl.SpanPaths, tl.TickPaths...) {
		used[p.Class] = true
	}
	if len(tl.Windows) > 0 {
		used["window"] = true
	}
	var out []legendItem
	for _, it := range timelineLegend {
		if used[it.Class] {
			out = append(out, it)
		}
	}
	marked := map[string]bool{}
	for _, m := range tl.Marks {
		marked[m.verdict] = true
	}
	for _, v := range verdicts {
		if marked[v] {
			out = append(out, legendItem{Class: "mk " + verdictClass(v), Shape: "mark",
				Text: "a check decided here: " + v + markSuffix(v)})
		}
	}
	return out
}

// markSuffix says, for a verdict that is not OK, what its mark's label adds
// to the requirement, so the label says it without its colour.
func markSuffix(v string) string {
	if v == check.OK {
		return ""
	}
	return " (label ends " + strings.TrimSpace(verdictCode(v)) + ")"
}
