package main

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// A server's GOAWAY (here MaxConnectionAge) ends the connection for new
// RPCs at once: the channel goes IDLE, the driver asks it to connect, and
// it reconnects to the top of its list, the same server (lame_duck none:
// no other server is sought).
func TestGoAwayReconnects(t *testing.T) {
	s1 := runFeed(t, "s1", "", grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 300 * time.Millisecond, MaxConnectionAgeGrace: time.Second}))
	s2 := runFeed(t, "s2", "")
	r := newRig(t)
	connect(r, -1, []string{s1.url(), s2.url()}, options(nil))
	r.State(-1, kit.Active)
	rec := r.State(-1, kit.Recovering)
	// The channel's IDLE (handleGoAway() -> onClose()) or, when the
	// watcher is slower, the drained transport's ConnEnd.
	if rec["native"] != "IDLE" && rec["native"] != "ConnEnd" {
		t.Errorf("after GOAWAY: %v", rec)
	}
	back := r.WaitFor("back", func(l line) bool { return l["type"] == "state" && l["from"] == kit.Recovering && l["to"] == kit.Active })
	if back["server"] != s1.url() || back["session"] != "s1/c0#2" {
		t.Errorf("back %v, want s1 again", back)
	}
	r.CheckLifecycle(-1)
}

// relay is a TCP relay that can freeze: bytes stop flowing both ways,
// connections stay open (a silent link).
type relay struct {
	lis    net.Listener
	to     string
	mu     sync.Mutex
	frozen bool
	conns  []net.Conn
}

func newRelay(t *testing.T, to string) *relay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{lis: l, to: to}
	t.Cleanup(func() {
		l.Close()
		r.mu.Lock()
		for _, c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, u)
			r.mu.Unlock()
			go r.pipe(c, u)
			go r.pipe(u, c)
		}
	}()
	return r
}

func (r *relay) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		r.mu.Lock()
		frozen := r.frozen
		r.mu.Unlock()
		if n > 0 && !frozen {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			return
		}
	}
}

func (r *relay) freeze() {
	r.mu.Lock()
	r.frozen = true
	r.mu.Unlock()
}

// A silent link is found within the effective detect_ms (keepalive Time
// at its 10 s minimum + Timeout), not within the 300 ms asked. Slow: 10 s.
func TestLivenessDetectBound(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s: keepalive's minimum Time")
	}
	s1 := runFeed(t, "s1", "")
	rl := newRelay(t, s1.addr)
	r := newRig(t)
	r.Wait = 20 * time.Second
	rep := connect(r, -1, []string{"grpc://" + rl.lis.Addr().String()}, options(func(o map[string]any) { o["liveness_ms"] = 300 }))
	detect := time.Duration(rep["contract"].(map[string]any)["params"].(map[string]any)["detect_ms"].(float64)) * time.Millisecond
	r.State(-1, kit.Active)
	rl.freeze()
	frozeAt := time.Now()
	r.State(-1, kit.Recovering)
	took := time.Since(frozeAt)
	// The last frame read came at the connect (the Hello), before the
	// freeze: the bound counts from it, so from the freeze it is at most
	// detect_ms; a keepalive under 10 s would have found it far sooner.
	if took > detect+time.Second || took < keepaliveMinTime-time.Second {
		t.Errorf("silent link found after %v, want within detect_ms %v and not before keepalive's 10 s", took, detect)
	}
}
