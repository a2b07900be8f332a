package bench

import (
	"context"
	"testing"
	"time"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/harness/check"
)

// BenchmarkLossObserved measures, per fault verb, the time from the fault
// step (the call that puts it in force) to the engine reporting the loss
// (RECOVERING_RECONNECT). Server ping 50ms, so idle bound 100ms: reset fires
// at the next bytes (a ping within 50ms), blackhole at the idle bound.
func BenchmarkLossObserved(b *testing.B) {
	for _, verb := range []string{"cut", "reset", "blackhole"} {
		b.Run(verb, func(b *testing.B) {
			t := newTopo(b, &client.Backoff{Initial: 20 * time.Millisecond, Fixed: true})
			defer t.close()
			var lat []float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				start := t.log.Clock().Now()
				id, err := t.link.Apply(ctx, verb, nil, "")
				if err != nil {
					b.Fatal(err)
				}
				lost := t.waitState(b, client.RecoveringReconnect)
				lat = append(lat, check.Ms(lost-start))
				if err := t.link.Heal(ctx, id); err != nil {
					b.Fatal(err)
				}
				t.waitState(b, client.ConnectedActive)
				cancel()
			}
			b.StopTimer()
			b.ReportMetric(pct(lat, 0.5), "p50-ms")
			b.ReportMetric(pct(lat, 0.99), "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
