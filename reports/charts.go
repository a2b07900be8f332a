package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/faultline/faultline/harness/check"
)

// Chart geometry.
const (
	chH     = 220.0
	chPlotX = 60.0
	chPlotY = 14.0
	chPlotH = 160.0
)

type yTick struct {
	Y     float64
	Label string
}

// backoffChart draws a result's banded measurements in order: the band
// [lo, hi] as a bar, the expected value as a line, the measured value as a
// dot (green inside the band, red outside).
type backoffChart struct {
	Title         string
	W, H          float64
	PlotX, PlotY  float64
	PlotW, PlotH  float64
	PlotX2, Base  float64
	Log           bool
	YTicks        []yTick
	Points        []bpoint
	XLabelY       float64
	MeasuredCount int
	Caption       string
}

// captionWidth is the room a chart's caption of 11px text needs.
func captionWidth(s string) float64 { return float64(len([]rune(s)))*charW + 12 }

type bpoint struct {
	X, BandX, BandW, BandY, BandH, ExpY, ExpX2, MY float64
	Class, Label, Tip                              string
	LabelY                                         float64
}

// scale maps values to y on a linear or log axis.
type scale struct {
	lo, hi float64
	log    bool
}

func (s scale) y(v float64) float64 {
	f := 0.0
	if s.log {
		v = max(v, s.lo)
		f = (math.Log10(v) - math.Log10(s.lo)) / (math.Log10(s.hi) - math.Log10(s.lo))
	} else if s.hi > s.lo {
		f = (v - s.lo) / (s.hi - s.lo)
	}
	f = min(max(f, 0), 1)
	return chPlotY + chPlotH*(1-f)
}

func (s scale) ticks() []yTick {
	var out []yTick
	if s.log {
		for p := math.Floor(math.Log10(s.lo)); p <= math.Ceil(math.Log10(s.hi)); p++ {
			for _, m := range []float64{1, 2, 5} {
				v := m * math.Pow(10, p)
				if v >= s.lo && v <= s.hi {
					out = append(out, yTick{s.y(v), trimNum(v)})
				}
			}
		}
		return out
	}
	step := niceStep(s.hi - s.lo)
	for v := 0.0; v <= s.hi+step/1000; v += step {
		out = append(out, yTick{s.y(v), trimNum(v)})
	}
	return out
}

func niceStep(span float64) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / 5
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func trimNum(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// backoffCharts finds the results whose measurements carry bounds.
func backoffCharts(results []Result) []backoffChart {
	var out []backoffChart
	for _, r := range results {
		var ms []check.Measurement
		for _, m := range r.Measurements {
			if m.Bounds != nil {
				ms = append(ms, m)
			}
		}
		if len(ms) == 0 {
			continue
		}
		out = append(out, newBackoffChart(r, ms))
	}
	return out
}

func newBackoffChart(r Result, ms []check.Measurement) backoffChart {
	slot := 34.0
	c := backoffChart{Title: fmt.Sprintf("%s %s: measured vs expected (%s)", r.Requirement, r.Check, unitOf(ms)),
		PlotX: chPlotX, PlotY: chPlotY, PlotH: chPlotH, H: chH, Base: chPlotY + chPlotH, XLabelY: chPlotY + chPlotH + 14}
	c.PlotW = slot * float64(len(ms))
	c.PlotX2 = chPlotX + c.PlotW
	lo, hi := math.Inf(1), 0.0
	for _, m := range ms {
		for _, v := range []float64{m.Value, m.Bounds.Lo, m.Bounds.Hi, m.Bounds.Expected} {
			if v > 0 {
				lo = min(lo, v)
			}
			hi = max(hi, v)
		}
	}
	if math.IsInf(lo, 1) {
		lo = 1
	}
	s := scale{lo: 0, hi: hi * 1.1}
	if hi/lo > 20 { // exponential back-off: a linear axis hides the early attempts
		s = scale{lo: lo / 1.5, hi: hi * 1.3, log: true}
	}
	c.Log = s.log
	c.Caption = "attempt (grey: expected band, dark line: expected, dot: measured, green inside the band, red outside)"
	if c.Log {
		c.Caption = strings.TrimSuffix(c.Caption, ")") + "; log scale)"
	}
	c.W = max(chPlotX+c.PlotW+20, captionWidth(c.Caption))
	c.YTicks = s.ticks()
	for i, m := range ms {
		x := chPlotX + slot*float64(i) + slot/2
		b := m.Bounds
		in := m.Value >= b.Lo && m.Value <= b.Hi
		class := "pt-ok"
		if !in {
			class = "pt-bad"
		}
		p := bpoint{X: x, BandX: x - 7, BandW: 14, ExpX2: x + 7, BandY: s.y(b.Hi), ExpY: s.y(b.Expected), MY: s.y(m.Value), Class: class,
			Label: strconv.Itoa(i), LabelY: c.XLabelY,
			Tip: fmt.Sprintf("%s: measured %s, expected %s within [%s, %s]%s", m.Name, value(m), trimNum(b.Expected), trimNum(b.Lo), trimNum(b.Hi), evidenceText(m))}
		p.BandH = max(s.y(b.Lo)-p.BandY, 1)
		c.Points = append(c.Points, p)
	}
	c.MeasuredCount = len(ms)
	return c
}

func unitOf(ms []check.Measurement) string {
	if len(ms) > 0 && ms[0].Unit != "" {
		return ms[0].Unit
	}
	return "value"
}

func evidenceText(m check.Measurement) string {
	if m.Evidence == "" {
		return ""
	}
	return " [" + m.Evidence + "]"
}

// histChart is a histogram of per-label counts with its test's p-value.
type histChart struct {
	Title        string
	W, H         float64
	PlotX, PlotY float64
	PlotW, PlotH float64
	PlotX2, Base float64
	YTicks       []yTick
	Bars         []hbar
	HasExp       bool
	ExpY         float64
	ExpTip       string
	Stats        string
	Class        string
}

type hbar struct {
	X, Y, W, H     float64
	Label, Count   string
	LabelX, LabelY float64
	CountY         float64
	Tip            string
}

// histograms finds, per result, the groups of measurements that hold a
// "p-value" and count bars (see the package doc).
func histograms(results []Result) []histChart {
	var out []histChart
	for _, r := range results {
		groups := map[string][]check.Measurement{}
		var order []string
		for _, m := range r.Measurements {
			prefix, _ := splitPrefix(m.Name)
			if _, ok := groups[prefix]; !ok {
				order = append(order, prefix)
			}
			groups[prefix] = append(groups[prefix], m)
		}
		for _, prefix := range order {
			if c, ok := newHist(r, prefix, groups[prefix]); ok {
				out = append(out, c)
			}
		}
	}
	return out
}

// splitPrefix splits "from s1: landed on s2" into "from s1" and "landed on s2".
func splitPrefix(name string) (string, string) {
	if i := strings.LastIndex(name, ": "); i >= 0 {
		return name[:i], name[i+2:]
	}
	return "", name
}

func newHist(r Result, prefix string, ms []check.Measurement) (histChart, bool) {
	var bars []check.Measurement
	var labels []string
	var p *check.Measurement
	stats := map[string]float64{}
	for i, m := range ms {
		_, base := splitPrefix(m.Name)
		switch {
		case base == "p-value":
			p = &ms[i]
		case base == "alpha" || base == "chi-square":
			stats[base] = m.Value
		case m.Unit == "count" && (strings.HasPrefix(base, "count ") || strings.HasPrefix(base, "landed on ")):
			bars = append(bars, m)
			labels = append(labels, strings.TrimPrefix(strings.TrimPrefix(base, "count "), "landed on "))
		}
	}
	if p == nil || len(bars) == 0 {
		return histChart{}, false
	}
	title := fmt.Sprintf("%s %s", r.Requirement, r.Check)
	if prefix != "" {
		title += " (" + prefix + ")"
	}
	slot := 46.0
	c := histChart{Title: title, PlotX: chPlotX, PlotY: chPlotY, PlotH: chPlotH, H: chH, Base: chPlotY + chPlotH, Class: verdictClass(r.Verdict)}
	c.PlotW = slot * float64(len(bars))
	c.PlotX2 = chPlotX + c.PlotW
	hi, exp := 0.0, math.NaN()
	for _, m := range bars {
		hi = max(hi, m.Value)
		if v, ok := leadingNumber(m.Expected); ok {
			exp = v
		}
	}
	if !math.IsNaN(exp) {
		hi = max(hi, exp)
	}
	s := scale{lo: 0, hi: max(hi*1.15, 1)}
	c.YTicks = s.ticks()
	for i, m := range bars {
		x := chPlotX + slot*float64(i) + 6
		y := s.y(m.Value)
		c.Bars = append(c.Bars, hbar{X: x, Y: y, W: slot - 12, H: c.Base - y, Label: clip(labels[i], 8), Count: trimNum(m.Value),
			LabelX: x + (slot-12)/2, LabelY: c.Base + 14, CountY: y - 3,
			Tip: fmt.Sprintf("%s: %s (expected %s)%s", m.Name, trimNum(m.Value), m.Expected, evidenceText(m))})
	}
	if !math.IsNaN(exp) {
		c.HasExp, c.ExpY, c.ExpTip = true, s.y(exp), "expected count "+trimNum(exp)
	}
	c.Stats = "p-value " + trimNum(p.Value)
	if a, ok := stats["alpha"]; ok {
		c.Stats += fmt.Sprintf(" (alpha %s)", trimNum(a))
	}
	if x, ok := stats["chi-square"]; ok {
		c.Stats += " · chi-square " + trimNum(x)
	}
	if c.HasExp {
		c.Stats += " · dashed red: the expected count"
	}
	c.W = max(chPlotX+c.PlotW+20, captionWidth(c.Stats))
	return c, true
}

// leadingNumber reads the number an Expected text starts with ("100.0 (N/3)").
func leadingNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && strings.ContainsRune("0123456789.eE+-", rune(s[end])) {
		end++
	}
	v, err := strconv.ParseFloat(s[:end], 64)
	return v, err == nil
}
