package reports

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/history"
)

func TestHTMLIsSelfContainedAndEscapesEverythingFromTheSDK(t *testing.T) {
	ps := allPages(t, fixture())
	if len(ps) != 3 || ps["index.html"] == nil || ps["pages/recovers.html"] == nil || ps["pages/hostile.html"] == nil {
		t.Fatalf("pages: %v", keys(ps))
	}
	var all strings.Builder
	for name, b := range ps {
		t.Run(name, func(t *testing.T) { assertNoLiveMarkup(t, string(b)) })
		all.Write(b)
	}
	page := all.String()
	for _, want := range []string{
		`&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;`, // an error text, in the results and the history
		`&lt;svg onload=alert(4)&gt;`,                       // a made-up state name
		`&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`,       // the version
	} {
		if !strings.Contains(page, want) {
			t.Errorf("pages lack the escaped form %s", want)
		}
	}
	if !strings.Contains(string(ps["pages/hostile.html"]), `class="st-other"`) {
		t.Error("an unknown state gets the shared class, not one of its own")
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTimelineHasALanePerClientServerAndLink(t *testing.T) {
	r := fixture()
	tl := buildTimeline(r.Scenarios[0], r.Results[:3])
	var labels []string
	for _, l := range tl.Lanes {
		labels = append(labels, l.Label)
	}
	if got := strings.Join(labels, ","); got != "client 0,server s1,server s2,link s1,steps" {
		t.Fatalf("lanes = %s", got)
	}
	classes := map[string]int{}
	for _, s := range tl.Spans {
		classes[s.Class]++
	}
	for _, c := range []string{"st-connecting", "st-active", "st-recovering", "ss-live", "ss-retained", "ft-cut"} {
		if classes[c] == 0 {
			t.Errorf("no %s span in %v", c, classes)
		}
	}
	if classes["ss-live"] != 3 || classes["ss-retained"] != 1 {
		t.Errorf("sessions: want A live, retained, live again and B live; got %v", classes)
	}
	if len(tl.Marks) != 3 || len(tl.Windows) != 1 {
		t.Errorf("marks %d (want 3), windows %d (want 1)", len(tl.Marks), len(tl.Windows))
	}
	// the window is the 51ms before the R4 mark
	w := tl.Windows[0]
	if x := tl.Marks[1].X; w.X+w.W < x-0.5 || w.X+w.W > x+0.5 {
		t.Errorf("window ends at %.1f, mark at %.1f", w.X+w.W, x)
	}
	labelled := 0
	for _, m := range tl.Marks {
		if m.Label != "" {
			labelled++
		}
	}
	if labelled != 2 || tl.Marks[0].Label != "R2 R4" || tl.Marks[2].Label != "F3" {
		t.Errorf("marks close together share one label: %+v", tl.Marks)
	}
}

func TestLinkLaneTicksWhatTheLinkSaw(t *testing.T) {
	r := fixture()
	sc := r.Scenarios[0]
	sc.History = append(history.History{
		{T: msd(2.5), Source: history.SrcLink, Kind: history.KindLinkAccept, Link: "s1", Conn: "127.0.0.1:40001"},
		{T: msd(2.6), Source: history.SrcLink, Kind: history.KindLinkDialFail, Link: "s1", Conn: "127.0.0.1:40001", Reason: "connection refused"},
		{T: msd(2.7), Source: history.SrcLink, Kind: history.KindLinkDead, Link: "s1", Reason: "accept tcp 127.0.0.1:40001: too many open files"},
		{T: msd(2.8), Source: history.SrcHarness, Kind: history.KindEvidenceLost, Server: "s1", Reason: "event stream of [s1] from http://127.0.0.1:9000: gone"},
	}, sc.History...)
	tl := buildTimeline(sc, nil)
	var link *tlLane
	for i := range tl.Lanes {
		if tl.Lanes[i].Label == "link s1" {
			link = &tl.Lanes[i]
		}
	}
	if link == nil {
		t.Fatalf("no link s1 lane in %+v", tl.Lanes)
	}
	var tips []string
	for _, tk := range tl.Ticks {
		if strings.Contains(tk.Tip, "127.0.0.1:40001") {
			tips = append(tips, tk.Class+" "+tk.Tip)
			if tk.Y1 < link.Y-2 || tk.Y2 > link.Y+link.H+2 {
				t.Errorf("tick %q at y %.0f–%.0f is outside the link lane (%.0f–%.0f)", tk.Tip, tk.Y1, tk.Y2, link.Y, link.Y+link.H)
			}
		}
	}
	want := []string{"tk-accept link took 127.0.0.1:40001 at 2.5ms", "tk-bad dial to the server failed for 127.0.0.1:40001 at 2.6ms: connection refused",
		"tk-bad the link stopped taking connections at 2.7ms: accept tcp 127.0.0.1:40001: too many open files"}
	if strings.Join(tips, "|") != strings.Join(want, "|") {
		t.Fatalf("link ticks %q, want %q", tips, want)
	}
	lost := false
	for _, tk := range tl.Ticks {
		lost = lost || tk.Class == "tk-bad" && strings.HasPrefix(tk.Tip, "evidence lost at 2.8ms: event stream of [s1]")
	}
	if !lost {
		t.Fatalf("no red tick for the evidence lost in %+v", tl.Ticks)
	}
}

func TestChartsFromMeasurements(t *testing.T) {
	r := fixture()
	bs := backoffCharts(r.Results)
	if len(bs) != 1 || len(bs[0].Points) != 2 {
		t.Fatalf("back-off charts = %+v", bs)
	}
	if bs[0].Points[0].Class != "pt-ok" || bs[0].Points[1].Class != "pt-bad" {
		t.Errorf("250 in [180, 230] must be outside: %+v", bs[0].Points)
	}
	hs := histograms(r.Results)
	if len(hs) != 1 || len(hs[0].Bars) != 3 || !hs[0].HasExp {
		t.Fatalf("histograms = %+v", hs)
	}
	if !strings.Contains(hs[0].Stats, "p-value 0.9048") || !strings.Contains(hs[0].Stats, "alpha 0.0001") {
		t.Errorf("stats %q", hs[0].Stats)
	}
	// grouped by prefix: two groups, two histograms
	two := Result{Requirement: "F3", Check: "x", Measurements: []check.Measurement{
		{Name: "from s1: landed on s2", Value: 3, Unit: "count"}, {Name: "from s1: p-value", Value: 0.5},
		{Name: "from s2: count s1", Value: 4, Unit: "count"}, {Name: "from s2: p-value", Value: 0.4},
		{Name: "landed on s9", Value: 4, Unit: "count"}, // no p-value in its group: no chart
	}}
	if hs := histograms([]Result{two}); len(hs) != 2 || !strings.Contains(hs[1].Title, "from s2") {
		t.Errorf("grouped histograms = %+v", hs)
	}
}

func TestJUnitParsesAndCarriesTheEvidence(t *testing.T) {
	b, err := fixture().JUnit()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name      string `xml:"name,attr"`
			Tests     int    `xml:"tests,attr"`
			SystemOut string `xml:"system-out"`
			Cases     []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, b)
	}
	if doc.Tests != 5 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 2 {
		t.Fatalf("counts: tests %d failures %d skipped %d suites %d", doc.Tests, doc.Failures, doc.Skipped, len(doc.Suites))
	}
	hostile := doc.Suites[1]
	if hostile.Name != "hostile" || hostile.Cases[0].Name != "R8 deliberate_close" {
		t.Fatalf("suite %+v", hostile)
	}
	f := hostile.Cases[0].Failure
	if f == nil || !strings.Contains(f.Message, evilError) || !strings.Contains(f.Text, "measurements:") {
		t.Errorf("failure should carry the detail verbatim (as data): %+v", f)
	}
	if s := hostile.Cases[1].Skipped; s == nil || !strings.Contains(s.Message, "does not declare") {
		t.Errorf("UNIMPLEMENTED should be skipped: %+v", hostile.Cases[1])
	}
	if !strings.Contains(hostile.SystemOut, "driver failed") {
		t.Errorf("the run's problems belong in system-out: %q", hostile.SystemOut)
	}
	if strings.Contains(string(b), "<script") {
		t.Error("raw markup in the XML")
	}
}

func TestSummaryIsMarkdownWithEscapedCells(t *testing.T) {
	s := string(fixture().Summary())
	if strings.Contains(s, "<script") || strings.Contains(s, "<img") || strings.Contains(s, "<a ") {
		t.Errorf("raw HTML in summary.md:\n%s", s)
	}
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		// every row of a table has as many unescaped | as its header
		cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if cells != 8 && cells != 4 {
			t.Errorf("a table row broken by a cell's text (%d bars): %s", cells, line)
		}
	}
	for _, want := range []string{"| R2 reconnection schedule | ✅ OK |", "❌ R8", "### Failed", "`deliberate_close`"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

func TestWriteAllAndReadBack(t *testing.T) {
	dir := t.TempDir()
	paths, err := fixture().WriteAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 4 {
		t.Fatalf("paths %v", paths)
	}
	r, err := ReadJSON(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.SDK.SDK != evilSDK || r.Results[0].Measurements[0].Bounds == nil || r.Driver == "" {
		t.Errorf("report.json lost data: %+v", r.SDK)
	}
}

func TestMergeIsAnSDKByRequirementMatrix(t *testing.T) {
	a := fixture()
	b := fixture()
	b.SDK.SDK, b.SDK.Version = "other", "2"
	b.Results[0].Verdict = check.Failed // R2 fails in b
	b.Results = b.Results[:4]           // no F1 in b
	c := fixture()                      // the same SDK behind another driver: a column of its own
	c.Driver = "faultline driver"
	m, err := Merge([]*Report{a, b, c}, []string{"a/report.json", "b/report.json", "c/report.json"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.SDKs) != 3 || m.SDKs[0].Label == m.SDKs[2].Label || len(m.SDKs[0].Sources) != 0 {
		t.Fatalf("labels %+v", m.SDKs)
	}
	want := map[string][]string{
		"R2": {check.OK, check.Failed, check.OK},
		"R8": {check.Failed, check.Failed, check.Failed},
		"F1": {check.Unimplemented, "", check.Unimplemented},
	}
	var order []string
	for _, row := range m.Requirements {
		order = append(order, row.Requirement)
		if w, ok := want[row.Requirement]; ok && strings.Join(row.Verdicts, ",") != strings.Join(w, ",") {
			t.Errorf("%s: %v, want %v", row.Requirement, row.Verdicts, w)
		}
	}
	if got := strings.Join(order, " "); got != "R2 R4 R8 F1 F3" {
		t.Errorf("rows in requirement order: %s", got)
	}
	dir := t.TempDir()
	if _, err := a.WriteAll(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	m, err = Merge([]*Report{a, b}, []string{filepath.Join(dir, "a", "report.json"), "b/report.json"})
	if err != nil {
		t.Fatal(err)
	}
	paths, err := m.WriteAll(filepath.Join(dir, "merged"))
	if err != nil || len(paths) != 3 {
		t.Fatalf("%v %v", paths, err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "merged", "index.html"))
	assertNoLiveMarkup(t, string(page))
	if !strings.Contains(string(page), `href="../a/index.html"`) {
		t.Error("a column links to its own report when it sits beside its report.json")
	}
	var back Merged
	js, _ := os.ReadFile(filepath.Join(dir, "merged", "merged.json"))
	if err := json.Unmarshal(js, &back); err != nil || len(back.Requirements) != len(m.Requirements) {
		t.Errorf("merged.json: %v", err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "merged", "summary.md"))
	if strings.Contains(string(md), "<script") || !strings.Contains(string(md), "❌ FAILED") {
		t.Errorf("merged summary.md:\n%s", md)
	}
}
