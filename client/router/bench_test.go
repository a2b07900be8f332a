package router

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/faultline/faultline/harness/history"
	fakeinstance "github.com/faultline/faultline/packs/platform/instance"
	"github.com/faultline/faultline/wire/platform"
)

// benchWindow is how many requests are in flight at once on either path
// (an edge that waits for answers, as edges do), so that neither path is
// measured against its own back-pressure.
const benchWindow = 64

// benchRounds: the two paths take turns, so that a change in the machine's
// load during the run weighs on both alike.
const benchRounds = 4

var benchPayload = json.RawMessage(`"` + strings.Repeat("x", 254) + `"`) // 256 bytes of JSON

// BenchmarkRouter measures, in one run, the throughput of acknowledged
// messages (a) sent directly to one instance over the platform protocol and
// (b) routed by the router over 4 healthy instances, and reports both and
// their ratio (router ÷ direct). Everything is in-process on loopback; each
// message counts once its instance acknowledged it; both paths keep
// benchWindow messages in flight and take turns in benchRounds rounds.
func BenchmarkRouter(b *testing.B) {
	n := max(b.N, 2000) / benchRounds // short phases measure start-up, not throughput
	var srvs []*fakeinstance.Server
	for i := 1; i <= 4; i++ {
		s, err := fakeinstance.Start("s"+strconv.Itoa(i), history.Nop{}, fakeinstance.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		srvs = append(srvs, s)
	}
	direct := newDirect(b, srvs[0].URL())
	defer direct.close()
	routed := newRouted(b, srvs)
	defer routed.close()
	b.ResetTimer()
	var td, tr time.Duration
	for round := 0; round < benchRounds; round++ {
		td += direct.run(b, n, round)
		tr += routed.run(b, n, round)
	}
	b.StopTimer()
	total := float64(n * benchRounds)
	b.ReportMetric(total/td.Seconds(), "direct-msg/s")
	b.ReportMetric(total/tr.Seconds(), "router4-msg/s")
	b.ReportMetric(td.Seconds()/tr.Seconds(), "ratio")
}

// direct is an edge talking to one instance itself.
type direct struct {
	ctx    context.Context
	cancel context.CancelFunc
	ws     *websocket.Conn
	acks   chan struct{}
	done   chan struct{}
}

func newDirect(b *testing.B, url string) *direct {
	d := &direct{acks: make(chan struct{}, 1<<16), done: make(chan struct{})}
	d.ctx, d.cancel = context.WithTimeout(context.Background(), 5*time.Minute)
	ws, _, err := websocket.Dial(d.ctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		b.Fatal(err)
	}
	d.ws = ws
	if err := ws.Write(d.ctx, websocket.MessageText, platform.Encode(platform.Frame{T: platform.THello, Router: "bench"})); err != nil {
		b.Fatal(err)
	}
	if _, _, err := ws.Read(d.ctx); err != nil { // welcome
		b.Fatal(err)
	}
	go func() {
		defer close(d.done)
		for {
			_, m, err := ws.Read(d.ctx)
			if err != nil {
				return
			}
			if f, err := platform.Decode(m); err == nil && f.T == platform.TAck {
				d.acks <- struct{}{}
			}
		}
	}()
	return d
}

func (d *direct) run(b *testing.B, n, round int) time.Duration {
	start := time.Now()
	inflight := 0
	for i := 1; i <= n; i++ {
		for inflight >= benchWindow {
			<-d.acks
			inflight--
		}
		f := platform.Encode(platform.Frame{T: platform.TReq, ID: strconv.Itoa(round*n + i), Edge: "e1", Part: 1, Parts: 1, Data: benchPayload})
		if err := d.ws.Write(d.ctx, websocket.MessageText, f); err != nil {
			b.Fatal(err)
		}
		inflight++
	}
	for ; inflight > 0; inflight-- {
		select {
		case <-d.acks:
		case <-time.After(time.Minute):
			b.Fatal("direct acks did not all come")
		}
	}
	return time.Since(start)
}

func (d *direct) close() {
	_ = d.ws.CloseNow()
	d.cancel()
	<-d.done
}

// routed is an edge talking to a router over the instances.
type routed struct {
	r     *Router
	slots chan struct{}
	mu    sync.Mutex
	fails int
	why   string
}

func newRouted(b *testing.B, srvs []*fakeinstance.Server) *routed {
	reg := NewRegistry()
	for _, s := range srvs {
		reg.Add(s.Name(), s.URL())
	}
	rt := &routed{slots: make(chan struct{}, benchWindow)}
	connected := make(chan struct{}, len(srvs))
	// A loaded host must not make a healthy instance look silent: liveness is
	// not what this measures.
	r, err := New(Options{Discovery: reg, Liveness: time.Minute, Events: Events{
		OnResponse: func(resp Response) {
			if resp.Status != StatusOK {
				rt.mu.Lock()
				rt.fails++
				rt.why = fmt.Sprintf("%d %s", resp.Status, resp.Reason)
				rt.mu.Unlock()
			}
			<-rt.slots
		},
		OnInstance: func(c InstanceChange) {
			if c.State == StateConnected {
				connected <- struct{}{}
			}
		},
	}})
	if err != nil {
		b.Fatal(err)
	}
	rt.r = r
	for range srvs {
		select {
		case <-connected:
		case <-time.After(5 * time.Second):
			b.Fatal("instances did not connect")
		}
	}
	if err := r.OpenEdge("e1"); err != nil {
		b.Fatal(err)
	}
	return rt
}

func (rt *routed) run(b *testing.B, n, round int) time.Duration {
	start := time.Now()
	for i := 1; i <= n; i++ {
		rt.slots <- struct{}{}
		if err := rt.r.Send("e1", strconv.Itoa(round*n+i), 1, 1, benchPayload); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < benchWindow; i++ { // every slot back: every answer in
		select {
		case rt.slots <- struct{}{}:
		case <-time.After(time.Minute):
			b.Fatal("router answers did not all come")
		}
	}
	elapsed := time.Since(start)
	for i := 0; i < benchWindow; i++ {
		<-rt.slots
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.fails > 0 {
		b.Fatalf("%d routed messages failed on healthy instances (last: %s)", rt.fails, rt.why)
	}
	return elapsed
}

func (rt *routed) close() { _ = rt.r.Close() }
