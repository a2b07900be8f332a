package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/stdio"
	"github.com/faultline/faultline/harness/driver/stdio/stdiotest"
	"github.com/faultline/faultline/harness/history"
)

func TestMain(m *testing.M) {
	// The start tests' fake drivers are this test binary.
	if len(os.Args) > 1 && os.Args[1] == stdiotest.Arg {
		os.Exit(stdiotest.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	// Under -race each fake would otherwise sleep 1s at exit (the race
	// runtime's atexit_sleep_ms) and look slow to close.
	_ = os.Setenv("GORACE", "atexit_sleep_ms=0")
	os.Exit(m.Run())
}

// manyClients is the small scenario with n clients, judged by a check that
// can judge several (deliberate_close attributes accepts to one client).
func manyClients(t *testing.T, n int) string {
	t.Helper()
	return strings.NewReplacer("servers:\n", fmt.Sprintf("clients: %d\nservers:\n", n),
		"covers: [R8]", "covers: [R3]",
		"{check: deliberate_close, requirement: R8, by: client}", "{check: session_preserved, requirement: R3}").Replace(small)
}

// fakeStdio is a factory of fake stdio drivers (this test binary), each
// carrying marker among its arguments so that leftovers can be found.
func fakeStdio(marker string, flags ...string) driver.Factory {
	argv := append([]string{os.Args[0], stdiotest.Arg, "-sdk", marker, "-features", "reconnect"}, flags...)
	return stdio.Factory(argv, stdio.HelloTimeout(time.Minute)) // the runner's OpTimeout bounds the hello
}

// running lists the pids of live (not zombie) processes whose command line
// holds marker.
func running(marker string) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || !strings.Contains(string(cmd), marker) {
			continue
		}
		st, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		s := string(st)
		if i := strings.LastIndexByte(s, ')'); i > 0 && i+2 < len(s) && s[i+2] == 'Z' {
			continue // dead, waiting to be reaped by its parent
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		out = append(out, pid)
	}
	return out
}

func assertNoneRunning(t *testing.T, marker string) {
	t.Helper()
	var left []int
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if left = running(marker); len(left) == 0 {
			return
		}
	}
	t.Errorf("driver processes left running after the run: %v", left)
}

// Drivers start concurrently, each client keeps its index, and the number a
// driver gets (its random stream) is its client's, whatever order the starts
// finish in.
func TestDriversStartConcurrentlyInClientOrder(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc to look for leftover processes")
	}
	const n, helloDelay, par = 24, 250 * time.Millisecond, 8
	marker := fmt.Sprintf("start-order-%d", os.Getpid())
	sc := load(t, manyClients(t, n))
	res := Run(context.Background(), sc, Config{
		Driver:           fakeStdio(marker, "-hello-delay", helloDelay.String(), "-announce"),
		OpTimeout:        20 * time.Second, // generous: this test is about order and overlap, not about load
		StartParallelism: par,
	})
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	if res.Hello.SDK != marker {
		t.Errorf("hello = %+v, want client 0's", res.Hello)
	}
	// Every client reported the driver number of its own index.
	got := map[int]string{}
	for _, e := range res.History {
		if e.Source == history.SrcClient && e.Kind == history.KindError && strings.HasPrefix(e.Reason, "FAULTLINE_DRIVER=") {
			got[e.Client] = strings.TrimPrefix(e.Reason, "FAULTLINE_DRIVER=")
		}
	}
	for i := 0; i < n; i++ {
		if got[i] != strconv.Itoa(i+1) {
			t.Errorf("client %d was started as driver %q, want %d", i, got[i], i+1)
		}
	}
	// Overlap: one after another the hellos alone take n × helloDelay (6s).
	// The bound leaves room for a loaded machine's process starts.
	var first, last time.Duration
	for _, e := range res.History {
		if e.Source == history.SrcClient && e.Kind == history.KindError {
			if first == 0 || e.T < first {
				first = e.T
			}
			last = max(last, e.T)
		}
	}
	if seq := time.Duration(n) * helloDelay; res.Wall > seq/2 {
		t.Errorf("run took %v (hellos from %v to %v): starts did not overlap (one after another: %v)", res.Wall, first, last, seq)
	}
	assertNoneRunning(t, marker)
}

// A driver that never says hello fails the start with a clear error naming
// its client; the starts under way are cancelled, and no driver program, the
// silent one included, is left running.
func TestDriverWithoutHelloStopsTheStartAndLeavesNothing(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc to look for leftover processes")
	}
	const n, silent = 40, 7 // driver 7 is client 6
	marker := fmt.Sprintf("start-silent-%d", os.Getpid())
	sc := load(t, manyClients(t, n))
	start := time.Now()
	res := Run(context.Background(), sc, Config{
		Driver:           fakeStdio(marker, "-hello-delay", "100ms", "-silent-driver", strconv.Itoa(silent)),
		OpTimeout:        2 * time.Second,
		Teardown:         2 * time.Second,
		StartParallelism: 4,
	})
	el := time.Since(start)
	if len(res.Problems) == 0 || !strings.Contains(res.Problems[0], "topology: driver for client 6: driver failed: no hello within") {
		t.Fatalf("problems %q: want the silent client's missing hello first", res.Problems)
	}
	for _, c := range res.Checks {
		if c.Verdict != check.Failed || !strings.Contains(c.Detail, "driver for client 6") {
			t.Errorf("check %s: %s %q, want FAILED with the evidence", c.Check, c.Verdict, c.Detail)
		}
	}
	// Bounded by the silent driver's own hello deadline, not by the 33
	// starts that were still to come.
	if el > 10*time.Second {
		t.Errorf("the run took %v", el)
	}
	if len(res.Problems) != 1 {
		t.Errorf("want only the missing hello, the started drivers closing cleanly: %q", res.Problems)
	}
	assertNoneRunning(t, marker)
}
