package reports

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/runner"
)

// The index opens with what failed (one line each, linking to the result on
// its scenario's page), then the requirements, then the matrix.
func TestIndexOpensWithWhatFailed(t *testing.T) {
	page := string(allPages(t, fixture())["index.html"])
	failed, reqs, matrix := strings.Index(page, `id="Failed"`), strings.Index(page, `id="Requirements"`), strings.Index(page, `id="Matrix"`)
	if failed < 0 || reqs < failed || matrix < reqs {
		t.Fatalf("sections at %d (failed), %d (requirements), %d (matrix): want that order", failed, reqs, matrix)
	}
	list := page[failed:reqs]
	if n := strings.Count(list, "<li>"); n != 1 {
		t.Errorf("%d lines in What failed, want 1 (R8 of hostile):\n%s", n, list)
	}
	for _, want := range []string{`href="pages/hostile.html#R8-deliberate_close"`, "R8 deliberate_close", "the run did not go as scheduled"} {
		if !strings.Contains(list, want) {
			t.Errorf("What failed lacks %s:\n%s", want, list)
		}
	}
	// Every requirement's row, with its one line and its counts.
	for _, want := range []string{`<tr id="R2"><td><b>R2</b> reconnection schedule</td>`, `<tr id="F1"><td><b>F1</b> autofailover to the next server</td>`} {
		if !strings.Contains(page[reqs:matrix], want) {
			t.Errorf("requirements lack %s", want)
		}
	}

	ok := fixture()
	ok.Scenarios, ok.Results = ok.Scenarios[:1], ok.Results[:3]
	ok.Tally()
	if p := string(allPages(t, ok)["index.html"]); !strings.Contains(p, "Nothing FAILED or is UNKNOWN: 3 result(s) across 1 scenario(s).") {
		t.Error("a report where nothing failed says so at the top")
	}
}

// A scenario whose run went wrong without a result to say so (an
// interrupted one) still has its line.
func TestIndexListsAProblemWithoutAResult(t *testing.T) {
	r := fixture()
	r.Interrupt("hostile", nil)
	page := string(allPages(t, r)["index.html"])
	if !strings.Contains(page, `<a href="pages/hostile.html">hostile</a> <span class="badge v-failed">PROBLEM</span> the run:`) {
		t.Errorf("no problem line for the cut scenario in:\n%s", page[strings.Index(page, `id="Failed"`):strings.Index(page, `id="Requirements"`)])
	}
}

var (
	hrefRe = regexp.MustCompile(`href="([^"]*)"`)
	idRe   = regexp.MustCompile(`id="([^"]*)"`)
)

// Every link between the pages leads somewhere: a page that exists and an
// anchor on it. Scenario anchors are the scenarios' names.
func TestEveryLinkResolves(t *testing.T) {
	r := bigReport(12)
	rename := map[string]string{r.Scenarios[3].Name: "Odd Name/with spaces", r.Scenarios[4].Name: "odd-name-with-spaces"} // one slug, twice
	for i := range r.Scenarios {
		if n, ok := rename[r.Scenarios[i].Name]; ok {
			r.Scenarios[i].Name = n
		}
	}
	for i := range r.Results {
		if n, ok := rename[r.Results[i].Scenario]; ok {
			r.Results[i].Scenario = n
		}
	}
	ps := allPages(t, r)
	ids := map[string]map[string]bool{}
	for name, b := range ps {
		ids[name] = map[string]bool{}
		for _, m := range idRe.FindAllStringSubmatch(string(b), -1) {
			if ids[name][m[1]] && !strings.HasPrefix(m[1], "h-") {
				t.Errorf("%s: id %q twice", name, m[1])
			}
			ids[name][m[1]] = true
		}
	}
	links := 0
	for name, b := range ps {
		dir := ""
		if i := strings.LastIndex(name, "/"); i >= 0 {
			dir = name[:i+1]
		}
		for _, m := range hrefRe.FindAllStringSubmatch(string(b), -1) {
			target, frag, _ := strings.Cut(m[1], "#")
			if target == "" {
				target = name
			} else {
				target = strings.TrimPrefix(dir+target, "pages/../")
			}
			if ids[target] == nil {
				t.Errorf("%s links to %s: no such page", name, m[1])
				continue
			}
			if frag != "" && !ids[target][frag] {
				t.Errorf("%s links to %s: no such anchor", name, m[1])
			}
			links++
		}
	}
	index := ids["index.html"]
	for _, want := range []string{"suite-00-reconnect", "suite-11-migration", "crowd-thousand", "odd-name-with-spaces", "odd-name-with-spaces-2"} {
		if !index[want] {
			t.Errorf("index.html has no anchor #%s", want)
		}
	}
	if links < 50 {
		t.Errorf("only %d links checked", links)
	}
}

// The same report renders the same pages: anchors and file names are
// stable from one rendering to the next.
func TestPagesAreStable(t *testing.T) {
	a, b := allPages(t, bigReport(5)), allPages(t, bigReport(5))
	for name := range a {
		if string(a[name]) != string(b[name]) {
			t.Errorf("%s differs between two renderings of one report", name)
		}
	}
}

// everything is a history that draws every class a timeline has.
func everything() (Scenario, []Result) {
	var h history.History
	add := func(ms float64, e history.Event) {
		e.T = msd(ms)
		h = append(h, e)
	}
	add(0, history.Event{Source: history.SrcHarness, Kind: history.KindStep, Attrs: map[string]string{"step": "go"}})
	add(1, history.Event{Source: history.SrcHarness, Kind: history.KindOp, Client: 0, Op: "connect"})
	states := []string{driver.Connecting, driver.ConnectedActive, driver.RecoveringReconnect, driver.ClosedByClient,
		driver.ClosedByServer, driver.ClosedFailed, "SDK_OWN_STATE"}
	for i, s := range states {
		add(float64(2+i*100), history.Event{Source: history.SrcClient, Kind: history.KindState, Client: i % 2, To: s})
	}
	add(3, history.Event{Source: history.SrcServer, Kind: history.KindAccept, Server: "s1", Conn: "s1#1"})
	add(4, history.Event{Source: history.SrcServer, Kind: history.KindSessionCreate, Server: "s1", Session: "A"})
	add(50, history.Event{Source: history.SrcServer, Kind: history.KindSessionDisconn, Server: "s1", Session: "A"})
	add(60, history.Event{Source: history.SrcServer, Kind: history.KindKill, Server: "s1"})
	add(90, history.Event{Source: history.SrcServer, Kind: history.KindRestart, Server: "s1"})
	add(95, history.Event{Source: history.SrcHarness, Kind: history.KindReply, Client: 0, Op: "connect", OK: false, Reason: "no"})
	for i, verb := range []string{"cut", "reset", "blackhole", "slow", "throttle", "slice", "limit", "down", "jitter"} {
		id := strconv.Itoa(i)
		add(float64(100+i*60), history.Event{Source: history.SrcLink, Kind: history.KindFaultOn, Link: "s1", Verb: verb, Attrs: map[string]string{"id": id}})
		add(float64(150+i*60), history.Event{Source: history.SrcLink, Kind: history.KindFaultOff, Link: "s1", Verb: verb, Attrs: map[string]string{"id": id}})
	}
	res := []Result{}
	for i, v := range verdicts {
		res = append(res, Result{Scenario: "everything", Requirement: fmt.Sprintf("R%d", i+1), Verdict: v, Check: "c", AtMS: float64(100 + 100*i),
			Measurements: []check.Measurement{{Name: "window", Unit: "ms", Value: 20}}})
	}
	return Scenario{Name: "everything", History: h}, res
}

// Every colour and mark a timeline draws is in its legend, and every class
// the legend names has a rule in the page's style: nothing unexplained.
func TestEveryTimelineClassIsInTheLegend(t *testing.T) {
	sc, res := everything()
	tl := buildTimeline(sc, res)
	inLegend := map[string]bool{}
	for _, it := range legendFor(tl) {
		inLegend[it.Class] = true
	}
	drawn := map[string]bool{}
	for _, s := range tl.Spans {
		drawn[s.Class] = true
	}
	for _, k := range tl.Ticks {
		drawn[k.Class] = true
	}
	for _, m := range tl.Marks {
		drawn[m.Class] = true
	}
	drawn["window"] = len(tl.Windows) > 0
	for c, ok := range drawn {
		if ok && !inLegend[c] {
			t.Errorf("the timeline draws %q, the legend does not explain it", c)
		}
	}
	for _, it := range timelineLegend { // the test draws every kind there is
		if !drawn[it.Class] {
			t.Errorf("the test's timeline does not draw %s", it.Class)
		}
	}
	css, err := os.ReadFile("style.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range timelineLegend {
		if !regexp.MustCompile(`\.` + regexp.QuoteMeta(it.Class) + `[ ,{]`).Match(css) {
			t.Errorf("no style for the legend's %s", it.Class)
		}
	}
	codes := map[string]string{}
	for _, it := range timelineLegend {
		if it.Shape != "span" {
			continue
		}
		if other, dup := codes[it.Code]; dup || it.Code == "" {
			t.Errorf("spans %s and %s share the code %q: the code is what tells them apart without colour", other, it.Class, it.Code)
		}
		codes[it.Code] = it.Class
	}
	page := string(allPages(t, &Report{Scenarios: []Scenario{sc}, Results: res})["pages/everything.html"])
	for _, it := range legendFor(tl) {
		if !strings.Contains(page, "<span>"+it.Text+"</span>") {
			t.Errorf("the page's legend lacks %q", it.Text)
		}
	}
}

// A span too narrow for its word shows its code, so that it is read by
// more than its colour; one too narrow for either shows nothing.
func TestNarrowSpansShowTheirCode(t *testing.T) {
	l := &layout{end: msd(1000), tl: &timeline{}}
	l.span(0, 0, 0, msd(500), "st-recovering", "recovering", "")
	l.span(0, 0, 0, msd(20), "st-recovering", "recovering", "")
	l.span(0, 0, 0, msd(1), "st-recovering", "recovering", "")
	var got []string
	for _, s := range l.tl.Spans {
		got = append(got, s.Label)
	}
	if strings.Join(got, ",") != "recovering,R," {
		t.Errorf("labels %q, want the word, the code, nothing", got)
	}
}

var (
	fillRe    = regexp.MustCompile(`\.([a-z-]+) \{ fill: (#[0-9a-f]{6}|url\(#h-[a-z-]+\)); \}`)
	patternRe = regexp.MustCompile(`<pattern id="(h-[a-z-]+)"[^>]*><rect [^>]*fill="(#[0-9a-f]{6})"`)
	varRe     = regexp.MustCompile(`--([a-z-]+):(#[0-9a-f]{6})`)
	darkRe    = regexp.MustCompile(`\.([a-z-]+) \+ text`)
)

// Colours are told apart, and text on them is readable: every span colour
// differs from every other by a CIE76 ΔE of at least 15 (the old `slow`
// and "recovering" oranges were 13 apart), each span's label has a WCAG
// contrast of at least 4.5 on it, as has each verdict's text on its badge.
func TestColoursAreToldApartAndReadable(t *testing.T) {
	b, err := os.ReadFile("style.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	base := map[string]string{}
	for _, m := range patternRe.FindAllStringSubmatch(css, -1) {
		base["url(#"+m[1]+")"] = m[2]
	}
	fills := map[string]string{}
	for _, m := range fillRe.FindAllStringSubmatch(css, -1) {
		c := m[2]
		if p, ok := base[c]; ok {
			c = p
		}
		fills[m[1]] = c
	}
	dark := map[string]bool{}
	for _, m := range darkRe.FindAllStringSubmatch(css, -1) {
		dark[m[1]] = true
	}
	var spans []string
	for _, it := range timelineLegend {
		if it.Shape != "span" {
			continue
		}
		c, ok := fills[it.Class]
		if !ok || strings.HasPrefix(c, "url") {
			t.Errorf("%s: no colour found (%q)", it.Class, c)
			continue
		}
		spans = append(spans, it.Class)
		text := "#111111"
		if dark[it.Class] {
			text = "#ffffff"
		}
		if r := contrast(c, text); r < 4.5 {
			t.Errorf("%s: label %s on %s has contrast %.2f, want ≥ 4.5", it.Class, text, c, r)
		}
	}
	for i, a := range spans {
		for _, b := range spans[i+1:] {
			if d := deltaE(fills[a], fills[b]); d < 15 {
				t.Errorf("%s (%s) and %s (%s) are only ΔE %.1f apart", a, fills[a], b, fills[b], d)
			}
		}
	}
	vars := map[string]string{}
	for _, m := range varRe.FindAllStringSubmatch(css, -1) {
		vars[m[1]] = m[2]
	}
	for _, v := range []string{"ok", "ns", "fail", "unk", "unimpl", "unsup", "info"} {
		if r := contrast(vars[v], vars[v+"-d"]); r < 4.5 {
			t.Errorf("verdict colours --%s/--%s-d: contrast %.2f, want ≥ 4.5", v, v, r)
		}
	}
	if deltaE("#ffa726", "#ffb74d") >= 15 {
		t.Error("the test's bound does not tell the old slow and recovering apart")
	}
}

func rgb(hex string) [3]float64 {
	var out [3]float64
	for i := range out {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			out[i] = c / 12.92
		} else {
			out[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return out
}

func luminance(hex string) float64 {
	c := rgb(hex)
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

// contrast is WCAG 2's contrast ratio.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// deltaE is CIE76: the distance in CIELAB (D65).
func deltaE(a, b string) float64 {
	lab := func(hex string) [3]float64 {
		c := rgb(hex)
		x := (0.4124*c[0] + 0.3576*c[1] + 0.1805*c[2]) / 0.95047
		y := 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
		z := (0.0193*c[0] + 0.1192*c[1] + 0.9505*c[2]) / 1.08883
		f := func(t float64) float64 {
			if t > 0.008856 {
				return math.Cbrt(t)
			}
			return 7.787*t + 16.0/116
		}
		return [3]float64{116*f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))}
	}
	la, lb := lab(a), lab(b)
	return math.Sqrt((la[0]-lb[0])*(la[0]-lb[0]) + (la[1]-lb[1])*(la[1]-lb[1]) + (la[2]-lb[2])*(la[2]-lb[2]))
}

// A driver's stderr, when the run kept it, is on its scenario's page,
// collapsed and escaped; a scenario without one has no such section.
func TestDriverStderrIsCollapsedOnTheScenarioPage(t *testing.T) {
	r := fixture()
	text := "starting\n" + evilError + "\n"
	r.Scenarios[1].DriverStderr = []runner.DriverStderr{
		{Client: 0, PID: 4242, Text: text, Bytes: 9000, Truncated: true},
		{Client: 1, Clients: []int{1, 2}, PID: 4243, Text: "one line"},
	}
	ps := allPages(t, r)
	page := string(ps["pages/hostile.html"])
	assertNoLiveMarkup(t, page)
	for _, want := range []string{
		fmt.Sprintf(`<details><summary>driver stderr of client 0 (pid 4242): the last %d of 9000 bytes: 2 line(s)</summary><pre class="stderr">starting`, len(text)) + "\n" + `&lt;/pre&gt;&lt;script&gt;`,
		`<summary>driver stderr of clients 1, 2 (pid 4243): 1 line(s)</summary>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(string(ps["pages/recovers.html"]), "driver stderr") {
		t.Error("a scenario without stderr shows a stderr section")
	}
}

// Rendering into a folder that holds an earlier report's pages leaves no
// page of a scenario this report does not have.
func TestWriteHTMLRemovesStalePages(t *testing.T) {
	dir := t.TempDir()
	if _, err := fixture().WriteHTML(dir); err != nil {
		t.Fatal(err)
	}
	r := fixture()
	r.Scenarios, r.Results = r.Scenarios[:1], r.Results[:3]
	if _, err := r.WriteHTML(dir); err != nil {
		t.Fatal(err)
	}
	got, _ := filepath.Glob(filepath.Join(dir, "pages", "*"))
	if len(got) != 1 || filepath.Base(got[0]) != "recovers.html" {
		t.Errorf("pages left: %v, want recovers.html alone", got)
	}
}
