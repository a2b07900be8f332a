package bench

import (
	"context"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/history"
)

// BenchmarkWindowError measures how exactly the history measures a reconnect
// window. Measured: what reconnect_window reports, server session.resume −
// link fault.off, both from the history. Ground truth: the tap's accept of
// the successful attempt (an independent forwarder in front of the server) −
// the instant Heal returned to the caller (negative when the attempt raced
// the heal; the history then measures a window as short). The heal lands
// at a random phase of the 50ms fixed schedule.
func BenchmarkWindowError(b *testing.B) {
	t := newTopo(b, &client.Backoff{Initial: 50 * time.Millisecond, Fixed: true})
	defer t.close()
	rnd := rand.New(rand.NewSource(1))
	var errs, abs []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		id, err := t.link.Apply(ctx, "cut", nil, "")
		if err != nil {
			b.Fatal(err)
		}
		t.waitState(b, client.RecoveringReconnect)
		time.Sleep(time.Duration(60+rnd.Intn(100)) * time.Millisecond) // phase vs the schedule, not a wait for a result
		if err := t.link.Heal(ctx, id); err != nil {
			b.Fatal(err)
		}
		healed := t.log.Clock().Now()
		t.waitState(b, client.ConnectedActive)
		cancel()

		h := t.log.Events()
		off, resume := lastOff(h), time.Duration(-1)
		for _, e := range h {
			if e.Kind == history.KindSessionResume && e.T >= off {
				resume = e.T
				break
			}
		}
		if resume < 0 {
			b.Fatalf("no session.resume after the heal")
		}
		// The successful attempt is the tap's last accept before the resume
		// (the client waits on it). Not "the first after the heal": an
		// attempt the link took while the heal was removing its toxics gets
		// through, and the tap saw it before Heal returned.
		acc, ok := t.tap.lastAcceptBefore(resume)
		if !ok {
			b.Fatalf("the tap saw no attempt before the resume at %v", resume)
		}
		measured, truth := resume-off, acc-healed
		d := check.Ms(measured - truth)
		errs = append(errs, d)
		abs = append(abs, math.Abs(d))
	}
	b.StopTimer()
	b.ReportMetric(pct(errs, 0.5), "err-p50-ms")
	b.ReportMetric(pct(abs, 0.99), "abserr-p99-ms")
	b.ReportMetric(0, "ns/op")
}

func lastOff(h history.History) time.Duration {
	var t time.Duration
	for _, e := range h {
		if e.Kind == history.KindFaultOff {
			t = e.T
		}
	}
	return t
}
