package selftest

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver/stdio/stdiotest"
)

func stepOf(t *testing.T, rep *Report, name string) Step {
	t.Helper()
	for _, s := range rep.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %q", name)
	return Step{}
}

func text(rep *Report) string {
	var b strings.Builder
	rep.Write(&b)
	return b.String()
}

// The Go engine, in one-session and multi-session processes, passes every
// step that applies to it.
func TestTheGoEnginePasses(t *testing.T) {
	for _, tc := range []struct {
		sessions string
		skipped  []string
	}{
		{"1", []string{"sessions"}},
		{"8", nil},
	} {
		t.Run("sessions="+tc.sessions, func(t *testing.T) {
			rep, err := Run(Config{Argv: []string{os.Args[0], argGo, tc.sessions}})
			if err != nil {
				t.Fatal(err)
			}
			out := text(rep)
			if rep.Failed() {
				t.Fatalf("the Go engine failed its self-test:\n%s", out)
			}
			for _, s := range rep.Steps {
				want := Pass
				for _, k := range tc.skipped {
					if s.Name == k {
						want = Skip
					}
				}
				if s.Status != want {
					t.Errorf("step %s: %s, want %s\n%s", s.Name, s.Status, want, out)
				}
			}
			if !strings.Contains(stepOf(t, rep, "lifecycle").Summary, "U1 OK") {
				t.Errorf("lifecycle did not judge U1:\n%s", out)
			}
		})
	}
}

// Each fault of the fake driver fails the step that meets it, naming the
// offending line or op and what was expected.
func TestBrokenDriversFailNamingTheLine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		fails map[string][]string // step → what its problems say
	}{
		{"no hello", []string{"-mode", stdiotest.NoHello}, map[string][]string{"hello": {"no hello within 1000 ms of starting"}}},
		{"an event first", []string{"-mode", stdiotest.BadHello}, map[string][]string{
			"hello": {`line 1 "{\"type\":\"state\",\"to\":\"CONNECTING\"}": the first line must be the hello`}}},
		{"garbage for a reply", []string{"-mode", stdiotest.Garbage, "-garbage", "<html>oops</html>"}, map[string][]string{
			"unknown-op": {`line 2 "<html>oops</html>": not a JSON object`, "no reply to op #1 selftest-no-such-op"}}},
		{"a reply to another id", []string{"-mode", stdiotest.UnknownID}, map[string][]string{
			"unknown-op": {`line 2 "{\"re\":1001,\"ok\":true}": a reply to id 1001, which no op sent had; expected replies only to the ids sent (ids 1)`}}},
		{"a crash", []string{"-mode", stdiotest.Crash}, map[string][]string{
			"unknown-op": {"the driver exited (exit status 2) without replying to op #1 selftest-no-such-op"}}},
		{"a hang", []string{"-mode", stdiotest.Hang}, map[string][]string{"unknown-op": {"no reply to op #1 selftest-no-such-op within"}}},
		{"deaf", []string{"-mode", stdiotest.Deaf}, map[string][]string{"unknown-op": {"no reply to op #1 selftest-no-such-op within"}}},
		{"ok to everything, a session made up", []string{"-mode", stdiotest.Good}, map[string][]string{
			"unknown-op": {`line 2 "{\"re\":1,\"ok\":true}": ok true to an unknown op; expected ok false with an error`},
			"connect": {`"{\"type\":\"state\",\"to\":\"CONNECTING\"}": a state event without "server"`,
				`names session "fake", but the server served no session of that name (it served: none)`},
			"subscribe": {`the server recorded no subscribe to "selftest"`},
			"close":     {"no state event into CLOSED_BY_CLIENT within 1000 ms of the close"}}},
		{"multi-session events for a client never placed", []string{"-mode", stdiotest.Good, "-sessions", "4", "-event-client", "7"}, map[string][]string{
			"connect": {`line 12 "{\"type\":\"state\",\"to\":\"CONNECTING\",\"client\":7}": an event for client 7, which no op named; expected one of the clients ops were sent for (clients 0)`}}},
		{"no exit", []string{"-mode", stdiotest.IgnoreExit, "-refuse", "no"}, map[string][]string{
			"connect": {`refused connect ("no"); expected ok true`},
			"exit":    {"still running ", " ms after the exit op; expected it to close its sessions and end"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			argv := append([]string{os.Args[0], stdiotest.Arg}, tc.flags...)
			rep, err := Run(Config{Argv: argv, Timeout: time.Second, ExitWait: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			out := text(rep)
			if !rep.Failed() || !strings.Contains(out, "FAILED") {
				t.Fatalf("not failed:\n%s", out)
			}
			for step, wants := range tc.fails {
				s := stepOf(t, rep, step)
				if s.Status != Fail {
					t.Errorf("step %s: %s, want FAIL\n%s", step, s.Status, out)
					continue
				}
				all := strings.Join(s.Problems, "\n")
				for _, w := range wants {
					if !strings.Contains(all, w) {
						t.Errorf("step %s's problems lack %q:\n%s", step, w, out)
					}
				}
			}
		})
	}
}

// A crash leaves its last words in the report.
func TestACrashShowsTheDriversStderr(t *testing.T) {
	rep, err := Run(Config{Argv: []string{os.Args[0], stdiotest.Arg, "-mode", stdiotest.Crash}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.Stderr, "panic: fake crash on op 1 selftest-no-such-op") {
		t.Errorf("stderr kept: %q", rep.Stderr)
	}
	if out := text(rep); !strings.Contains(out, "  | panic: fake crash") {
		t.Errorf("the report does not show it:\n%s", out)
	}
}

func TestADriverThatCannotStartIsBadInput(t *testing.T) {
	_, err := Run(Config{Argv: []string{"/nonexistent/driver"}})
	var se *StartError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "cannot start /nonexistent/driver") {
		t.Errorf("err = %v, want a StartError", err)
	}
	if _, err := Run(Config{}); !errors.As(err, &se) {
		t.Errorf("no command: err = %v, want a StartError", err)
	}
}
