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

//go:embed *.tmpl
var pageFS embed.FS

// pages is parsed once, on first use (not at init: every process that
// links this package, a driver process too, would pay for it). html/template
// escapes every value by its context (text, attribute, URL): an SDK's words
// never become markup. No value is ever passed as template.HTML.
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("pages").Funcs(template.FuncMap{
		"verdictClass": verdictClass,
		"f":            func(v float64) string { return fmt.Sprintf("%.1f", v) },
		"value":        value,
	}).ParseFS(pageFS, "*.tmpl"))
})

// pagesDir is the folder, beside index.html, of the scenarios' own pages.
// Not "scenarios": a report written into a checkout (--report .) must not
// write into its scenario files' folder.
const pagesDir = "pages"

// indexView is index.html: what failed, the requirements, the matrix.
type indexView struct {
	Title, SDK, Driver, Started, WallS, Features string
	Seed                                         int64
	NScenarios, NResults                         int
	Totals                                       []verdictCount
	Partial                                      string // why the report is partial, or ""
	Failed                                       []failedLine
	VerdictCols                                  []verdictLegend
	Reqs                                         []reqSummary
	Legend                                       []verdictLegend
	MatrixReqs                                   []requirement.Requirement
	Rows                                         []matrixRow
}

type verdictCount struct {
	Verdict, Class string
	N              int
}

// failedLine is one line of "What failed": a result that fails the run, or a
// scenario whose run went wrong without a result to say so.
type failedLine struct {
	Scenario, Href, Verdict, Class, What, Why string
}

type reqSummary struct {
	ID, Title, Worst, Class string
	Counts                  []int // per VerdictCols
	Scenarios               int
}

type verdictLegend struct{ Verdict, Class, Code, Meaning string }

// matrixRow is a scenario's row of the index's matrix (or, merged, a
// requirement's row).
type matrixRow struct {
	Anchor, Name, Title, Href string
	Problems                  bool
	Cells                     []matrixCell
}

type matrixCell struct {
	Verdict, Class, Short, Tip, Href string
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

func verdictLegends() []verdictLegend {
	var out []verdictLegend
	for _, v := range verdicts {
		out = append(out, verdictLegend{v, verdictClass(v), verdictCode(v), verdictMeaning(v)})
	}
	return out
}

// maxWhy bounds a "What failed" line: the scenario's page has the rest.
const maxWhy = 240

// firstLine is s up to its first line break, clipped to n bytes.
func firstLine(s string, n int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return clip(s, n)
}

// site is a report's pages laid out: the slug of each scenario, so that
// the index, the pages and their anchors agree.
type site struct {
	r       *Report
	slugs   []string            // per r.Scenarios
	anchors map[string][]string // per scenario name: its results' anchors, in order
	results map[string][]Result // per scenario name, in order
}

func newSite(r *Report) *site {
	s := &site{r: r, anchors: map[string][]string{}, results: r.byScenario()}
	sl := slugger{}
	for _, sc := range r.Scenarios {
		s.slugs = append(s.slugs, sl.of(sc.Name))
	}
	for name, res := range s.results {
		seen := map[string]int{}
		for _, x := range res {
			a := resultAnchor(x)
			if seen[a]++; seen[a] > 1 {
				a = fmt.Sprintf("%s-%d", a, seen[a])
			}
			s.anchors[name] = append(s.anchors[name], a)
		}
	}
	return s
}

// resultAnchor names a result on its scenario's page: its requirement and
// check ("R4-reconnect_window").
func resultAnchor(x Result) string { return strings.ToUpper(slug(x.Requirement)) + "-" + slug(x.Check) }

func (s *site) page(i int) string { return pagesDir + "/" + s.slugs[i] + ".html" }

// index lays out index.html.
func (s *site) index() indexView {
	r := s.r
	v := indexView{Title: "faultline: " + r.sdkLabel(), SDK: r.sdkLabel(), Driver: r.Driver,
		Started: r.Started.Format("2006-01-02 15:04:05 MST"), Seed: r.Seed, WallS: fmt.Sprintf("%.1fs", r.WallMS/1000),
		NScenarios: len(r.Scenarios), NResults: len(r.Results),
		Totals: totalsList(r.Totals), Partial: r.incompleteText(), Features: strings.Join(r.SDK.Features, ", "),
		Legend: verdictLegends()}
	for _, c := range r.columns() {
		v.VerdictCols = append(v.VerdictCols, verdictLegend{Verdict: c, Class: verdictClass(c), Code: verdictCode(c)})
	}
	reqs := r.requirements()
	for _, id := range reqs {
		v.MatrixReqs = append(v.MatrixReqs, requirement.Requirement{ID: id, Title: requirement.Title(id)})
	}
	for i, sc := range r.Scenarios {
		res, anchors := s.results[sc.Name], s.anchors[sc.Name]
		row := matrixRow{Anchor: s.slugs[i], Name: sc.Name, Href: s.page(i), Problems: len(sc.Problems) > 0}
		failing := false
		for j, x := range res {
			if check.FailsRun(x.Verdict) {
				failing = true
				v.Failed = append(v.Failed, failedLine{Scenario: sc.Name, Href: s.page(i) + "#" + anchors[j], Verdict: x.Verdict,
					Class: verdictClass(x.Verdict), What: x.Requirement + " " + x.Check, Why: firstLine(x.Detail, maxWhy)})
			}
		}
		if !failing && len(sc.Problems) > 0 {
			v.Failed = append(v.Failed, failedLine{Scenario: sc.Name, Href: s.page(i), Verdict: "PROBLEM", Class: "v-failed",
				What: "the run", Why: firstLine(sc.Problems[0], maxWhy)})
		}
		for _, id := range reqs {
			cell := matrixCell{}
			var tips []string
			for j, x := range res {
				if x.Requirement != id {
					continue
				}
				if cell.Verdict == "" || check.Severity(x.Verdict) > check.Severity(cell.Verdict) {
					cell.Verdict, cell.Href = x.Verdict, s.page(i)+"#"+anchors[j] // the worst one's
				}
				tips = append(tips, fmt.Sprintf("%s: %s: %s", x.Check, x.Verdict, firstLine(x.Detail, 200)))
			}
			if cell.Verdict != "" {
				cell.Class, cell.Short, cell.Tip = verdictClass(cell.Verdict), verdictCode(cell.Verdict), strings.Join(tips, "\n")
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	for _, id := range reqs {
		rs := reqSummary{ID: id, Title: requirement.Title(id)}
		n := map[string]int{}
		scs := map[string]bool{}
		for _, x := range r.Results {
			if x.Requirement == id {
				n[x.Verdict]++
				scs[x.Scenario] = true
			}
		}
		for _, c := range v.VerdictCols {
			rs.Counts = append(rs.Counts, n[c.Verdict])
		}
		rs.Worst = r.Worst(id)
		rs.Class, rs.Scenarios = verdictClass(rs.Worst), len(scs)
		v.Reqs = append(v.Reqs, rs)
	}
	return v
}

// HTML renders index.html alone: what failed, the requirements and the
// matrix; its links lead into the scenario pages WriteHTML writes beside it.
func (r *Report) HTML() ([]byte, error) {
	return render("report", newSite(r).index())
}

func render(name string, v any) ([]byte, error) {
	var b bytes.Buffer
	if err := pages().ExecuteTemplate(&b, name, v); err != nil {
		return nil, fmt.Errorf("%s page: %w", name, err)
	}
	return b.Bytes(), nil
}

// Pages renders every page of the report: "index.html" and
// "pages/<scenario>.html", by path relative to the report's folder.
func (r *Report) Pages() (map[string][]byte, error) {
	s := newSite(r)
	out := map[string][]byte{}
	b, err := render("report", s.index())
	if err != nil {
		return nil, err
	}
	out["index.html"] = b
	for i := range r.Scenarios {
		b, err := render("scenario", s.scenario(i))
		if err != nil {
			return nil, err
		}
		out[s.page(i)] = b
	}
	return out, nil
}

// WriteHTML writes dir/index.html and a page per scenario in dir/pages,
// and returns index.html's path. Pages left in dir/pages by an earlier
// report that this one does not have are removed, so that no page
// outlives its scenario.
func (r *Report) WriteHTML(dir string) (string, error) {
	all, err := r.Pages()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, pagesDir), 0o755); err != nil {
		return "", err
	}
	old, _ := filepath.Glob(filepath.Join(dir, pagesDir, "*.html"))
	for _, p := range old {
		rel := pagesDir + "/" + filepath.Base(p)
		if _, keep := all[rel]; !keep {
			_ = os.Remove(p) // a stale page; failing to remove it harms nothing
		}
	}
	for rel, b := range all {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), b, 0o644); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "index.html"), nil
}

// WriteAll writes report.json, junit.xml, summary.md and index.html (with
// its scenario pages) into dir and returns the four files' paths.
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
