package runner

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/history"
)

// probesOf checks a run's probe events and the ops around them: every
// process is probed (clients attr → probes), no probe is an op or reply of
// a client, and each client got its scheduled ops (connect, close) only.
func probesOf(t *testing.T, res *Result, n int) map[string][]float64 {
	t.Helper()
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	got := map[string][]float64{}
	ops := map[int][]string{}
	for _, e := range res.History {
		switch e.Kind {
		case history.KindProbe:
			if e.Source != history.SrcHarness {
				t.Errorf("probe from %s", e.Source)
			}
			ms, err := strconv.ParseFloat(e.Attr("rtt_ms"), 64)
			if err != nil || ms < 0 {
				t.Errorf("probe rtt_ms %q", e.Attr("rtt_ms"))
			}
			got[e.Attr("driver")+":"+e.Attr("clients")] = append(got[e.Attr("driver")+":"+e.Attr("clients")], ms)
		case history.KindOp, history.KindReply:
			if e.Op == driver.OpProbe {
				t.Errorf("a probe recorded as the client's %s: %v", e.Kind, e)
			}
			if e.Kind == history.KindOp {
				ops[e.Client] = append(ops[e.Client], e.Op)
			}
		}
	}
	for c := 0; c < n; c++ {
		if fmt.Sprint(ops[c]) != "[connect close]" {
			t.Errorf("client %d's ops %v, want [connect close]", c, ops[c])
		}
	}
	return got
}

// wantProbed: each named process got a few probes (the run lasts 400ms,
// one probe per 50ms), and no other process was probed.
func wantProbed(t *testing.T, got map[string][]float64, procs ...string) {
	t.Helper()
	if len(got) != len(procs) {
		t.Errorf("probed %v, want exactly %v", keys(got), procs)
	}
	for _, p := range procs {
		if n := len(got[p]); n < 3 {
			t.Errorf("process %s: %d probes in a 400ms run, want ≥3 (%v)", p, n, got[p])
		}
	}
}

func keys(m map[string][]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The in-process Go engine: every client's engine shares the harness's
// process, probed as one.
func TestLagProbeInProcess(t *testing.T) {
	const n = 4
	res := Run(context.Background(), load(t, manyClients(t, n)), Config{Driver: godriver.Factory(1)})
	got := probesOf(t, res, n)
	wantProbed(t, got, "1:0-3")
}

// A stdio driver, one process per client: each process is probed.
func TestLagProbeStdioProcesses(t *testing.T) {
	const n = 3
	marker := fmt.Sprintf("lag-%d", time.Now().UnixNano())
	res := Run(context.Background(), load(t, manyClients(t, n)), Config{Driver: fakeStdio(marker), OpTimeout: 20 * time.Second})
	got := probesOf(t, res, n)
	wantProbed(t, got, "1:0", "2:1", "3:2")
	assertNoneRunning(t, marker)
}

// A multi-session stdio driver: one probe per process, naming the clients
// it hosts; the fake would open no session for it (it names no client).
func TestLagProbeMultiSessionProcesses(t *testing.T) {
	const n = 5
	marker := fmt.Sprintf("lag-multi-%d", time.Now().UnixNano())
	res := Run(context.Background(), load(t, manyClients(t, n)), Config{Driver: fakeStdio(marker, "-sessions", "3"), OpTimeout: 20 * time.Second})
	got := probesOf(t, res, n)
	wantProbed(t, got, "1:0-2", "4:3-4")
	assertNoneRunning(t, marker)
}

// One client: nothing is probed (a lone client's late claim is judged
// without it).
func TestLagProbeNotWithOneClient(t *testing.T) {
	res := Run(context.Background(), load(t, small), Config{Driver: godriver.Factory(1)})
	for _, e := range res.History {
		if e.Kind == history.KindProbe {
			t.Fatalf("probe with one client: %v", e)
		}
	}
}

func TestSampleUnitsAndRanges(t *testing.T) {
	var units []lagUnit
	for i := 0; i < 1000; i++ {
		units = append(units, lagUnit{clients: []int{i}})
	}
	s := sampleUnits(units, lagMaxProcs)
	if len(s) != lagMaxProcs || s[0].clients[0] != 0 || s[len(s)-1].clients[0] != 999 {
		t.Errorf("sample of %d: first %v last %v", len(s), s[0].clients, s[len(s)-1].clients)
	}
	if got := rangesText([]int{0, 1, 2, 7, 9, 10}); got != "0-2,7,9-10" {
		t.Errorf("rangesText: %s", got)
	}
}
