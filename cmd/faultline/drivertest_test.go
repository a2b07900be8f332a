package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

func driverTest(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"driver-test"}, args...), &out, &errb)
	return code, out.String() + errb.String()
}

// The reference drivers pass: the Go engine's `faultline driver` (in
// multi-session and one-session processes) and the Node SDK's driver.
func TestDriverTestPassesTheReferenceDrivers(t *testing.T) {
	cmds := []string{fmt.Sprintf("'%s' driver", faultlineBin), fmt.Sprintf("'%s' driver --sessions 1", faultlineBin)}
	if _, err := exec.LookPath("node"); err == nil {
		cmds = append(cmds, "node ../../sdk/node/driver.js")
	} else {
		t.Log("node not found on PATH: the Node SDK's driver was not self-tested")
	}
	for _, sdk := range cmds {
		t.Run(sdk, func(t *testing.T) {
			code, out := driverTest(t, "--sdk", sdk)
			if code != 0 || strings.Contains(out, "FAIL") {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			for _, step := range []string{"hello", "unknown-op", "malformed-line", "connect", "messages", "close", "exit", "lifecycle", "stdin-eof"} {
				if !strings.Contains(out, "\nPASS  "+step+" ") {
					t.Errorf("step %s did not pass:\n%s", step, out)
				}
			}
		})
	}
}

// Each broken driver of testdata/drivertest fails, with exit 1, at the step
// its fault meets, naming the offending line (or what never came); its
// fault-free mode passes, so the failures are the faults'.
func TestDriverTestFailsBrokenDrivers(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not found on PATH: the broken drivers of testdata/drivertest are Python scripts")
	}
	for _, tc := range []struct {
		mode string
		code int
		want []string // in the output, in order
	}{
		{"good", 0, []string{"PASS  hello", "SKIP  server          no server kind of this faultline speaks \"no-such-protocol\"", "PASS  stdin-eof", "every step passed"}},
		{"no-hello", 1, []string{"FAIL  hello", "- no hello within 2000 ms of starting; expected the hello as its first line"}},
		{"wrong-id", 1, []string{"FAIL  unknown-op",
			`- line 2 "{\"re\": 1001, \"ok\": false, \"error\": \"selftest-no-such-op: not served by this test driver\"}": a reply to id 1001, which no op sent had; expected replies only to the ids sent (ids 1)`,
			"- no reply to op #1 selftest-no-such-op within"}},
		{"bad-event", 1, []string{"FAIL  probe",
			`- line 3 "{\"type\": \"state\", \"to\": \"CONNECTED\", \"server\": \"ws://127.0.0.1:9/\"}": state event with an unknown state in "to": "CONNECTED"`}},
		{"no-exit-on-eof", 1, []string{"PASS  exit", "FAIL  stdin-eof", "- still running", "after its stdin closed (no exit op); expected it to exit when its stdin ends"}},
		{"liar", 1, []string{"FAIL  connect",
			`"{\"type\": \"state\", \"from\": \"CONNECTING\", \"to\": \"CONNECTED_ACTIVE\", \"server\": \"ws://127.0.0.1:`,
			`\"session\": \"MADE-UP\"}" names session "MADE-UP", but the server served no session of that name (it served: none)`}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			code, out := driverTest(t, "--timeout", "2s", "--exit-wait", "1s", "--sdk", "python3 testdata/drivertest/driver.py "+tc.mode)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			rest := out
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("no %q (in order) in:\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestDriverTestBadInputExitsTwo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: faultline driver-test"},
		{[]string{"--sdk", "'unterminated"}, "--sdk: unterminated '"},
		{[]string{"--sdk", "/nonexistent/driver"}, "cannot start /nonexistent/driver"},
		{[]string{"--sdk", "x", "--timeout", "0s"}, "usage: faultline driver-test"},
	} {
		code, out := driverTest(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("%q: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, out)
		}
	}
}
