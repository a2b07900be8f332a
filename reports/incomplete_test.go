package reports

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/check"
)

func TestInterruptTakesTheCutScenarioOutOfTheVerdicts(t *testing.T) {
	r := fixture()
	r.Interrupt("hostile", []string{"later-1", "later-2"})
	for _, res := range r.Results {
		if res.Scenario == "hostile" {
			t.Errorf("a result of the cut-short scenario stayed: %+v", res)
		}
	}
	if r.Totals[check.Failed] != 0 || r.Totals[check.Unimplemented] != 0 || r.Totals[check.OK] != 3 || len(r.Totals) != 1 {
		t.Errorf("totals = %v, want OK:3 only", r.Totals)
	}
	if r.Failed() {
		t.Error("a run whose only failure was in the cut-short scenario reads as failed")
	}
	if p := strings.Join(r.Scenarios[1].Problems, "\n"); !strings.Contains(p, "interrupted before its timeline ended: not judged") || len(r.Scenarios[1].History) == 0 {
		t.Errorf("the cut-short scenario keeps its timeline and says why it is not judged: %q", p)
	}
	const want = "Run interrupted during hostile (not judged); 2 scenario(s) not run: later-1, later-2. This report is partial."
	if !strings.Contains(string(r.Summary()), want) {
		t.Errorf("summary.md lacks %q", want)
	}
	page, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `<p class="partial">`+want+`</p>`) {
		t.Error("index.html lacks the partial banner")
	}
	assertNoLiveMarkup(t, string(page))
	other := fixture()
	other.SDK.SDK = "other" // another SDK: a column of its own
	m, err := Merge([]*Report{other, r}, []string{"full/report.json", "cut/report.json"})
	if err != nil {
		t.Fatal(err)
	}
	if m.SDKs[0].Partial || !m.SDKs[1].Partial {
		t.Errorf("merged columns partial = %v, %v; want false, true", m.SDKs[0].Partial, m.SDKs[1].Partial)
	}
	if md := string(m.Summary()); strings.Count(md, "(partial: the run was interrupted)") != 1 {
		t.Errorf("merged summary.md should mark exactly the interrupted column:\n%s", md)
	}
}

func TestInterruptBetweenScenariosKeepsEveryVerdict(t *testing.T) {
	r := fixture()
	r.Interrupt("", []string{"later"})
	if len(r.Results) != 5 || r.Totals[check.Failed] != 1 || r.Incomplete == nil || r.Incomplete.Cut != "" {
		t.Errorf("results %d, totals %v, incomplete %+v", len(r.Results), r.Totals, r.Incomplete)
	}
	if full := fixture(); strings.Contains(string(full.Summary()), "partial") {
		t.Error("a full report says it is partial")
	}
}
