package bench

import (
	"context"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/session/server"
	"github.com/faultline/faultline/proxy"
)

// topo is one engine behind one embedded link in front of one session
// server, with a tap between link and server: a plain TCP forwarder that
// stamps each accepted connection with the run's clock. The tap is ground
// truth independent of the server's own recording.
type topo struct {
	log    *history.Log
	srv    *server.Server
	tp     *proxy.Embedded
	link   *proxy.Link
	tap    *tap
	sess   *client.Session
	states chan client.StateChange
}

func newTopo(b *testing.B, strategy client.Strategy) *topo {
	b.Helper()
	t := &topo{log: history.NewLog(history.NewClock()), states: make(chan client.StateChange, 64)}
	var err error
	t.srv, err = server.Start("s1", t.log, server.Options{Ping: 50 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	t.tap = newTap(b, t.log.Clock(), t.srv.Addr())
	t.tp, err = proxy.NewEmbedded(t.log)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t.link, err = t.tp.Link(ctx, "s1", t.tap.addr())
	if err != nil {
		b.Fatal(err)
	}
	o := client.DefaultOptions()
	o.Servers = []string{"ws://" + t.link.Addr() + "/"}
	o.Strategy = strategy
	o.ReconnectTimeout = time.Minute
	o.OnState = func(c client.StateChange) {
		select {
		case t.states <- c:
		default:
		}
	}
	t.sess, err = client.Connect(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	t.waitState(b, client.ConnectedActive)
	return t
}

// waitState waits (bounded) for the engine to report state s.
func (t *topo) waitState(b *testing.B, s client.State) time.Duration {
	b.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case c := <-t.states:
			if c.To == s {
				return t.log.Clock().Now()
			}
		case <-deadline:
			b.Fatalf("engine did not reach %s within 5s", s)
		}
	}
}

func (t *topo) close() {
	_ = t.sess.Close()
	_ = t.tp.Close()
	_ = t.srv.Close()
	t.tap.close()
}

func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(p * float64(len(s)-1))
	return s[i]
}

// tap forwards TCP to upstream and stamps every accept.
type tap struct {
	ln      net.Listener
	up      string
	clock   *history.Clock
	mu      sync.Mutex
	accepts []time.Duration
	wg      sync.WaitGroup
}

func newTap(b *testing.B, clock *history.Clock, upstream string) *tap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	t := &tap{ln: ln, up: upstream, clock: clock}
	t.wg.Add(1)
	go t.serve()
	return t
}

func (t *tap) addr() string { return t.ln.Addr().String() }

func (t *tap) serve() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			return
		}
		at := t.clock.Now()
		t.mu.Lock()
		t.accepts = append(t.accepts, at)
		t.mu.Unlock()
		u, err := net.DialTimeout("tcp", t.up, 2*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		t.wg.Add(2)
		go t.pipe(c, u)
		go t.pipe(u, c)
	}
}

func (t *tap) pipe(dst, src net.Conn) {
	defer t.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

// lastAcceptBefore is the tap's last accept at or before at.
func (t *tap) lastAcceptBefore(at time.Duration) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.accepts) - 1; i >= 0; i-- {
		if t.accepts[i] <= at {
			return t.accepts[i], true
		}
	}
	return 0, false
}

func (t *tap) close() {
	t.ln.Close()
	done := make(chan struct{})
	go func() { t.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
}
