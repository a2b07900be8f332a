package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/stdio"
	"github.com/faultline/faultline/harness/driver/stdio/stdiotest"
)

// faultlineBin is this command, built once: `go run` would make every driver
// process slow to start.
var faultlineBin string

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == stdiotest.Arg {
		os.Exit(stdiotest.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "faultline-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	faultlineBin = filepath.Join(dir, "faultline")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", faultlineBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	// Fake drivers are this test binary: under -race each would sleep 1s at
	// exit (the race runtime's atexit_sleep_ms) and look slow to close.
	_ = os.Setenv("GORACE", "atexit_sleep_ms=0")
	return m.Run()
}

// fakeSDK is a --sdk command line that runs this test binary as a fake
// driver with the given flags (already quoted for splitCommand).
func fakeSDK(flags string) string {
	return fmt.Sprintf("'%s' %s %s", os.Args[0], stdiotest.Arg, flags)
}

type cliReport struct {
	SDK     driver.Hello `json:"sdk"`
	Results []struct {
		Scenario, Requirement, Check, Verdict, Detail, File string
	} `json:"results"`
}

func runCLI(t *testing.T, args ...string) (int, string, cliReport, string) {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := Main(append([]string{"run", "--report", dir}, args...), &out, &errb)
	var rep cliReport
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("no report.json (exit %d):\n%s%s", code, out.String(), errb.String())
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return code, out.String() + errb.String(), rep, dir
}

// TestFailingDriversGiveFailedResultsWithEvidence runs two scenarios against
// drivers that break in each way the issue names: the suite finishes, every
// result is FAILED and says why, and the second scenario still runs.
func TestFailingDriversGiveFailedResultsWithEvidence(t *testing.T) {
	for _, c := range []struct {
		name, flags string
		extra       []string
		evidence    []string
	}{
		{"crash mid-scenario", "-mode crash -after 1", nil,
			[]string{"exited unexpectedly: exit status 2", "panic: fake crash on op 2"}},
		{"hang", "-mode hang", []string{"--op-timeout", "400ms"},
			[]string{"no reply to op #1 connect within 4"}},
		{"garbage", "-mode garbage -after 1", nil,
			[]string{"malformed line 5 on stdout (not a JSON object)", `this is not JSON <script>alert(1)</script>`}},
		{"reply to an unknown id", "-mode unknown-id", nil,
			[]string{`reply to unknown id 1001 on line 2`}},
		{"ignores exit", "-mode ignore-exit", nil,
			[]string{"did not exit within", "killed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			args := append([]string{"--scenarios", "testdata/driverfail", "--sdk", fakeSDK(c.flags)}, c.extra...)
			code, out, rep, dir := runCLI(t, args...)
			if code != 1 {
				t.Errorf("exit %d, want 1:\n%s", code, out)
			}
			if el := time.Since(start); el > 30*time.Second {
				t.Errorf("the run took %v", el)
			}
			if !strings.Contains(out, "[2/2] driverfail-b-subscribe") {
				t.Errorf("the run did not go on to the next scenario:\n%s", out)
			}
			if len(rep.Results) != 4 { // two scenarios, each its check and U1
				t.Fatalf("results %+v", rep.Results)
			}
			for _, r := range rep.Results {
				if r.Verdict != "FAILED" {
					t.Errorf("%s: %s, want FAILED", r.Scenario, r.Verdict)
				}
				for _, e := range c.evidence {
					if !strings.Contains(r.Detail, e) {
						t.Errorf("%s: detail lacks %q:\n%s", r.Scenario, e, r.Detail)
					}
				}
				if !strings.Contains(r.Detail, "stderr") {
					t.Errorf("%s: detail lacks the driver's stderr:\n%s", r.Scenario, r.Detail)
				}
			}
			page, err := os.ReadFile(filepath.Join(dir, "index.html"))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(bytes.ToLower(page), []byte("<script")) {
				t.Error("index.html holds a <script")
			}
			assertJUnit(t, filepath.Join(dir, "junit.xml"), 4, 4)
		})
	}
}

func TestHostileSDKWordsAreEscapedEverywhere(t *testing.T) {
	flags := `-sdk '<script>alert(1)</script>' -refuse '<img src=x onerror=alert(2)>'`
	code, out, rep, dir := runCLI(t, "--scenarios", "testdata/driverfail", "--sdk", fakeSDK(flags))
	if code != 1 {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if rep.SDK.SDK != "<script>alert(1)</script>" {
		t.Errorf("report.json keeps the name as data: %q", rep.SDK.SDK)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("index.html lacks the escaped %s", want)
		}
	}
	for _, bad := range []string{"<script", "<img"} {
		if bytes.Contains(bytes.ToLower(page), []byte(bad)) {
			t.Errorf("index.html holds live %s", bad)
		}
	}
	if m := regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`).Find(page); m != nil {
		t.Errorf("an event handler attribute: %s", m)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	if bytes.Contains(md, []byte("<script")) || bytes.Contains(md, []byte("<img")) {
		t.Errorf("summary.md holds raw HTML:\n%s", md)
	}
	assertJUnit(t, filepath.Join(dir, "junit.xml"), 4, 4)
}

func TestUndeclaredFeatureIsUnimplementedOverStdio(t *testing.T) {
	code, out, rep, _ := runCLI(t, "--scenarios", "testdata/driverfail", "--sdk", fakeSDK(`-features ''`))
	// UNIMPLEMENTED fails nothing; what fails this run is the universal U1:
	// the fake driver claims CONNECTED_ACTIVE on a session ("fake") that no
	// server created, and the client's word alone connects nothing.
	if code != 1 || strings.Contains(out, "FAILED R") {
		t.Errorf("exit %d, want 1 from U1 alone:\n%s", code, out)
	}
	for _, r := range rep.Results {
		if r.Requirement == "U1" { // universal: needs no feature
			if r.Verdict != "FAILED" || !strings.Contains(r.Detail, "no server created or resumed") {
				t.Errorf("%s U1: %s %s", r.Scenario, r.Verdict, r.Detail)
			}
			continue
		}
		if r.Verdict != "UNIMPLEMENTED" || !strings.Contains(r.Detail, `"reconnect"`) {
			t.Errorf("%s: %s %s", r.Scenario, r.Verdict, r.Detail)
		}
	}
}

func assertJUnit(t *testing.T, path string, tests, failures int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("junit.xml: %v", err)
	}
	if doc.Tests != tests || doc.Failures != failures {
		t.Errorf("junit.xml: tests %d failures %d, want %d %d", doc.Tests, doc.Failures, tests, failures)
	}
}

// TestDriverCommandSpeaksTheProtocol drives `faultline driver` through the
// stdio factory: hello, a refused connect with its states, a clean exit.
func TestDriverCommandSpeaksTheProtocol(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var evs []driver.Event
	sink := func(e driver.Event) { mu.Lock(); evs = append(evs, e); mu.Unlock() }
	d, err := stdio.Factory([]string{faultlineBin, "driver"})(ctx, sink)
	if err != nil {
		t.Fatal(err)
	}
	if h := d.Hello(); h.SDK != "faultline-go" || !h.Has(driver.FeatReconnect) {
		t.Errorf("hello %+v", h)
	}
	opts := driver.ConnectOptions{ConnectTimeoutMS: 500}
	rep, err := d.Do(ctx, driver.Op{ID: 1, Op: driver.OpConnect, Servers: []string{"ws://127.0.0.1:1/"}, Options: opts.Raw()})
	if err != nil || rep.OK || rep.Re != 1 || rep.Error == "" {
		t.Errorf("connect to a closed port: %+v %v", rep, err)
	}
	rep, err = d.Do(ctx, driver.Op{ID: 2, Op: "frobnicate"})
	if err != nil || rep.OK || !strings.Contains(rep.Error, "frobnicate") {
		t.Errorf("unknown op: %+v %v", rep, err)
	}
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var states []string
	for _, e := range evs {
		if e.Type == driver.EvState {
			states = append(states, e.To)
		}
	}
	if len(states) == 0 || states[len(states)-1] != driver.ClosedFailed {
		t.Errorf("states %v: a failed first connection ends CLOSED_FAILED", states)
	}
}

// TestStdioGoEngineGivesTheInProcessVerdicts runs the reconnect scenarios
// against the Go engine in-process and as `faultline driver` processes. A
// scenario whose verdicts differ is run again in both modes (timing checks on
// two shared cores can miss a bound once under load): it must agree then.
func TestStdioGoEngineGivesTheInProcessVerdicts(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of scenarios")
	}
	stdioSDK := "'" + faultlineBin + "' driver"
	_, outGo, inproc, dirGo := runCLI(t, "--scenarios", "../../scenarios/reconnect")
	_, outStdio, overStdio, dirStdio := runCLI(t, "--scenarios", "../../scenarios/reconnect", "--sdk", stdioSDK)
	a, b := byScenario(inproc), byScenario(overStdio)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("in-process:\n%s\nover stdio:\n%s", outGo, outStdio)
	}
	for name, va := range a {
		if va.verdicts == b[name].verdicts {
			continue
		}
		if va.file == "" {
			t.Fatalf("%s: no file in report.json", name)
		}
		agreed := false
		for try := 0; try < 2 && !agreed; try++ {
			_, _, ra, _ := runCLI(t, "--scenarios", va.file)
			_, _, rb, _ := runCLI(t, "--scenarios", va.file, "--sdk", stdioSDK)
			agreed = byScenario(ra)[name].verdicts == byScenario(rb)[name].verdicts
		}
		if !agreed {
			t.Errorf("%s: in-process %s, over stdio %s", name, va.verdicts, b[name].verdicts)
		} else {
			t.Logf("%s differed once (in-process %s, over stdio %s), agreed when run again", name, va.verdicts, b[name].verdicts)
		}
	}
	// and the two reports merge into one SDK × requirement matrix
	var out, errb bytes.Buffer
	merged := t.TempDir()
	if code := Main([]string{"report", "--merge", filepath.Join(dirGo, "report.json"), filepath.Join(dirStdio, "report.json"), "--out", merged}, &out, &errb); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"index.html", "summary.md", "merged.json"} {
		if _, err := os.Stat(filepath.Join(merged, f)); err != nil {
			t.Error(err)
		}
	}
}

type scenarioVerdicts struct{ file, verdicts string }

// byScenario sums a report up per scenario: "R2 backoff_schedule OK, …".
func byScenario(rep cliReport) map[string]scenarioVerdicts {
	out := map[string]scenarioVerdicts{}
	for _, r := range rep.Results {
		v := out[r.Scenario]
		v.file = r.File
		if v.verdicts != "" {
			v.verdicts += ", "
		}
		v.verdicts += r.Requirement + " " + r.Check + " " + r.Verdict
		out[r.Scenario] = v
	}
	return out
}

func TestReportCommand(t *testing.T) {
	_, _, _, dir := runCLI(t, "--scenarios", "testdata/driverfail", "--sdk", fakeSDK("-sdk other-sdk"))
	out := t.TempDir()
	var o, e bytes.Buffer
	if code := Main([]string{"report", filepath.Join(dir, "report.json"), "--out", out}, &o, &e); code != 0 {
		t.Fatalf("re-render: exit %d: %s", code, e.String())
	}
	if code := Main([]string{"report", "--merge", filepath.Join(dir, "report.json"), filepath.Join(out, "report.json"), "--out=" + filepath.Join(out, "m")}, &o, &e); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, e.String())
	}
	var m struct {
		SDKs []struct{ Label string } `json:"sdks"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "m", "merged.json"))
	// a report and its re-rendering are one SDK's same results: one column
	if err := json.Unmarshal(b, &m); err != nil || len(m.SDKs) != 1 {
		t.Errorf("merged.json sdks %+v (%v)", m.SDKs, err)
	}
	for _, bad := range [][]string{
		{"report", "--out", out},                     // no report
		{"report", "a.json", "b.json", "--out", out}, // two without --merge
		{"report", "--frob", "a.json", "--out", out},
		{"report", "missing.json", "--out", out},
	} {
		if code := Main(bad, &o, &e); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}
