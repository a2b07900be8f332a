package selftest

import (
	"strings"
	"testing"
)

func TestReportWrite(t *testing.T) {
	rep := &Report{Command: "node driver.js", Steps: []Step{
		{Name: "hello", Status: Pass, Summary: "x 1"},
		{Name: "unknown-op", Status: Fail, Summary: "", Problems: []string{`line 2 "{}": bad`}, Notes: []string{"n"}},
		{Name: "request", Status: Skip, Summary: "no migration"},
	}, Stderr: "boom\nbang\n"}
	var b strings.Builder
	rep.Write(&b)
	want := `driver-test: node driver.js
PASS  hello       x 1
FAIL  unknown-op  
                 - line 2 "{}": bad
                 note: n
SKIP  request     no migration
1 passed, 1 failed, 1 skipped: FAILED
driver stderr (last 4096 bytes at most):
  | boom
  | bang
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if !rep.Failed() {
		t.Error("a report with a FAIL step has not failed")
	}
	rep.Steps[1].Status = Pass
	b.Reset()
	rep.Write(&b)
	if rep.Failed() || !strings.HasSuffix(b.String(), "2 passed, 0 failed, 1 skipped: every step passed\n") {
		t.Errorf("passed report:\n%s", b.String())
	}
}
