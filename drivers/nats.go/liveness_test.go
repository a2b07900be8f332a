package main

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit/kittest"
)

// blackholeProxy forwards TCP to target until its hole is opened; then it
// swallows every byte in both directions without closing anything.
type blackholeProxy struct {
	l    net.Listener
	hole atomic.Bool
}

func newBlackholeProxy(t *testing.T, target string) *blackholeProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &blackholeProxy{l: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); s.Close() })
			go p.pipe(c, s)
			go p.pipe(s, c)
		}
	}()
	return p
}

func (p *blackholeProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.hole.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestLivenessBlackhole: with liveness L the silent link is declared lost
// within L (PingInterval L/3, MaxPingsOutstanding 2; processPingTimer()).
func TestLivenessBlackhole(t *testing.T) {
	srv := runServer(t, 0)
	p := newBlackholeProxy(t, srv.Addr().String())
	u := "nats://" + p.l.Addr().String()
	const liveness = 300 * time.Millisecond
	r := newRig(t)
	l := r.Do(map[string]any{"op": "connect", "servers": []string{u}, "options": options(func(o map[string]any) {
		o["liveness_ms"] = liveness.Milliseconds()
		kittest.Sub(o, "reconnect")["strategy"] = map[string]any{"backoff": "fixed", "initial_ms": 5000}
	})})
	if l["ok"] != true {
		t.Fatalf("connect: %v", l)
	}
	r.State(-1, "CONNECTED_ACTIVE")
	time.Sleep(250 * time.Millisecond) // a few pings answered
	start := time.Now()
	p.hole.Store(true)
	r.State(-1, "RECOVERING_RECONNECT")
	took := time.Since(start)
	if took > liveness+50*time.Millisecond {
		t.Errorf("loss detected after %v, want within the liveness %v (+50ms)", took, liveness)
	}
	t.Logf("blackhole detected after %v (liveness %v)", took, liveness)
	r.WaitFor("the stale error", func(l line) bool {
		txt, _ := l["text"].(string)
		return l["type"] == "error" && txt == "nats.go DisconnectedErrCB: nats: stale connection"
	})
}
