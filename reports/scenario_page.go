package reports

import (
	"fmt"
	"strings"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/requirement"
	"github.com/faultline/faultline/harness/runner"
)

// Bounds on a scenario's page: a check over a thousand clients measures
// thousands of values, and its history holds tens of thousands of events.
// report.json has them all; the page says how many it leaves out.
const (
	maxMeasurementRows = 100
	maxHistoryLines    = 400
)

// scenarioView is pages/<scenario>.html: its results, timeline, charts,
// history and its drivers' stderr.
type scenarioView struct {
	Title, SDK, Back, Name, File, Covers, WallS, Partial string
	Problems                                             []string
	Stderr                                               []stderrView
	Results                                              []resultView
	Timeline                                             timeline
	Legend                                               []legendItem
	Backoffs                                             []backoffChart
	Hists                                                []histChart
	History                                              []string
	HistoryTotal, HistoryMore                            int
}

type resultView struct {
	Anchor, Requirement, Title, Check, Verdict, Class, Detail string
	Measurements                                              []check.Measurement
	NMeasurements, MoreMeasurements                           int
}

// stderrView is one driver process's stderr, collapsed on the page.
type stderrView struct {
	Who, Text string
	Lines     int
}

// scenario lays out the page of the report's i-th scenario.
func (s *site) scenario(i int) scenarioView {
	r, sc := s.r, s.r.Scenarios[i]
	res := s.results[sc.Name]
	v := scenarioView{Title: "faultline: " + sc.Name + " (" + r.sdkLabel() + ")", SDK: r.sdkLabel(),
		Back: "../index.html#" + s.slugs[i], Name: sc.Name, File: sc.File, Covers: strings.Join(sc.Covers, " "),
		WallS: fmt.Sprintf("%.1fs", sc.WallMS/1000), Partial: r.incompleteText(), Problems: sc.Problems,
		Stderr: stderrViews(sc.DriverStderr), Timeline: buildTimeline(sc, res), Backoffs: backoffCharts(res), Hists: histograms(res),
		HistoryTotal: len(sc.History)}
	v.Legend = legendFor(v.Timeline)
	for j, x := range res {
		rv := resultView{Anchor: s.anchors[sc.Name][j], Requirement: x.Requirement, Title: requirement.Title(x.Requirement),
			Check: x.Check, Verdict: x.Verdict, Class: verdictClass(x.Verdict), Detail: x.Detail,
			Measurements: x.Measurements, NMeasurements: len(x.Measurements)}
		if len(rv.Measurements) > maxMeasurementRows {
			rv.Measurements, rv.MoreMeasurements = rv.Measurements[:maxMeasurementRows], len(rv.Measurements)-maxMeasurementRows
		}
		v.Results = append(v.Results, rv)
	}
	for j, e := range sc.History {
		if j == maxHistoryLines {
			v.HistoryMore = len(sc.History) - j
			break
		}
		v.History = append(v.History, e.String())
	}
	return v
}

// stderrViews titles each driver process's kept stderr by the clients it
// served.
func stderrViews(ds []runner.DriverStderr) []stderrView {
	var out []stderrView
	for _, d := range ds {
		who := fmt.Sprintf("client %d", d.Client)
		if len(d.Clients) > 1 {
			var ids []string
			for _, c := range d.Clients {
				ids = append(ids, fmt.Sprint(c))
			}
			who = "clients " + strings.Join(ids, ", ")
		}
		who += fmt.Sprintf(" (pid %d)", d.PID)
		if d.Truncated {
			who += fmt.Sprintf(": the last %d of %d bytes", len(d.Text), d.Bytes)
		}
		out = append(out, stderrView{Who: who, Text: d.Text, Lines: strings.Count(strings.TrimSuffix(d.Text, "\n"), "\n") + 1})
	}
	return out
}
