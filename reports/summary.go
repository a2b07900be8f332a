package reports

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/requirement"
)

// maxDetail bounds a detail in Markdown: the step summary is a glance, the
// HTML and JSON have the rest.
const maxDetail = 400

// Summary renders the report as Markdown for a CI step summary.
func (r *Report) Summary() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "## faultline: %s\n\n", md(r.sdkLabel()))
	fmt.Fprintf(&b, "%s across %d scenario(s), %d result(s); run %.1fs, seed %d.\n\n",
		totalsText(r.Totals), len(r.Scenarios), len(r.Results), r.WallMS/1000, r.Seed)
	if t := r.incompleteText(); t != "" {
		fmt.Fprintf(&b, "**%s**\n\n", md(t))
	}

	cols := r.columns() // verdict.go
	b.WriteString("| requirement | verdict |")
	for _, v := range cols {
		b.WriteString(" " + v + " |")
	}
	b.WriteString("\n|---|---|" + strings.Repeat("--:|", len(cols)) + "\n")
	for _, id := range r.requirements() {
		n := map[string]int{}
		worst := r.Worst(id)
		for _, res := range r.Results {
			if res.Requirement == id {
				n[res.Verdict]++
			}
		}
		fmt.Fprintf(&b, "| %s %s | %s %s |", md(id), md(requirement.Title(id)), verdictMark(worst), md(worst))
		for _, v := range cols {
			if n[v] > 0 {
				fmt.Fprintf(&b, " %d |", n[v])
			} else {
				b.WriteString("  |")
			}
		}
		b.WriteString("\n")
	}

	b.WriteString("\n### Scenarios\n\n| scenario | results | wall |\n|---|---|--:|\n")
	byScenario := r.byScenario()
	for _, sc := range r.Scenarios {
		var cells []string
		for _, res := range byScenario[sc.Name] {
			cells = append(cells, verdictMark(res.Verdict)+" "+md(res.Requirement))
		}
		if len(sc.Problems) > 0 {
			cells = append(cells, "(run problems)")
		}
		fmt.Fprintf(&b, "| %s | %s | %.1fs |\n", md(sc.Name), strings.Join(cells, " "), sc.WallMS/1000)
	}

	var fails []string
	for _, res := range r.Results {
		if check.FailsRun(res.Verdict) {
			fails = append(fails, fmt.Sprintf("- **%s** %s `%s`: %s", md(res.Scenario), md(res.Requirement), code(res.Check), md(clip(res.Detail, maxDetail))))
		}
	}
	if len(fails) > 0 {
		b.WriteString("\n### Failed\n\n" + strings.Join(fails, "\n") + "\n")
	}
	return []byte(b.String())
}

func (r *Report) byScenario() map[string][]Result {
	out := map[string][]Result{}
	for _, res := range r.Results {
		out[res.Scenario] = append(out[res.Scenario], res)
	}
	return out
}

func totalsText(t Totals) string {
	var parts []string
	for _, v := range verdicts {
		if t[v] > 0 {
			parts = append(parts, fmt.Sprintf("%s %s %d", verdictMark(v), v, t[v]))
		}
	}
	if len(parts) == 0 {
		return "no results"
	}
	return "**" + strings.Join(parts, " · ") + "**"
}

// md escapes text for a Markdown table cell or list item: no markup, no
// HTML, no line breaks from an SDK's words.
func md(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '|', '\\', '`', '*', '_', '[', ']', '#', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteRune('\uFFFD')
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// code makes text safe inside a Markdown code span, where backslash
// escapes do not work: no backticks, no line breaks.
func code(s string) string {
	return strings.NewReplacer("`", "'", "\n", " ", "\r", " ").Replace(s)
}

// clip shortens s to about n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("… (%d more bytes)", len(s)-n)
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// WriteSummary writes dir/summary.md.
func (r *Report) WriteSummary(dir string) (string, error) {
	p := filepath.Join(dir, "summary.md")
	return p, os.WriteFile(p, r.Summary(), 0o644)
}
