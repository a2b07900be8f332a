package bench

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/session/server"
	"github.com/faultline/faultline/proxy"
)

// sessions is how many concurrent sessions BenchmarkSessions holds: the
// scale scenario's 1,000.
const sessions = 1000

// BenchmarkSessions measures what one session costs the harness: 1,000
// Go-engine clients connect at once through one embedded link to one
// session server (everything in this process, as in embedded mode); the
// heap, RSS and goroutines after, less before, per session, and the wall
// time until all are CONNECTED_ACTIVE. Run it with -benchtime 1x: each
// iteration is the whole 1,000. (Measured: ~170 KiB of heap a session, three
// quarters of it Toxiproxy's four 32 KiB copy buffers per proxied
// connection.)
func BenchmarkSessions(b *testing.B) {
	var heap, rss, gor, wall float64
	for i := 0; i < b.N; i++ {
		h, r, g, w := sessionCost(b)
		heap, rss, gor, wall = heap+h, rss+r, gor+g, wall+w
	}
	n := float64(b.N)
	b.ReportMetric(heap/n/1024, "heap-KiB/session")
	b.ReportMetric(rss/n/1024, "rss-KiB/session")
	b.ReportMetric(gor/n, "goroutines/session")
	b.ReportMetric(wall/n, "connect-s")
	b.ReportMetric(0, "ns/op")
}

func sessionCost(b *testing.B) (heap, rss, goroutines, wall float64) {
	srv, err := server.Start("s1", history.Nop{}, server.Options{Ping: 2 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	tp, err := proxy.NewEmbedded(history.Nop{})
	if err != nil {
		b.Fatal(err)
	}
	defer tp.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	link, err := tp.Link(ctx, "s1", srv.Addr())
	if err != nil {
		b.Fatal(err)
	}
	h0, r0, g0 := memNow()
	start := time.Now()
	ss := make([]*client.Session, sessions)
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := client.DefaultOptions()
			o.Servers = []string{"ws://" + link.Addr() + "/"}
			o.ConnectTimeout = 30 * time.Second
			s, err := client.Connect(ctx, o) // returns once CONNECTED_ACTIVE
			ss[i] = s
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	wall = time.Since(start).Seconds()
	h1, r1, g1 := memNow()
	for _, s := range ss {
		_ = s.Close()
	}
	per := func(a, z float64) float64 { return (z - a) / sessions }
	return per(h0, h1), per(r0, r1), per(g0, g1), wall
}

// memNow is the live heap after a GC, the resident set, and the goroutines.
func memNow() (heap, rss, goroutines float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc), float64(residentBytes()), float64(runtime.NumGoroutine())
}

// residentBytes is the process's resident set (/proc/self/statm, in pages).
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
