package runner

import (
	"context"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// The scheduler probe wakes every stallPeriod and records a stall when a
// wake-up comes more than stallThreshold late. Shorter delays are within the
// absolute tolerances the checks already have (stampSlack and up), so
// recording them would only clutter the timeline.
const (
	stallPeriod    = 2 * time.Millisecond
	stallThreshold = history.StallThreshold
)

// startStallProbe runs probeStalls until the returned stop, which waits for
// it to end so that nothing records into a history already judged.
func startStallProbe(ctx context.Context, rec history.Recorder) (stop func()) {
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); probeStalls(pctx, rec) }()
	return func() { cancel(); <-done }
}

// probeStalls records, until ctx ends, every time this process could not run
// for longer than stallThreshold (CPU starvation, a stop-the-world pause, a
// descheduled VM). It is evidence for the checkers, not a correction: a
// measurement that spans a stall gets the stall's length as extra tolerance,
// and one that does not keeps its bound (history.KindStall).
func probeStalls(ctx context.Context, rec history.Recorder) {
	t := time.NewTicker(stallPeriod)
	defer t.Stop()
	probeLoop(ctx, t.C, time.Now, rec)
}

// probeLoop is probeStalls with its clock and ticks passed in (tests).
func probeLoop(ctx context.Context, ticks <-chan time.Time, now func() time.Time, rec history.Recorder) {
	last := now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			// The ticker drops ticks while nobody reads, so the gap since the
			// last read is how long this goroutine could not run.
			at := now()
			if late := at.Sub(last) - stallPeriod; late > stallThreshold {
				rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindStall,
					Attrs: map[string]string{"for": late.Round(100 * time.Microsecond).String()}})
			}
			last = at
		}
	}
}
