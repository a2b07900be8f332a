package mysdk

import (
	"testing"

	"github.com/faultline/faultline"
)

// TestConformance certifies the library against faultline's built-in
// reconnect scenarios: each scenario a subtest, each check a subtest under
// it that fails with what was expected and what was measured. The reports
// (report.json, junit.xml, summary.md, index.html) go to faultline-report/.
func TestConformance(t *testing.T) {
	rep := faultline.Run(t,
		faultline.Engine(engine(1)),
		faultline.Scenarios("scenarios/reconnect"),
		faultline.ReportDir("faultline-report"),
	)
	t.Logf("%s %s: %v", rep.SDK.SDK, rep.SDK.Version, rep.Totals)
}
