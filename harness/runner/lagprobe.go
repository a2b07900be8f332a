package runner

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// The driver lag probe. A client's report reaches the harness through its
// driver process: that process's event loop and stdout pipe, and the
// harness's reader of it. With many clients on few cores the process's run
// queue delays a report (measured: up to 26 ms for the in-process Go engine,
// 149 ms for the Node SDK at 1,000 clients) without the scheduler probe
// (stall.go) seeing a stall. So, during the timeline of a run with more
// than one client, each driver process gets a probe op (driver.OpProbe)
// every lagPeriod and its round trip is recorded (history.KindProbe): the
// probe travels the same pipe and the same loop as the reports, so its
// delay bounds what the process added to a report at that time, and the
// checkers allow a late claim that much (harness/check/probe.go).
//
// A probe names no client: in a multi-session process it is the process's
// op, never one more op in flight for a session; to a one-client process it
// is sent only while its client has no op in flight (c.busy), so a driver
// that serves ops one at a time (as the protocol lets it) never holds a
// probe behind a connect, nor two ops at once from the harness's side. Its
// id is from a range of its own (lagIDBase), unique in every process, and
// it is recorded only as a probe event: never an op or reply of a client.
const (
	lagPeriod = 50 * time.Millisecond
	// lagMaxProcs bounds the overhead: at most this many processes are
	// probed (20 probes/s each). With more (one process per client, a
	// thousand clients) an evenly spaced sample of them is probed every
	// lagPeriod, and a late claim of a client outside the sample stays
	// unjudged: a probe every few seconds would not bound the lag around a
	// claim, and probing all would cost the cores it measures.
	lagMaxProcs = 16
	// lagIDBase is where probe ids start: above every client's ids (client
	// k's are k·idStride+1, …) and below 2^53, exact in a JavaScript number.
	lagIDBase = 1 << 52
)

// lagUnit is one driver process: the driver its probes go through and the
// clients it hosts.
type lagUnit struct {
	via     *clientRunner // the process's first client (its driver; its busy flag when alone)
	clients []int
	alone   bool // a one-client process: probe only while the client is idle
}

// lagUnits groups the run's clients by driver process: packed into
// multi-session processes (t.per to a process, start.go), sharing one
// process (driver.Shared: the in-process engine), or one process each.
func (t *run) lagUnits() []lagUnit {
	var units []lagUnit
	shared := map[string]int{} // ProcessKey → unit
	for _, c := range t.clients {
		switch s, ok := c.drv.(driver.Shared); {
		case t.per > 1:
			if u := c.idx / t.per; u < len(units) {
				units[u].clients = append(units[u].clients, c.idx)
				continue
			}
			units = append(units, lagUnit{via: c, clients: []int{c.idx}})
		case ok:
			k := s.ProcessKey()
			if u, seen := shared[k]; seen {
				units[u].clients = append(units[u].clients, c.idx)
				continue
			}
			shared[k] = len(units)
			units = append(units, lagUnit{via: c, clients: []int{c.idx}})
		default:
			units = append(units, lagUnit{via: c, clients: []int{c.idx}, alone: true})
		}
	}
	return units
}

// sampleUnits keeps at most max units, evenly spaced, first and last kept.
func sampleUnits(units []lagUnit, max int) []lagUnit {
	if len(units) <= max {
		return units
	}
	out := make([]lagUnit, 0, max)
	for i := 0; i < max; i++ {
		out = append(out, units[i*(len(units)-1)/(max-1)])
	}
	return out
}

// startLagProbe probes the run's driver processes until the returned stop,
// which cancels the probes in flight and waits for the probers to end, so
// that nothing records into a history already judged. With one client
// nothing is probed: a late claim of a lone client is judged without it.
func (t *run) startLagProbe(ctx context.Context) (stop func()) {
	if len(t.clients) < 2 {
		return func() {}
	}
	units := sampleUnits(t.lagUnits(), lagMaxProcs)
	pctx, cancel := context.WithCancel(ctx)
	var (
		wg  sync.WaitGroup
		ids lagIDs
	)
	for i, u := range units {
		wg.Add(1)
		// Staggered: the processes' probes are spread over the period, not
		// sent all at once.
		go func() {
			defer wg.Done()
			t.probeUnit(pctx, u, &ids, time.Duration(i)*lagPeriod/time.Duration(len(units)))
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// lagIDs hands out probe ids, unique across the run (so in every process).
type lagIDs struct {
	mu   sync.Mutex
	next int64
}

func (l *lagIDs) id() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	return lagIDBase + l.next
}

// probeUnit probes one process every lagPeriod, after offset, until ctx
// ends or the process fails (its clients' ops report that, with evidence).
func (t *run) probeUnit(ctx context.Context, u lagUnit, ids *lagIDs, offset time.Duration) {
	if !sleepUntil(ctx, time.Now().Add(offset)) {
		return
	}
	tick := time.NewTicker(lagPeriod)
	defer tick.Stop()
	attrs := map[string]string{"driver": strconv.Itoa(u.via.idx + 1), "clients": rangesText(u.clients)}
	for {
		if u.via.dead.Load() {
			return
		}
		if !u.alone || u.via.busy.Load() == 0 {
			rtt, err := t.probe(ctx, u.via.drv, ids.id())
			if err != nil {
				return // a failed process, or the run's end
			}
			a := map[string]string{"rtt_ms": strconv.FormatFloat(float64(rtt)/float64(time.Millisecond), 'f', 3, 64)}
			for k, v := range attrs {
				a[k] = v
			}
			t.log.Record(history.Event{Source: history.SrcHarness, Kind: history.KindProbe, Attrs: a})
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// probe sends one probe op and times its reply (any reply: a driver that
// does not know the op refuses it, which is a round trip all the same).
func (t *run) probe(ctx context.Context, d driver.Driver, id int64) (time.Duration, error) {
	octx, cancel := context.WithTimeout(ctx, t.cfg.OpTimeout)
	defer cancel()
	sent := time.Now()
	if _, err := d.Do(octx, driver.Op{ID: id, Op: driver.OpProbe}); err != nil {
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("probe: %w", err)
	}
	return time.Since(sent), nil
}

// rangesText renders sorted client indices compactly: "0-2,7".
func rangesText(ks []int) string {
	var b []byte
	for i := 0; i < len(ks); {
		j := i
		for j+1 < len(ks) && ks[j+1] == ks[j]+1 {
			j++
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(ks[i]), 10)
		if j > i {
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(ks[j]), 10)
		}
		i = j + 1
	}
	return string(b)
}
