package control

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/proxy"
)

// A host with links (serve --links) records what its links see of clients
// into its event stream, under the names the links were created with over
// its Toxiproxy API; faults stay with whoever drives that API.
func TestServeLinksStreamsLinkAcceptsAndDialFails(t *testing.T) {
	h, c := host(t, ServerConfig{Name: "s1", Ping: Duration(time.Hour)})
	lln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ServeLinks(lln); err != nil {
		t.Fatal(err)
	}
	if err := h.ServeLinks(lln); err == nil {
		t.Error("a second ServeLinks was taken")
	}
	ctx := tctx(t)
	health, err := c.WaitHealthy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if health.Links != lln.Addr().String() {
		t.Fatalf("health says links at %q, want %q", health.Links, lln.Addr())
	}
	col := newCollector()
	f := Follow(c, 0, col.add, func(err error) { t.Errorf("stream ended: %v", err) })
	defer f.Stop()
	if err := f.Opened(ctx); err != nil {
		t.Fatal(err)
	}

	// The harness's side: a Remote on the hosted API, recording faults.
	rec := history.NewLog(history.NewClock())
	tp, err := proxy.NewRemote("http://"+health.Links, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	up := l1Addr(t, h, "s1")
	l1, err := tp.Link(ctx, "s1", up)
	if err != nil {
		t.Fatal(err)
	}
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens there: dials are refused
	l2, err := tp.Link(ctx, "gone", deadAddr)
	if err != nil {
		t.Fatal(err)
	}

	c1, err := net.Dial("tcp", l1.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := net.Dial("tcp", l2.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Error("a link with no server behind it passed bytes")
	}

	col.waitFor(t, history.KindLinkDialFail)
	evs := waitKind(t, col, history.KindAccept, "s1")
	find := func(kind, link, conn string) (Envelope, bool) {
		for _, e := range evs {
			if e.Event.Kind == kind && e.Event.Link == link && (conn == "" || e.Event.Conn == conn) {
				return e, true
			}
		}
		return Envelope{}, false
	}
	a1, ok := find(history.KindLinkAccept, "s1", c1.LocalAddr().String())
	if !ok {
		t.Fatalf("no link.accept of %s on link s1 in %v", c1.LocalAddr(), evs)
	}
	if a1.Event.Source != history.SrcLink || a1.Event.Server != "" || a1.TS == 0 || a1.Event.T != 0 {
		t.Errorf("link.accept %+v: want source link, no server, a wall-clock TS and no stamp", a1)
	}
	if _, ok := find(history.KindLinkAccept, "gone", c2.LocalAddr().String()); !ok {
		t.Errorf("no link.accept of %s on link gone in %v", c2.LocalAddr(), evs)
	}
	df, ok := find(history.KindLinkDialFail, "gone", c2.LocalAddr().String())
	if !ok || !strings.Contains(df.Event.Reason, "refused") {
		t.Errorf("link.dial_fail on link gone: %+v (found %v), want its dial's refusal", df, ok)
	}
	if _, ok := find(history.KindLinkDialFail, "s1", ""); ok {
		t.Error("link s1 failed a dial to a live server")
	}
	for _, e := range evs {
		if e.Event.Kind == history.KindAccept && e.Event.Server == "s1" && e.N < a1.N {
			t.Errorf("server accept at position %d before its link's accept at %d", e.N, a1.N)
		}
	}

	// Faults: recorded by the harness's client, not streamed.
	id, err := l1.Apply(ctx, "reset", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := l1.Heal(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Events().Kind(history.KindFaultOn)); n != 1 {
		t.Errorf("the harness's recorder has %d fault.on, want 1", n)
	}
	for _, e := range col.snapshot() {
		if e.Event.Kind == history.KindFaultOn || e.Event.Kind == history.KindFaultOff {
			t.Errorf("fault record in the serve stream: %+v", e)
		}
	}
}

// A host with links and no servers is a links host (serve --links alone).
func TestServeLinksWithoutServers(t *testing.T) {
	h, c := host(t)
	lln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ServeLinks(lln); err != nil {
		t.Fatal(err)
	}
	ctx := tctx(t)
	health, err := c.WaitHealthy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(health.Servers) != 0 || health.Links == "" {
		t.Fatalf("health %+v", health)
	}
	tp, err := proxy.NewRemote(health.Links, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tp.Link(ctx, "s1", "127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	if err := tp.Close(); err != nil {
		t.Fatal(err)
	}
}

func l1Addr(t *testing.T, h *Host, name string) string {
	t.Helper()
	a, ok := h.Addr(name)
	if !ok {
		t.Fatalf("no server %s", name)
	}
	_, port, _ := net.SplitHostPort(a)
	return net.JoinHostPort("127.0.0.1", port)
}

// waitKind waits for an event of kind from server.
func waitKind(t *testing.T, col *collector, kind, server string) []Envelope {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		evs := col.snapshot()
		for _, e := range evs {
			if e.Event.Kind == kind && e.Event.Server == server {
				return evs
			}
		}
		select {
		case <-col.got:
		case <-deadline:
			t.Fatalf("no %s of %s streamed", kind, server)
		}
	}
}

func (c *collector) snapshot() []Envelope {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Envelope(nil), c.evs...)
}
