package control

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"

	_ "github.com/faultline/faultline/packs/session" // the kind its hosts serve by default
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// host serves a Host on 127.0.0.1:0 for the test's life.
func host(t *testing.T, cfgs ...ServerConfig) (*Host, *Client) {
	t.Helper()
	h, err := NewHost(cfgs)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln) }()
	c := NewClient(ln.Addr().String())
	t.Cleanup(func() {
		c.Close()
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("serve did not stop")
		}
	})
	return h, c
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// collector gathers streamed events.
type collector struct {
	mu  sync.Mutex
	evs []Envelope
	got chan struct{}
}

func newCollector() *collector { return &collector{got: make(chan struct{}, 1024)} }

func (c *collector) add(e Envelope) {
	c.mu.Lock()
	c.evs = append(c.evs, e)
	c.mu.Unlock()
	c.got <- struct{}{}
}

// waitFor waits until an event of kind arrived and returns everything so far.
func (c *collector) waitFor(t *testing.T, kind string) []Envelope {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		c.mu.Lock()
		for _, e := range c.evs {
			if e.Event.Kind == kind {
				out := append([]Envelope(nil), c.evs...)
				c.mu.Unlock()
				return out
			}
		}
		c.mu.Unlock()
		select {
		case <-c.got:
		case <-deadline:
			t.Fatalf("no %s event streamed", kind)
		}
	}
}

// session opens a session on addr and returns the WebSocket.
func session(t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	ctx := tctx(t)
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	hello := wire.Frame{T: wire.THello, Principal: "faultline", Credentials: "faultline"}
	if err := ws.Write(ctx, websocket.MessageText, wire.Encode(hello)); err != nil {
		t.Fatal(err)
	}
	_, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := wire.Decode(b); f.T != wire.TWelcome {
		t.Fatalf("got %s, want welcome", b)
	}
	return ws
}

func TestStreamCarriesServerEventsWithPositionsAndTime(t *testing.T) {
	_, c := host(t, ServerConfig{Name: "s1", Ping: Duration(time.Hour)})
	ctx := tctx(t)
	h, err := c.WaitHealthy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Servers) != 1 || h.Servers[0].Name != "s1" || h.Servers[0].Addr == "" {
		t.Fatalf("health %+v", h)
	}
	col := newCollector()
	f := Follow(c, 0, col.add, func(err error) { t.Errorf("stream ended: %v", err) })
	defer f.Stop()
	if err := f.Opened(ctx); err != nil {
		t.Fatal(err)
	}
	before := time.Now().UnixNano()
	ws := session(t, h.Servers[0].Addr)
	if err := ws.Write(ctx, websocket.MessageText, wire.Encode(wire.Frame{T: wire.TSub, Topic: "prices"})); err != nil {
		t.Fatal(err)
	}
	col.waitFor(t, history.KindSubscribe)
	evs := col.waitFor(t, history.KindSessionCreate)
	for i, e := range evs {
		if e.N != int64(i) {
			t.Errorf("event %d has position %d", i, e.N)
		}
		if e.TS < before || e.TS > time.Now().UnixNano() {
			t.Errorf("event %d stamped %d, outside the test", i, e.TS)
		}
		if e.Event.Server != "s1" || e.Event.Source != history.SrcServer || e.Event.T != 0 {
			t.Errorf("event %d: %+v", i, e.Event)
		}
	}
	if evs[0].Event.Kind != history.KindAccept || evs[0].Event.Conn != "s1#1" {
		t.Errorf("first event %+v, want accept s1#1", evs[0].Event)
	}
	seq, err := c.Publish(ctx, "s1", "prices", json.RawMessage(`{"n":1}`))
	if err != nil || seq != 1 {
		t.Fatalf("publish: %d, %v", seq, err)
	}
	col.waitFor(t, history.KindDeliver)
}

func TestResetStartsFreshOnTheSameAddressAndSaysWhereItsEventsBegin(t *testing.T) {
	_, c := host(t, ServerConfig{Name: "s1"}, ServerConfig{Name: "s2"})
	ctx := tctx(t)
	h, _ := c.WaitHealthy(ctx)
	addr := h.Servers[0].Addr
	session(t, addr)
	if _, err := c.Publish(ctx, "s1", "t", nil); err != nil {
		t.Fatal(err)
	}
	r, err := c.Reset(ctx, "s1", ServerConfig{Kind: "session", Retention: Duration(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Addr != addr {
		t.Errorf("reset moved the server from %s to %s", addr, r.Addr)
	}
	h2, _ := c.Health(ctx)
	if r.Next != h2.Next {
		t.Errorf("next %d, but the log is at %d with nothing new", r.Next, h2.Next)
	}
	// Fresh: sequence numbers start again, connection numbers too.
	if seq, err := c.Publish(ctx, "s1", "t", nil); err != nil || seq != 1 {
		t.Errorf("publish after reset: seq %d, %v; want 1", seq, err)
	}
	col := newCollector()
	f := Follow(c, r.Next, col.add, nil)
	defer f.Stop()
	session(t, addr)
	evs := col.waitFor(t, history.KindSessionCreate)
	if evs[0].N < r.Next {
		t.Errorf("stream from %d began at %d", r.Next, evs[0].N)
	}
	for _, e := range evs {
		if e.Event.Kind == history.KindSessionCreate && e.Event.Attrs["retention_ms"] != "1000" {
			t.Errorf("reset config not applied: %v", e.Event.Attrs)
		}
		if e.Event.Kind == history.KindAccept && e.Event.Conn != "s1#1" {
			t.Errorf("a fresh server numbers from 1: %s", e.Event.Conn)
		}
	}
}

func TestErrorsNameTheProblem(t *testing.T) {
	_, c := host(t, ServerConfig{Name: "s1"})
	ctx := tctx(t)
	if _, err := c.Publish(ctx, "nope", "t", nil); err == nil || !strings.Contains(err.Error(), `no server "nope"`) {
		t.Errorf("publish on an unknown server: %v", err)
	}
	if _, err := c.Reset(ctx, "s1", ServerConfig{Kind: "mqtt"}); err == nil || !strings.Contains(err.Error(), "mqtt") {
		t.Errorf("reset to an unknown kind: %v", err)
	}
	// A failed reset leaves the server as it was... except that it is
	// stopped; the next reset with a good kind brings it back.
	if _, err := c.Reset(ctx, "s1", ServerConfig{}); err != nil {
		t.Errorf("reset back: %v", err)
	}
	if _, err := NewHost([]ServerConfig{{Name: "a"}, {Name: "a"}}); err == nil {
		t.Error("two servers of one name were accepted")
	}
}

func TestStreamEndsWhenTheHostGoes(t *testing.T) {
	h, err := NewHost([]ServerConfig{{Name: "s1"}})
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln) }()
	c := NewClient(ln.Addr().String())
	defer c.Close()
	shortResume(t, time.Second)
	ended := make(chan error, 1)
	f := Follow(c, 0, func(Envelope) {}, func(err error) { ended <- err })
	if err := f.Opened(tctx(t)); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-ended:
		if err == nil {
			t.Error("the end of a stream by the host's going must be an error to the follower")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end with its host")
	}
	<-done
	f.Stop()
}

func TestDelaySummary(t *testing.T) {
	var d Delays
	if d.Summary().String() != "no server events streamed" {
		t.Error(d.Summary())
	}
	now := time.Now().UnixNano()
	for i := 0; i < 100; i++ {
		d.Add(now - int64(i)*int64(time.Millisecond))
	}
	s := d.Summary()
	if s.N != 100 || s.Max < 99*time.Millisecond || s.P50 < 49*time.Millisecond || s.P50 > 60*time.Millisecond {
		t.Errorf("summary %+v", s)
	}
}
