package reports

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/check"
)

// spanned is the fixture's "recovers" scenario with one check that measured
// two windows at different intervals (as reconnect_window does for two
// heals): the cut's 300–302ms detection and the 600–651ms reconnect window,
// decided at 651ms.
func spanned() (Scenario, []Result) {
	r := fixture()
	res := Result{Scenario: "recovers", Requirement: "R4", Verdict: check.OK, Check: "reconnect_window", AtMS: 651, Detail: "within",
		Measurements: []check.Measurement{
			{Name: "heal 1: window", Value: 51, Unit: "ms", Evidence: "server session.resume − link fault.off",
				Span: &check.Span{From: msd(600), To: msd(651)}},
			{Name: "loss 1: window", Value: 100, Unit: "ms", Evidence: "client RECOVERING_RECONNECT − link fault.on",
				Span: &check.Span{From: msd(300), To: msd(400)}},
			{Name: "heal 1: bound", Value: 150, Unit: "ms", Evidence: "derived"},
		}}
	return r.Scenarios[0], []Result{res}
}

func TestTimelineDrawsEachWindowAtItsOwnInterval(t *testing.T) {
	sc, res := spanned()
	tl := buildTimeline(sc, res)
	if len(tl.Windows) != 2 {
		t.Fatalf("%d windows, want 2: %+v", len(tl.Windows), tl.Windows)
	}
	l := &layout{end: tl.end}
	for i, want := range [][2]float64{{600, 651}, {300, 400}} {
		w := tl.Windows[i]
		x1, x2 := l.x(msd(want[0])), l.x(msd(want[1]))
		if math.Abs(w.X-x1) > 0.01 || math.Abs(w.X+w.W-x2) > 0.01 {
			t.Errorf("window %d drawn over x %.1f–%.1f, want %.1f–%.1f (%v–%vms)", i, w.X, w.X+w.W, x1, x2, want[0], want[1])
		}
		if !strings.Contains(w.Tip, fmt.Sprintf("%.1fms–%.1fms", want[0], want[1])) {
			t.Errorf("window %d tip %q does not say its interval", i, w.Tip)
		}
	}
	// The earlier window is not drawn ending at the check's mark.
	if mark := tl.Marks[0].X; math.Abs(tl.Windows[1].X+tl.Windows[1].W-mark) < 1 {
		t.Errorf("the 300–400ms window ends at the mark (%.1f)", mark)
	}

	// And in the page: two window rects at those x positions.
	r := fixture()
	r.Scenarios, r.Results = []Scenario{sc}, res
	b := allPages(t, r)["pages/recovers.html"]
	for _, w := range tl.Windows {
		rect := fmt.Sprintf(`<rect class="window" x="%.1f" y="%.1f" width="%.1f"`, w.X, w.Y, w.W)
		if !strings.Contains(string(b), rect) {
			t.Errorf("page lacks %s", rect)
		}
	}
}

// A report written before spans were kept draws a "…window" measurement
// ending where the check decided, as it always did.
func TestTimelineWindowWithoutSpanEndsAtTheMark(t *testing.T) {
	sc, res := spanned()
	for i := range res[0].Measurements {
		res[0].Measurements[i].Span = nil
	}
	tl := buildTimeline(sc, res)
	if len(tl.Windows) != 2 {
		t.Fatalf("%d windows, want 2", len(tl.Windows))
	}
	for _, w := range tl.Windows {
		if mark := tl.Marks[0].X; math.Abs(w.X+w.W-mark) > 0.5 {
			t.Errorf("window ends at %.1f, mark at %.1f", w.X+w.W, mark)
		}
	}
}

// A window whose end precedes its start (a client's reaction stamped just
// before the link's fault.on) is drawn over the interval, never with a
// negative width; a span past the history's end widens the timeline.
func TestTimelineNormalisesSpans(t *testing.T) {
	sc, res := spanned()
	res[0].Measurements = []check.Measurement{
		{Name: "detection", Value: -0.5, Unit: "ms", Evidence: "e", Span: &check.Span{From: msd(300), To: msd(299.5)}},
		{Name: "late", Value: 200, Unit: "ms", Evidence: "e", Span: &check.Span{From: msd(900), To: msd(1100)}},
	}
	tl := buildTimeline(sc, res)
	if len(tl.Windows) != 2 || tl.Windows[0].W <= 0 {
		t.Fatalf("windows %+v", tl.Windows)
	}
	if w := tl.Windows[1]; w.X+w.W > tl.PlotX2 {
		t.Errorf("window to 1100ms drawn past the plot (%.1f > %.1f)", w.X+w.W, tl.PlotX2)
	}
}

// A check that measured a window per client (1,000 at scale) gets its first
// maxWindows drawn and a note, not a page of stacked rectangles.
func TestTimelineCapsWindowsPerCheck(t *testing.T) {
	sc, res := spanned()
	res[0].Measurements = nil
	for i := 0; i < maxWindows+6; i++ {
		res[0].Measurements = append(res[0].Measurements, check.Measurement{Name: fmt.Sprintf("client %d: window", i), Value: 10, Unit: "ms",
			Evidence: "e", Span: &check.Span{From: msd(float64(600 + i)), To: msd(float64(610 + i))}})
	}
	tl := buildTimeline(sc, res)
	if len(tl.Windows) != maxWindows {
		t.Errorf("%d windows drawn, want %d", len(tl.Windows), maxWindows)
	}
	want := fmt.Sprintf("R4 reconnect_window: the first %d of its %d measured windows are drawn", maxWindows, maxWindows+6)
	if strings.Join(tl.Notes, "|") != want {
		t.Errorf("notes %q, want %q", tl.Notes, want)
	}
}
