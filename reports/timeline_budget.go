package reports

import (
	"fmt"
	"strings"
)

// Tooltips are most of a timeline's bytes: a thousand clients' sessions and
// ticks, each with its <title> and label, made a page of megabytes. The
// first maxSpanTips spans and maxTickTips ticks keep theirs; the rest are
// drawn as one compact path per class, without (the scenario's history
// lists every event).
const (
	maxSpanTips = 400
	maxTickTips = 400
)

// tlPath is many spans or ticks of one class as one SVG path.
type tlPath struct {
	Class, D, Tip string
}

// budgetTips applies the budget to a laid-out timeline.
func budgetTips(tl *timeline) {
	spans, ticks := len(tl.Spans) > maxSpanTips, len(tl.Ticks) > maxTickTips
	if spans {
		tl.SpanPaths = pathsOf(tl.Spans[maxSpanTips:], func(s tlSpan) (string, string) {
			return s.Class, fmt.Sprintf("M%.1f %.1fh%.1fv%.1fh%.1fz", s.X, s.Y, s.W, s.H, -s.W)
		}, "spans")
		tl.Spans = tl.Spans[:maxSpanTips:maxSpanTips]
	}
	if ticks {
		tl.TickPaths = pathsOf(tl.Ticks[maxTickTips:], func(t tlTick) (string, string) {
			return t.Class, fmt.Sprintf("M%.1f %.1fV%.1f", t.X, t.Y1, t.Y2)
		}, "ticks")
		tl.Ticks = tl.Ticks[:maxTickTips:maxTickTips]
	}
	if spans || ticks {
		tl.Notes = append(tl.Notes, fmt.Sprintf("hover details and labels on the first %d spans and %d ticks; the history lists every event", maxSpanTips, maxTickTips))
	}
}

// pathsOf draws items as one path per class, in the order the classes come.
func pathsOf[T any](items []T, seg func(T) (class, d string), what string) []tlPath {
	paths := map[string]*strings.Builder{}
	counts := map[string]int{}
	var order []string
	for _, it := range items {
		class, d := seg(it)
		b := paths[class]
		if b == nil {
			b = &strings.Builder{}
			paths[class] = b
			order = append(order, class)
		}
		b.WriteString(d)
		counts[class]++
	}
	var out []tlPath
	for _, c := range order {
		out = append(out, tlPath{Class: c, D: paths[c].String(),
			Tip: fmt.Sprintf("%d more %s of this kind: the history lists each", counts[c], what)})
	}
	return out
}
