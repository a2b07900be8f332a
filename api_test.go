package faultline_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/driver/mutant"
)

// The Go engine over two built-in scenarios: every check a passing subtest,
// the four reports written, report.json naming the built-in files.
func TestAPIRunsTheGoEngineAndWritesTheReports(t *testing.T) {
	dir := t.TempDir()
	rep := faultline.Run(t, faultline.Scenarios("scenarios/reconnect/server-close.yaml", "scenarios/reconnect/recovery-messages.yaml"),
		faultline.ReportDir(dir))
	if len(rep.Runs) != 2 || rep.Runs[0].Scenario.Name != "recovery-messages" || rep.Runs[1].Scenario.Name != "server-close" {
		t.Fatalf("runs: %d", len(rep.Runs))
	}
	if rep.Driver != "go" || rep.SDK.SDK != "faultline-go" || rep.Failed() || rep.Totals[check.OK] == 0 {
		t.Fatalf("driver %q sdk %q totals %v", rep.Driver, rep.SDK.SDK, rep.Totals)
	}
	for _, f := range []string{"report.json", "junit.xml", "summary.md", "index.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil || !strings.Contains(string(b), `"file": "scenarios/reconnect/server-close.yaml"`) {
		t.Fatalf("report.json (%v) should name the built-in file", err)
	}
}

// An engine that does not declare a feature: that requirement's checks are
// UNIMPLEMENTED, skipped subtests, and the test passes; the universal
// lifecycle check is still judged.
func TestAPIAMissingFeatureIsNotAFailure(t *testing.T) {
	reconnectOnly := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		d, err := godriver.Factory(1)(ctx, sink)
		return fewerFeatures{d}, err
	}
	rep := faultline.Run(t, faultline.Engine(reconnectOnly), faultline.Scenarios("scenarios/failover/list-order.yaml"),
		faultline.ReportDir(t.TempDir()))
	if rep.Totals[check.Unimplemented] == 0 || rep.Failed() || rep.Driver != "engine" {
		t.Fatalf("totals %v driver %q: want UNIMPLEMENTED and nothing failed", rep.Totals, rep.Driver)
	}
	judged := false
	for _, r := range rep.Results {
		if r.Check == "lifecycle" && r.Verdict == check.OK {
			judged = true
		}
	}
	if !judged {
		t.Fatalf("the lifecycle check should still be judged OK: %+v", rep.Results)
	}
}

type fewerFeatures struct{ driver.Driver }

func (f fewerFeatures) Hello() driver.Hello {
	h := f.Driver.Hello()
	h.SDK, h.Features = "reconnect-only", []string{driver.FeatReconnect}
	return h
}

// The Go engine does not speak NATS: a selection of NATS scenarios alone is
// an error, not an empty pass.
func TestAPISelectionErrorsEndTheTest(t *testing.T) {
	for name, want := range map[string]string{
		"nats":     "none of the selected scenarios speaks faultline's session protocol",
		"nopath":   `no scenario file at or under "scenarios/nope" (the set's folders: scenarios/cascade, `,
		"badlabel": "faultline.Label",
		"nodriver": "starting the SDK (/nonexistent/driver)",
	} {
		out, failed := child(t, name, t.TempDir())
		if !failed || !strings.Contains(out, want) {
			t.Errorf("%s: failed %v, want a failure saying %q:\n%s", name, failed, want, out)
		}
	}
}

// A library that loses messages: its R3 check fails with what was expected
// and measured and the timeline around it, the other checks pass, and the
// report says FAILED.
func TestAPIFailsTheCheckAnSDKBreaks(t *testing.T) {
	dir := t.TempDir()
	out, failed := child(t, "drop", dir)
	if !failed {
		t.Fatalf("a library that drops every 5th message passed:\n%s", out)
	}
	for _, want := range []string{
		"--- FAIL: TestAPIChild/recovery-messages/R3_exactly_once_in_order",
		"is FAILED, want OK",
		"timeline around",
		"--- PASS: TestAPIChild/recovery-messages/R3_session_preserved",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var rep struct {
		Totals map[string]int `json:"totals"`
		SDK    driver.Hello   `json:"sdk"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err == nil {
		err = json.Unmarshal(b, &rep)
	}
	if err != nil || rep.Totals[check.Failed] == 0 || !strings.Contains(rep.SDK.SDK, "mutant:drop_messages") {
		t.Fatalf("report.json (%v): totals %v sdk %q", err, rep.Totals, rep.SDK.SDK)
	}
}

// childEnv names the case TestAPIChild plays in a child go test process:
// Run failing a test cannot be observed from inside that test.
const childEnv, childDirEnv = "FAULTLINE_API_CHILD", "FAULTLINE_API_CHILD_DIR"

// child runs TestAPIChild in a child process as case name and returns its
// output and whether it failed.
func child(t *testing.T, name, dir string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^TestAPIChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+name, childDirEnv+"="+dir)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("child %s did not finish: %s", name, out)
	}
	return string(out), err != nil
}

// TestAPIChild is the other half of the tests above, run by them in a child
// process (FAULTLINE_API_CHILD names the case); on its own it does nothing.
func TestAPIChild(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	switch os.Getenv(childEnv) {
	case "":
		t.Skip("run by TestAPISelectionErrorsEndTheTest and TestAPIFailsTheCheckAnSDKBreaks in a child process")
	case "nats":
		faultline.Run(t, faultline.Scenarios("scenarios/nats/close.yaml"), faultline.ReportDir(dir))
	case "nopath":
		faultline.Run(t, faultline.Scenarios("scenarios/nope"), faultline.ReportDir(dir))
	case "badlabel":
		faultline.Run(t, faultline.Label("reconnect && ("), faultline.ReportDir(dir))
	case "nodriver":
		faultline.Run(t, faultline.Driver("/nonexistent/driver"), faultline.ReportDir(dir))
	case "drop":
		m, ok := mutant.Lookup("drop_messages")
		if !ok {
			t.Fatal("no drop_messages mutant")
		}
		faultline.Run(t, faultline.Engine(mutant.Wrap(godriver.Factory(1), m)),
			faultline.Scenarios("scenarios/reconnect/recovery-messages.yaml"), faultline.ReportDir(dir))
	default:
		t.Fatalf("unknown case %q", os.Getenv(childEnv))
	}
}
