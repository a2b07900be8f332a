package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/faultline/faultline/harness/history"
	fakeinstance "github.com/faultline/faultline/packs/platform/instance"
	"github.com/faultline/faultline/proxy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rig is a router over fake instances, with everything it reports kept.
type rig struct {
	t    *testing.T
	log  *history.Log
	reg  *Registry
	r    *Router
	srvs map[string]*fakeinstance.Server
	urls map[string]string // name -> url the router dials

	mu     sync.Mutex
	routes []Route
	resps  map[string]Response
	insts  []InstanceChange
	edges  []EdgeChange
}

func newRig(t *testing.T, opts Options, names ...string) *rig {
	t.Helper()
	g := &rig{t: t, log: history.NewLog(history.NewClock()), srvs: map[string]*fakeinstance.Server{},
		urls: map[string]string{}, resps: map[string]Response{}}
	for _, n := range names {
		g.start(n)
	}
	g.reg = NewRegistry()
	for _, n := range names {
		g.reg.Add(n, g.urls[n])
	}
	opts.Discovery = g.reg
	opts.Events = Events{
		OnRoute: func(r Route) { g.mu.Lock(); g.routes = append(g.routes, r); g.mu.Unlock() },
		OnResponse: func(r Response) {
			g.mu.Lock()
			if _, dup := g.resps[r.ID]; dup {
				t.Errorf("second response for %s: %+v", r.ID, r)
			}
			g.resps[r.ID] = r
			g.mu.Unlock()
		},
		OnInstance: func(c InstanceChange) { g.mu.Lock(); g.insts = append(g.insts, c); g.mu.Unlock() },
		OnEdge:     func(c EdgeChange) { g.mu.Lock(); g.edges = append(g.edges, c); g.mu.Unlock() },
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	g.r = r
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
		for _, s := range g.srvs {
			_ = s.Close()
		}
	})
	return g
}

func (g *rig) start(name string) {
	s, err := fakeinstance.Start(name, g.log, fakeinstance.Options{Ping: 50 * time.Millisecond})
	if err != nil {
		g.t.Fatal(err)
	}
	g.srvs[name] = s
	g.urls[name] = s.URL()
}

// waitFor polls cond until it holds or 5s pass.
func (g *rig) waitFor(what string, cond func() bool) {
	g.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			g.t.Fatalf("timed out waiting for %s\nrouter view: %+v\nhistory:\n%s", what, g.view(), g.log.Events())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (g *rig) view() []InstanceChange {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]InstanceChange(nil), g.insts...)
}

// state is the router's view of an instance: its last connection state,
// or unwritable while connected and above the high mark.
func (g *rig) state(name string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, writable := "", true
	for _, c := range g.insts {
		if c.Instance != name {
			continue
		}
		switch c.State {
		case StateUnwritable:
			writable = false
		case StateWritable:
			writable = true
		default:
			st, writable = c.State, true
		}
	}
	if st == StateConnected && !writable {
		return StateUnwritable
	}
	return st
}

func (g *rig) connected(names ...string) {
	g.t.Helper()
	for _, n := range names {
		g.waitFor(n+" connected", func() bool { return g.state(n) == StateConnected })
	}
}

func (g *rig) response(id string) (Response, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.resps[id]
	return r, ok
}

func (g *rig) waitResponse(id string) Response {
	g.t.Helper()
	g.waitFor("response to "+id, func() bool { _, ok := g.response(id); return ok })
	r, _ := g.response(id)
	return r
}

func (g *rig) send(edge, id string, part, parts int) {
	g.t.Helper()
	if err := g.r.Send(edge, id, part, parts, json.RawMessage(`"x"`)); err != nil {
		g.t.Fatalf("send %s part %d: %v", id, part, err)
	}
}

func (g *rig) name(url string) string {
	for n, u := range g.urls {
		if u == url {
			return n
		}
	}
	return url
}

// received is which instance recorded each part of message id, in order.
func (g *rig) received(id string) []string {
	var out []string
	for _, e := range g.log.Events() {
		if e.Kind == fakeinstance.KindRouteReceive && e.Attr("id") == id {
			out = append(out, e.Server+"/"+e.Attr("part"))
		}
	}
	return out
}

func TestRoundRobinOverHealthyInstances(t *testing.T) {
	g := newRig(t, Options{}, "s1", "s2", "s3")
	g.connected("s1", "s2", "s3")
	if err := g.r.OpenEdge("e1"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 30; i++ {
		g.send("e1", fmt.Sprint(i), 1, 1)
	}
	count := map[string]int{}
	for i := 1; i <= 30; i++ {
		r := g.waitResponse(fmt.Sprint(i))
		if r.Status != StatusOK {
			t.Fatalf("message %d: %+v", i, r)
		}
		want := []string{"s1", "s2", "s3"}[(i-1)%3]
		if got := g.name(r.Instance); got != want {
			t.Errorf("message %d answered by %s, want %s (round robin)", i, got, want)
		}
		if rc := g.received(fmt.Sprint(i)); len(rc) != 1 || rc[0] != want+"/1" {
			t.Errorf("message %d received as %v, want [%s/1]", i, rc, want)
		}
		count[g.name(r.Instance)]++
	}
	if count["s1"] != 10 || count["s2"] != 10 || count["s3"] != 10 {
		t.Errorf("shares %v, want 10 each", count)
	}
}

func TestNoInstanceAnswers500(t *testing.T) {
	g := newRig(t, Options{}) // discovery names nobody
	if err := g.r.OpenEdge("e1"); err != nil {
		t.Fatal(err)
	}
	g.send("e1", "1", 1, 1)
	r, ok := g.response("1") // synchronous: nothing is queued for later
	if !ok || r.Status != StatusNoInstance {
		t.Fatalf("got %+v (answered: %v), want an immediate 500", r, ok)
	}
	g.send("e1", "M", 1, 2)
	if r, _ := g.response("M"); r.Status != StatusNoInstance {
		t.Fatalf("multi-part: got %+v, want an immediate 500", r)
	}
	g.send("e1", "M", 2, 2) // a later part of an answered request goes nowhere, without error
	if err := g.r.Send("e1", "9", 2, 2, nil); !errors.Is(err, ErrUnknownPart) {
		t.Errorf("part 2 of an unknown message: %v, want ErrUnknownPart", err)
	}
	if err := g.r.Send("nope", "2", 1, 1, nil); !errors.Is(err, ErrEdgeClosed) {
		t.Errorf("send on an edge never opened: %v, want ErrEdgeClosed", err)
	}
}

func TestLosingEveryInstanceClosesEdges(t *testing.T) {
	g := newRig(t, Options{Retry: 20 * time.Millisecond}, "s1", "s2")
	g.connected("s1", "s2")
	for _, e := range []string{"e1", "e2"} {
		if err := g.r.OpenEdge(e); err != nil {
			t.Fatal(err)
		}
	}
	_ = g.srvs["s1"].Close()
	g.waitFor("s1 disconnected", func() bool { return g.state("s1") == StateDisconnected })
	g.mu.Lock()
	early := len(g.edges)
	g.mu.Unlock()
	if early != 0 {
		t.Fatalf("edges closed while s2 was still connected: %+v", g.edges)
	}
	_ = g.srvs["s2"].Close()
	g.waitFor("both edges closed", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.edges) == 2 })
	for _, e := range g.edges {
		if e.State != EdgeClosed || e.Reason != ReasonNoInstances {
			t.Errorf("edge change %+v", e)
		}
	}
	if err := g.r.Send("e1", "1", 1, 1, nil); !errors.Is(err, ErrEdgeClosed) {
		t.Errorf("send on a closed edge: %v, want ErrEdgeClosed", err)
	}
	if err := g.r.OpenEdge("e3"); err != nil {
		t.Fatalf("a new edge must still be accepted: %v", err)
	}
	g.send("e3", "2", 1, 1)
	if r, _ := g.response("2"); r.Status != StatusNoInstance {
		t.Errorf("with every instance lost: %+v, want 500", r)
	}
}

func TestPartsStayOnTheFirstPartsInstance(t *testing.T) {
	g := newRig(t, Options{}, "s1", "s2")
	g.connected("s1", "s2")
	if err := g.r.OpenEdge("e1"); err != nil {
		t.Fatal(err)
	}
	g.send("e1", "A", 1, 3) // s1
	g.send("e1", "B", 1, 1) // s2
	g.send("e1", "A", 2, 3) // s1: affinity, not the rotation
	g.send("e1", "C", 1, 1) // s1: the rotation goes on from B
	g.send("e1", "A", 3, 3)
	for id, want := range map[string]string{"A": "s1", "B": "s2", "C": "s1"} {
		if r := g.waitResponse(id); r.Status != StatusOK || g.name(r.Instance) != want {
			t.Errorf("%s: %+v, want 200 from %s", id, r, want)
		}
	}
	if rc := strings.Join(g.received("A"), " "); rc != "s1/1 s1/2 s1/3" {
		t.Errorf("A received as %s", rc)
	}
}

func TestPartAfterItsInstanceIsLostFails(t *testing.T) {
	g := newRig(t, Options{Retry: time.Hour}, "s1", "s2")
	g.connected("s1", "s2")
	if err := g.r.OpenEdge("e1"); err != nil {
		t.Fatal(err)
	}
	g.send("e1", "A", 1, 3) // s1
	g.waitFor("part 1 received", func() bool { return len(g.received("A")) == 1 })
	_ = g.srvs["s1"].Close()
	// The request fails when its instance goes, or at the next part.
	g.waitFor("s1 disconnected", func() bool { return g.state("s1") == StateDisconnected })
	g.send("e1", "A", 2, 3)
	g.send("e1", "A", 3, 3)
	r := g.waitResponse("A")
	if r.Status != StatusInstanceErr || g.name(r.Instance) != "s1" {
		t.Errorf("A: %+v, want 502 naming s1", r)
	}
	if rc := strings.Join(g.received("A"), " "); rc != "s1/1" {
		t.Errorf("A received as %s, want only s1/1 (no partial delivery elsewhere)", rc)
	}
}

func TestDiscoveryAddAndRemove(t *testing.T) {
	g := newRig(t, Options{}, "s1")
	g.connected("s1")
	if err := g.r.OpenEdge("e1"); err != nil {
		t.Fatal(err)
	}
	g.start("s2")
	g.reg.Add("s2", g.urls["s2"])
	g.waitFor("s2 connected", func() bool { return g.state("s2") == StateConnected })
	g.send("e1", "1", 1, 1)
	g.send("e1", "2", 1, 1)
	a, b := g.waitResponse("1"), g.waitResponse("2")
	if g.name(a.Instance) == g.name(b.Instance) {
		t.Errorf("after the add, two messages went to %s and %s: want both instances", a.Instance, b.Instance)
	}
	g.reg.Remove("s1")
	g.waitFor("s1 removed", func() bool { return g.state("s1") == StateRemoved })
	for i := 3; i <= 6; i++ {
		g.send("e1", fmt.Sprint(i), 1, 1)
		if r := g.waitResponse(fmt.Sprint(i)); r.Instance != "s2" {
			t.Errorf("message %d went to %s after s1 was removed", i, r.Instance)
		}
	}
	g.waitFor("s1's connection closed by the router", func() bool {
		for _, e := range g.log.Events() {
			if e.Kind == history.KindConnClose && e.Server == "s1" && e.Reason == fakeinstance.ReasonClosedByRouter {
				return true
			}
		}
		return false
	})
}

// A throttled link makes the write buffer grow for real: the instance turns
// unwritable above the high mark, is skipped, and comes back below the low
// mark.
func TestThrottledInstanceBecomesUnwritable(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a few seconds of throttled traffic")
	}
	log := history.NewLog(history.NewClock())
	tp, err := proxy.NewEmbedded(log)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	g := newRig(t, Options{HighWatermark: 8 << 10, LowWatermark: 4 << 10, SendBuffer: 16 << 10}) // no members yet
	g.start("s1")
	g.start("s2")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	link, err := tp.Link(ctx, "s2", g.srvs["s2"].Addr())
	if err != nil {
		t.Fatal(err)
	}
	g.urls["s2"] = "ws://" + link.Addr() + "/"
	g.reg.Add("s1", g.urls["s1"])
	g.reg.Add("s2", g.urls["s2"])
	g.connected("s1", "s2")
	if _, err := link.Apply(ctx, "throttle", &proxy.ThrottleAttrs{Rate: 20}, proxy.Upstream); err != nil {
		t.Fatal(err)
	}
	if err := g.r.OpenEdge("e1"); err != nil {
		t.Fatal(err)
	}
	payload := json.RawMessage(`"` + strings.Repeat("x", 2000) + `"`)
	deadline := time.Now().Add(8 * time.Second)
	i := 0
	for g.state("s2") != StateUnwritable || i < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("s2 never became unwritable after %d messages; view %+v", i, g.view())
		}
		i++
		if err := g.r.Send("e1", fmt.Sprint(i), 1, 1, payload); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("s2 unwritable after %d messages of ~2 KB (half to s2)", i)
	var un InstanceChange
	for _, c := range g.view() {
		if c.Instance == "s2" && c.State == StateUnwritable {
			un = c
		}
	}
	if un.Queued <= 8<<10 {
		t.Errorf("unwritable with %d bytes buffered: want above the high mark", un.Queued)
	}
	// While s2 is unwritable every message goes to s1.
	for j := 0; j < 5; j++ {
		i++
		g.send("e1", fmt.Sprint(i), 1, 1)
		g.mu.Lock()
		last := g.routes[len(g.routes)-1]
		g.mu.Unlock()
		if last.Instance != "s1" && g.state("s2") == StateUnwritable {
			t.Errorf("message %d routed to %s while s2 was unwritable", i, last.Instance)
		}
	}
	if err := link.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	g.waitFor("s2 writable again", func() bool { return g.state("s2") == StateConnected })
	for _, c := range g.view() {
		if c.Instance == "s2" && c.State == StateWritable && c.Queued >= 4<<10 {
			t.Errorf("writable again with %d bytes buffered: want below the low mark", c.Queued)
		}
	}
}
