package runner

import (
	"context"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

type recorded struct{ evs chan history.Event }

func (r recorded) Record(e history.Event) { r.evs <- e }

// The probe records a wake-up that came more than the threshold late, with
// how late, and nothing for ordinary ones.
func TestProbeRecordsOnlyLongStalls(t *testing.T) {
	base := time.Unix(0, 0)
	// Wake-ups (ms since start): on time, 8ms late (below threshold), then
	// 95ms late.
	times := []time.Duration{0, 2 * time.Millisecond, 12 * time.Millisecond, 109 * time.Millisecond}
	i := 0
	now := func() time.Time { at := base.Add(times[i]); i++; return at }
	ticks := make(chan time.Time)
	rec := recorded{evs: make(chan history.Event, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); probeLoop(ctx, ticks, now, rec) }()
	for range times[1:] {
		ticks <- time.Time{}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("probe did not stop on cancel")
	}
	close(rec.evs)
	var got []string
	for e := range rec.evs {
		if e.Kind != history.KindStall || e.Source != history.SrcHarness {
			t.Errorf("recorded %s/%s, want harness/stall", e.Source, e.Kind)
		}
		got = append(got, e.Attr("for"))
	}
	if len(got) != 1 || got[0] != "95ms" {
		t.Fatalf("stalls recorded %q, want exactly [95ms]", got)
	}
}

// Started and stopped, the probe leaves nothing running behind it.
func TestStallProbeStops(t *testing.T) {
	stop := startStallProbe(context.Background(), history.Nop{})
	finished := make(chan struct{})
	go func() { stop(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not return")
	}
}
