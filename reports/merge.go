package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/faultline/faultline/harness/check"
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

// MergedSDK is one column: one report.
type MergedSDK struct {
	Label  string       `json:"label"` // unique among the columns
	SDK    driver.Hello `json:"sdk"`
	Driver string       `json:"driver,omitempty"`
	Source string       `json:"source"` // the report.json it came from
	Totals Totals       `json:"totals"`
	// Partial is set when that report is incomplete (an interrupted run):
	// its column is not a whole conformance verdict.
	Partial bool   `json:"partial,omitempty"`
	Href    string `json:"-"` // its index.html, relative to the merged folder
}

// MergedRow is one requirement across the SDKs.
type MergedRow struct {
	Requirement string   `json:"requirement"`
	Title       string   `json:"title"`
	Verdicts    []string `json:"verdicts"` // one per SDK, in SDKs' order
	Counts      []Totals `json:"counts"`   // the verdicts behind each cell
}

// Merge builds the matrix; sources name the reports (their paths).
func Merge(reps []*Report, sources []string) *Merged {
	m := &Merged{}
	used := map[string]int{}
	var ids []string
	seen := map[string]bool{}
	for i, r := range reps {
		label := r.sdkLabel()
		if used[label]++; used[label] > 1 {
			label = fmt.Sprintf("%s (%d)", label, used[label])
		}
		m.SDKs = append(m.SDKs, MergedSDK{Label: label, SDK: r.SDK, Driver: r.Driver, Source: sources[i], Totals: r.Totals,
			Partial: r.Incomplete != nil})
		for _, id := range r.requirements() {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	for _, id := range sortRequirements(ids) {
		row := MergedRow{Requirement: id, Title: requirement.Title(id)}
		for _, r := range reps {
			worst, n := "", Totals{}
			for _, res := range r.Results {
				if res.Requirement == id {
					worst = check.Worse(worst, res.Verdict)
					n[res.Verdict]++
				}
			}
			row.Verdicts = append(row.Verdicts, worst)
			row.Counts = append(row.Counts, n)
		}
		m.Requirements = append(m.Requirements, row)
	}
	return m
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
		fmt.Fprintf(&b, "| %s | %s%s | %s |\n", md(s.Label), totalsText(s.Totals), partial, md(s.Source))
	}
	return []byte(b.String())
}

type htmlMerged struct {
	SDKs []MergedSDK
	Rows []mergedRowView
}

type mergedRowView struct {
	Req, Title string
	Cells      []matrixCell
}

// HTML renders the matrix as a self-contained page.
func (m *Merged) HTML() ([]byte, error) {
	v := htmlMerged{SDKs: m.SDKs}
	for _, row := range m.Requirements {
		rv := mergedRowView{Req: row.Requirement, Title: row.Title}
		for i, verdict := range row.Verdicts {
			var tips []string
			for _, vv := range verdicts {
				if n := row.Counts[i][vv]; n > 0 {
					tips = append(tips, fmt.Sprintf("%s %d", vv, n))
				}
			}
			rv.Cells = append(rv.Cells, matrixCell{Verdict: verdict, Class: verdictClass(verdict), Short: short(verdict),
				Tip: strings.Join(tips, ", "), Href: m.SDKs[i].Href})
		}
		v.Rows = append(v.Rows, rv)
	}
	var b bytes.Buffer
	if err := pages().ExecuteTemplate(&b, "merge", v); err != nil {
		return nil, fmt.Errorf("merged index.html: %w", err)
	}
	return b.Bytes(), nil
}

// WriteAll writes merged.json, summary.md and index.html into dir. Each
// column links to its report's index.html when one sits beside its
// report.json.
func (m *Merged) WriteAll(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for i := range m.SDKs {
		page := filepath.Join(filepath.Dir(m.SDKs[i].Source), "index.html")
		if _, err := os.Stat(page); err != nil {
			continue
		}
		absDir, err1 := filepath.Abs(dir)
		absPage, err2 := filepath.Abs(page)
		if err1 != nil || err2 != nil {
			continue
		}
		if rel, err := filepath.Rel(absDir, absPage); err == nil {
			m.SDKs[i].Href = filepath.ToSlash(rel)
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
	return paths, nil
}
