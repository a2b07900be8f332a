package bench

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/proxy"
)

// BenchmarkProxiedThroughput measures bulk TCP throughput through an
// embedded Toxiproxy link as a ratio to direct loopback to the same sink, in
// the same run: 64 KiB writes, each iteration 32 MiB one way, the two paths
// alternating so that machine load hits both alike.
func BenchmarkProxiedThroughput(b *testing.B) {
	sink := newSink(b)
	defer sink.Close()
	tp, err := proxy.NewEmbedded(history.Nop{})
	if err != nil {
		b.Fatal(err)
	}
	defer tp.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	link, err := tp.Link(ctx, "s1", sink.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	const total = 32 << 20
	var direct, proxied time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		direct += push(b, sink.Addr().String(), total)
		proxied += push(b, link.Addr(), total)
	}
	b.StopTimer()
	mbps := func(d time.Duration) float64 { return float64(b.N) * total / d.Seconds() / (1 << 20) }
	b.ReportMetric(mbps(direct), "direct-MiB/s")
	b.ReportMetric(mbps(proxied), "proxied-MiB/s")
	b.ReportMetric(direct.Seconds()/proxied.Seconds(), "proxied/direct")
	b.ReportMetric(0, "ns/op")
}

// push writes n bytes to addr and waits until the sink has read them all
// (it closes its side at EOF): the time is end to end, not into buffers.
func push(b *testing.B, addr string, n int) time.Duration {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64<<10)
	start := time.Now()
	for sent := 0; sent < n; sent += len(buf) {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	_ = c.(*net.TCPConn).CloseWrite()
	_, _ = io.Copy(io.Discard, c) // the sink closes after reading everything
	return time.Since(start)
}

// newSink accepts connections and reads each to EOF, then closes it.
func newSink(b *testing.B) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return ln
}
