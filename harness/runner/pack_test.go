package runner

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// A driver whose hello declares sessions 3 gets the run's 10 clients packed
// 3 to a process in index order (4 processes); each client keeps its own
// driver number and seed, its own ids, and its own events.
func TestClientsArePackedIntoMultiSessionProcesses(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc to look for leftover processes")
	}
	const n = 10
	marker := fmt.Sprintf("pack-%d", os.Getpid())
	sc := load(t, manyClients(t, n))
	res := Run(context.Background(), sc, Config{
		Driver:    fakeStdio(marker, "-sessions", "3", "-announce"),
		OpTimeout: 20 * time.Second,
	})
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	if res.Hello.Sessions != 3 {
		t.Errorf("hello %+v: want sessions 3", res.Hello)
	}
	re := regexp.MustCompile(`^connect driver=(\d+) seed=1 pid=(\d+)$`)
	pidOf := map[int]string{}
	connects := map[int]int{}
	for _, e := range res.History {
		switch {
		case e.Source == history.SrcClient && e.Kind == history.KindError:
			m := re.FindStringSubmatch(e.Reason)
			if m == nil {
				t.Fatalf("client %d: %q", e.Client, e.Reason)
			}
			if m[1] != strconv.Itoa(e.Client+1) {
				t.Errorf("client %d connected as driver %s, want %d", e.Client, m[1], e.Client+1)
			}
			pidOf[e.Client] = m[2]
		case e.Source == history.SrcClient && e.Kind == "state":
			connects[e.Client]++
		case e.Kind == history.KindOp:
			if want := int64(e.Client)*idStride + 1; e.Op == "connect" && e.Attr("id") != strconv.FormatInt(want, 10) {
				t.Errorf("client %d's connect has id %s, want %d (unique in its process)", e.Client, e.Attr("id"), want)
			}
		}
	}
	pids := map[string][]int{}
	for c := 0; c < n; c++ {
		if connects[c] != 2 { // CONNECTING, then CONNECTED_ACTIVE
			t.Errorf("client %d: %d state events, want its own two", c, connects[c])
		}
		pids[pidOf[c]] = append(pids[pidOf[c]], c)
	}
	if len(pids) != 4 {
		t.Errorf("clients by process %v: want 4 processes", pids)
	}
	for c := 0; c < n; c++ {
		if pidOf[c] != pidOf[c/3*3] {
			t.Errorf("client %d is in pid %s, client %d in %s: want packed in index order", c, pidOf[c], c/3*3, pidOf[c/3*3])
		}
	}
	assertNoneRunning(t, marker)
}

// A multi-session process that crashes fails every client it hosts, each
// with the evidence, and no other; nothing is left running.
func TestCrashOfAMultiSessionProcessFailsItsClients(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc to look for leftover processes")
	}
	const n = 7
	marker := fmt.Sprintf("pack-crash-%d", os.Getpid())
	sc := load(t, manyClients(t, n))
	res := Run(context.Background(), sc, Config{
		Driver:    fakeStdio(marker, "-sessions", "3", "-mode", "crash", "-only-client", "4"),
		OpTimeout: 5 * time.Second,
		Teardown:  3 * time.Second,
	})
	failed := map[int]bool{}
	for _, p := range res.Problems {
		if !strings.Contains(p, "exited unexpectedly: exit status 2") || !strings.Contains(p, "panic: fake crash") {
			t.Errorf("problem without the evidence: %s", p)
		}
		var c int
		if _, err := fmt.Sscanf(p, "client %d:", &c); err == nil {
			failed[c] = true
		} else if _, err := fmt.Sscanf(p, "driver %d close:", &c); err == nil {
			failed[c] = true
		}
	}
	for c := 0; c < n; c++ {
		if want := c >= 3 && c <= 5; failed[c] != want {
			t.Errorf("client %d failed %v, want %v (clients 3-5 share the crashed process): %q", c, failed[c], want, res.Problems)
		}
	}
	assertNoneRunning(t, marker)
}
