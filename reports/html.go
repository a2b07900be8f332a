package reports

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/requirement"
)

//go:embed page.html.tmpl
var pageFS embed.FS

// pages is parsed once, on first use (not at init: every process that
// links this package, a driver process too, would pay for it). html/template
// escapes every value by its context (text, attribute, URL): an SDK's words
// never become markup. No value is ever passed as template.HTML.
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page.html.tmpl").Funcs(template.FuncMap{
		"verdictClass": verdictClass,
		"f":            func(v float64) string { return fmt.Sprintf("%.1f", v) },
		"value":        value,
	}).ParseFS(pageFS, "page.html.tmpl"))
})

// maxHistoryLines bounds the raw history shown for a scenario that failed.
const maxHistoryLines = 400

type htmlReport struct {
	Title     string
	SDK       string
	Driver    string
	Started   string
	Seed      int64
	WallS     string
	Totals    []verdictCount
	Partial   string // why the report is partial, or ""
	Features  string
	Cols      []matrixCol
	Rows      []matrixRow
	Scenarios []scenarioView
}

type verdictCount struct {
	Verdict, Class string
	N              int
}

type matrixCol struct{ Name, Href string }

type matrixRow struct {
	Req, Title string
	Cells      []matrixCell
}

type matrixCell struct {
	Verdict, Class, Short, Tip, Href string
}

type scenarioView struct {
	Anchor, Name, File, Covers, WallS string
	Problems                          []string
	Results                           []Result
	Timeline                          timeline
	Backoffs                          []backoffChart
	Hists                             []histChart
	History                           []string
	HistoryMore                       int
}

func short(v string) string {
	switch v {
	case check.NonStrict:
		return "N-S"
	case check.Unimplemented:
		return "UNIMPL"
	case check.Informational:
		return "INFO"
	case check.Failed:
		return "FAIL"
	case check.Unknown:
		return "UNKN"
	}
	return v
}

func totalsList(t Totals) []verdictCount {
	var out []verdictCount
	for _, v := range verdicts {
		if t[v] > 0 {
			out = append(out, verdictCount{v, verdictClass(v), t[v]})
		}
	}
	return out
}

// HTML renders index.html: self-contained, no script.
func (r *Report) HTML() ([]byte, error) {
	v := htmlReport{Title: "faultline: " + r.sdkLabel(), SDK: r.sdkLabel(), Driver: r.Driver,
		Started: r.Started.Format("2006-01-02 15:04:05 MST"), Seed: r.Seed, WallS: fmt.Sprintf("%.1fs", r.WallMS/1000),
		Totals: totalsList(r.Totals), Partial: r.incompleteText(), Features: strings.Join(r.SDK.Features, ", ")}
	byScenario := r.byScenario()
	for i, sc := range r.Scenarios {
		v.Cols = append(v.Cols, matrixCol{Name: sc.Name, Href: fmt.Sprintf("#sc-%d", i)})
	}
	for _, id := range r.requirements() {
		row := matrixRow{Req: id, Title: requirement.Title(id)}
		for i, sc := range r.Scenarios {
			cell := matrixCell{Href: fmt.Sprintf("#sc-%d", i)}
			var tips []string
			for _, res := range byScenario[sc.Name] {
				if res.Requirement == id {
					cell.Verdict = check.Worse(cell.Verdict, res.Verdict)
					tips = append(tips, fmt.Sprintf("%s: %s: %s", res.Check, res.Verdict, clip(res.Detail, 200)))
				}
			}
			cell.Class, cell.Short, cell.Tip = verdictClass(cell.Verdict), short(cell.Verdict), strings.Join(tips, "\n")
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	for i, sc := range r.Scenarios {
		res := byScenario[sc.Name]
		sv := scenarioView{Anchor: fmt.Sprintf("sc-%d", i), Name: sc.Name, File: sc.File, Covers: strings.Join(sc.Covers, " "),
			WallS: fmt.Sprintf("%.1fs", sc.WallMS/1000), Problems: sc.Problems, Results: res,
			Timeline: buildTimeline(sc, res), Backoffs: backoffCharts(res), Hists: histograms(res)}
		if failedScenario(sc, res) {
			for j, e := range sc.History {
				if j == maxHistoryLines {
					sv.HistoryMore = len(sc.History) - j
					break
				}
				sv.History = append(sv.History, e.String())
			}
		}
		v.Scenarios = append(v.Scenarios, sv)
	}
	var b bytes.Buffer
	if err := pages().ExecuteTemplate(&b, "report", v); err != nil {
		return nil, fmt.Errorf("index.html: %w", err)
	}
	return b.Bytes(), nil
}

func failedScenario(sc Scenario, res []Result) bool {
	if len(sc.Problems) > 0 {
		return true
	}
	for _, r := range res {
		if check.FailsRun(r.Verdict) {
			return true
		}
	}
	return false
}

// WriteHTML writes dir/index.html.
func (r *Report) WriteHTML(dir string) (string, error) {
	b, err := r.HTML()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "index.html")
	return p, os.WriteFile(p, b, 0o644)
}

// WriteAll writes report.json, junit.xml, summary.md and index.html into dir
// and returns their paths.
func (r *Report) WriteAll(dir string) ([]string, error) {
	var paths []string
	for _, w := range []func(string) (string, error){r.WriteJSON, r.WriteJUnit, r.WriteSummary, r.WriteHTML} {
		p, err := w(dir)
		if err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
