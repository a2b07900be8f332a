package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/requirement"
)

// Merged is merged.json: one SDK × requirement matrix over several reports,
// as Autobahn's comparison of WebSocket agents. A cell is the worst verdict
// of that SDK's results for that requirement; "" means not run.
type Merged struct {
	SDKs         []MergedSDK `json:"sdks"`
	Requirements []MergedRow `json:"requirements"`
}

// MergedSDK is one column: one report, or the reports of one SDK joined
// (Union).
type MergedSDK struct {
	Label  string       `json:"label"` // unique among the columns
	SDK    driver.Hello `json:"sdk"`
	Driver string       `json:"driver,omitempty"`
	Source string       `json:"source"` // the report.json it came from (the first, when joined)
	// Sources are the reports joined into this column, when there were
	// several; Joined is their union's report.json, relative to the merged
	// folder, once WriteAll has written it.
	Sources []string `json:"sources,omitempty"`
	Joined  string   `json:"joined,omitempty"`
	Totals  Totals   `json:"totals"`
	// Partial is set when that report is incomplete (an interrupted run):
	// its column is not a whole conformance verdict.
	Partial bool    `json:"partial,omitempty"`
	Href    string  `json:"-"` // its index.html, relative to the merged folder
	report  *Report // the column's report (the union, when joined)
}

// MergedRow is one requirement across the SDKs.
type MergedRow struct {
	Requirement string   `json:"requirement"`
	Title       string   `json:"title"`
	Verdicts    []string `json:"verdicts"` // one per SDK, in SDKs' order
	Counts      []Totals `json:"counts"`   // the verdicts behind each cell
}

// Merge builds the matrix; sources name the reports (their paths). Reports
// of the same SDK, version and driver become one column, their results
// joined (Union: the shards of one run, or one report per folder); an error
// says why they could not be (a scenario in two of them with different
// results). Other reports keep a column each, in the order given.
func Merge(reps []*Report, sources []string) (*Merged, error) {
	m := &Merged{}
	var keys []string
	groups := map[string][]int{}
	for i, r := range reps {
		k := sameSDK(r)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	used := map[string]int{}
	var ids []string
	seen := map[string]bool{}
	for _, k := range keys {
		idx := groups[k]
		r, col := reps[idx[0]], MergedSDK{Source: sources[idx[0]]}
		if len(idx) > 1 {
			var rs []*Report
			for _, i := range idx {
				rs = append(rs, reps[i])
				col.Sources = append(col.Sources, sources[i])
			}
			u, err := Union(rs, col.Sources)
			if err != nil {
				return nil, err
			}
			r = u
		}
		label := r.sdkLabel()
		if used[label]++; used[label] > 1 {
			label = fmt.Sprintf("%s (%d)", label, used[label])
		}
		col.Label, col.SDK, col.Driver, col.Totals, col.Partial, col.report = label, r.SDK, r.Driver, r.Totals, r.Incomplete != nil, r
		m.SDKs = append(m.SDKs, col)
		for _, id := range r.requirements() {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	for _, id := range sortRequirements(ids) {
		row := MergedRow{Requirement: id, Title: requirement.Title(id)}
		for _, col := range m.SDKs {
			worst, n := col.report.Worst(id), Totals{}
			for _, res := range col.report.Results {
				if res.Requirement == id {
					n[res.Verdict]++
				}
			}
			row.Verdicts = append(row.Verdicts, worst)
			row.Counts = append(row.Counts, n)
		}
		m.Requirements = append(m.Requirements, row)
	}
	return m, nil
}

// Summary renders the matrix as Markdown.
func (m *Merged) Summary() []byte {
	var b strings.Builder
	b.WriteString("## faultline: SDKs compared\n\n| requirement |")
	for _, s := range m.SDKs {
		b.WriteString(" " + md(s.Label) + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(m.SDKs)) + "\n")
	for _, row := range m.Requirements {
		fmt.Fprintf(&b, "| %s %s |", md(row.Requirement), md(row.Title))
		for _, v := range row.Verdicts {
			if v == "" {
				b.WriteString(" · |")
			} else {
				fmt.Fprintf(&b, " %s %s |", verdictMark(v), md(v))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n| SDK | results | source |\n|---|---|---|\n")
	for _, s := range m.SDKs {
		partial := ""
		if s.Partial {
			partial = " (partial: the run was interrupted)"
		}
		src := md(s.Source)
		if len(s.Sources) > 0 {
			var parts []string
			for _, p := range s.Sources {
				parts = append(parts, md(p))
			}
			src = fmt.Sprintf("%d reports joined: %s", len(s.Sources), strings.Join(parts, ", "))
		}
		fmt.Fprintf(&b, "| %s | %s%s | %s |\n", md(s.Label), totalsText(s.Totals), partial, src)
	}
	return []byte(b.String())
}

type htmlMerged struct {
	SDKs   []MergedSDK
	Rows   []matrixRow
	Legend []verdictLegend
}

// HTML renders the matrix as a self-contained page.
func (m *Merged) HTML() ([]byte, error) {
	v := htmlMerged{SDKs: m.SDKs, Legend: verdictLegends()}
	for _, row := range m.Requirements {
		rv := matrixRow{Name: row.Requirement, Title: row.Title}
		for i, verdict := range row.Verdicts {
			var tips []string
			for _, vv := range verdicts {
				if n := row.Counts[i][vv]; n > 0 {
					tips = append(tips, fmt.Sprintf("%s %d", vv, n))
				}
			}
			rv.Cells = append(rv.Cells, matrixCell{Verdict: verdict, Class: verdictClass(verdict), Short: verdictCode(verdict),
				Tip: strings.Join(tips, ", "), Href: m.SDKs[i].Href})
		}
		v.Rows = append(v.Rows, rv)
	}
	return render("merge", v)
}

// WriteAll writes merged.json, summary.md and index.html into dir. A
// column joined from several reports has its union written in full into
// dir/<its label>/ (report.json and its pages) and links there; any other
// column links to its report's index.html when one sits beside its
// report.json.
func (m *Merged) WriteAll(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var joined []string
	folders := slugger{}
	for i := range m.SDKs {
		col := &m.SDKs[i]
		if len(col.Sources) > 1 && col.report != nil {
			sub := folders.of(col.Label)
			paths, err := col.report.WriteAll(filepath.Join(dir, sub))
			if err != nil {
				return nil, err
			}
			joined = append(joined, paths...)
			col.Joined, col.Href = sub+"/report.json", sub+"/index.html"
			continue
		}
		page := filepath.Join(filepath.Dir(col.Source), "index.html")
		if _, err := os.Stat(page); err != nil {
			continue
		}
		absDir, err1 := filepath.Abs(dir)
		absPage, err2 := filepath.Abs(page)
		if err1 != nil || err2 != nil {
			continue
		}
		if rel, err := filepath.Rel(absDir, absPage); err == nil {
			col.Href = filepath.ToSlash(rel)
		}
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	page, err := m.HTML()
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range []struct {
		name string
		b    []byte
	}{{"merged.json", append(js, '\n')}, {"summary.md", m.Summary()}, {"index.html", page}} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.b, 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return append(paths, joined...), nil
}
