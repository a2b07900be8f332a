package check

import (
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// A small DSL for router histories (T1–T6). Instances are s1…sN behind links
// of the same name; the router's watermarks are high 1000 / low 500 bytes,
// its request timeout 100ms, its liveness 200ms (ping 100ms), so the default
// lag is 200ms.

func rscen(n int, mods ...func(*scenario.Scenario)) *scenario.Scenario {
	sc := &scenario.Scenario{Name: "routing", Clients: 1,
		Client: scenario.Client{Router: &scenario.Router{HighWatermark: 1000, LowWatermark: 500, RequestTimeout: 100 * time.Millisecond}}}
	for i := 1; i <= n; i++ {
		name := "s" + strconv.Itoa(i)
		sc.Servers = append(sc.Servers, scenario.Server{Name: name, Kind: "instance"})
		sc.Client.Servers = append(sc.Client.Servers, name)
	}
	for _, m := range mods {
		m(sc)
	}
	return sc
}

// cev is a client (router) event.
func cev(ms float64, kind string, kv ...string) history.Event {
	return ev(ms, kind, append(kv, "src=client")...)
}

type rt struct {
	evs   []history.Event
	op    int
	conns map[string]int
	live  map[string]string
}

// newRT: the router connects at 0 to every instance (server route.connect at
// 1ms, view connected at 1.5ms) and opens edge e1.
func newRT(names ...string) *rt {
	r := &rt{conns: map[string]int{}, live: map[string]string{}}
	r.opAt(0, "connect")
	r.edge(0.1, "e1", true)
	for _, n := range names {
		r.add(cev(0.2, "instance", "server="+n, "state=added", "bytes=0"))
	}
	for _, n := range names {
		r.connect(1, n)
	}
	return r
}

func (r *rt) add(es ...history.Event) *rt { r.evs = append(r.evs, es...); return r }

func (r *rt) opAt(ms float64, op string, kv ...string) string {
	r.op++
	id := strconv.Itoa(r.op)
	r.add(ev(ms, "op", append([]string{"op=" + op, "id=" + id}, kv...)...))
	return id
}

func (r *rt) replyAt(ms float64, op, id string, ok bool) {
	r.add(ev(ms, "reply", "op="+op, "id="+id, fmt.Sprintf("ok=%v", ok)))
}

func (r *rt) edge(ms float64, name string, ok bool) {
	id := r.opAt(ms, "edge", "edge="+name)
	r.replyAt(ms+0.05, "edge", id, ok)
}

// connect: the instance accepts the router's connection at ms; the view has it
// connected 0.5ms later.
func (r *rt) connect(ms float64, inst string) {
	r.conns[inst]++
	c := fmt.Sprintf("%s#%d", inst, r.conns[inst])
	r.live[inst] = c
	r.add(ev(ms, "route.connect", "server="+inst, "conn="+c, "router=r"),
		cev(ms+0.5, "instance", "server="+inst, "state=connected", "bytes=0"))
}

// cut: a cut on inst's link at ms; the instance sees its connection close
// 0.5ms later, the router 1ms later.
func (r *rt) cut(ms float64, inst string) {
	r.add(ev(ms, "fault.on", "link="+inst, "verb=cut", "id=f"+inst),
		ev(ms+0.5, "conn.close", "server="+inst, "conn="+r.live[inst], "reason=transport"),
		cev(ms+1, "instance", "server="+inst, "state=disconnected", "bytes=0"))
}

// heal ends the cut at ms; the router is back 5ms later.
func (r *rt) heal(ms float64, inst string) {
	r.add(ev(ms, "fault.off", "link="+inst, "verb=cut", "id=f"+inst))
	r.connect(ms+5, inst)
}

func (r *rt) view(ms float64, inst, state string, bytes int) {
	r.add(cev(ms, "instance", "server="+inst, "state="+state, "bytes="+strconv.Itoa(bytes)))
}

// sendOp is an edge's send op for part of parts (message msg, "" for part 1)
// with its reply; it returns the op's id.
func (r *rt) sendOp(ms float64, msg string, part, parts, bytes int, ok bool) string {
	id := strconv.Itoa(r.op + 1)
	if msg == "" {
		msg = id
	}
	r.opAt(ms, "send", "edge=e1", "message="+msg, "part="+strconv.Itoa(part), "parts="+strconv.Itoa(parts), "bytes="+strconv.Itoa(bytes))
	r.replyAt(ms+0.2, "send", id, ok)
	return id
}

func (r *rt) route(ms float64, msg string, part, parts int, inst string) {
	r.add(cev(ms, "route", "server="+inst, "id="+msg, "part="+strconv.Itoa(part), "parts="+strconv.Itoa(parts), "edge=e1"))
}

func (r *rt) recv(ms float64, msg string, part, parts int, inst string, bytes int) {
	r.add(ev(ms, "route.receive", "server="+inst, "conn="+r.live[inst], "id="+msg, "part="+strconv.Itoa(part),
		"parts="+strconv.Itoa(parts), "edge=e1", "bytes="+strconv.Itoa(bytes)))
}

func (r *rt) resp(ms float64, msg string, status int, inst string) {
	kv := []string{"id=" + msg, "status=" + strconv.Itoa(status), "edge=e1"}
	if inst != "" {
		kv = append(kv, "server="+inst)
	}
	r.add(cev(ms, "response", kv...))
}

// send: a single message at ms routed to inst (received 0.5ms later, answered
// 200 1ms later), or, when inst is "", answered 500 at once.
func (r *rt) send(ms float64, inst string) string {
	id := r.sendOp(ms, "", 1, 1, 100, true)
	if inst == "" {
		r.resp(ms+0.1, id, 500, "")
		return id
	}
	r.route(ms+0.1, id, 1, 1, inst)
	r.recv(ms+0.5, id, 1, 1, inst, 150)
	r.resp(ms+1, id, 200, inst)
	return id
}

// sends: one message every 10ms from ms, to each instance in turn.
func (r *rt) sends(ms float64, insts ...string) float64 {
	for _, in := range insts {
		r.send(ms, in)
		ms += 10
	}
	return ms
}

func (r *rt) hist() history.History {
	h := append(history.History(nil), r.evs...)
	sort.SliceStable(h, func(i, j int) bool { return h[i].T < h[j].T })
	return h
}

// runRouteCases is runCases with a routing scenario by default.
func runRouteCases(t *testing.T, n int, cases []tcase) {
	t.Helper()
	for i := range cases {
		if cases[i].sc == nil {
			cases[i].sc = rscen(n)
		}
	}
	runCases(t, cases)
}

func TestRoutingCheckersRegistered(t *testing.T) {
	for _, n := range []string{"round_robin", "skip_ineligible", "unavailable_500", "edges_closed", "chunk_affinity", "discovery_membership"} {
		c, ok := New(n)
		if !ok {
			t.Fatalf("%s is not registered", n)
		}
		if v, ok := c.(validator); ok {
			if err := v.Validate(); err != nil {
				t.Errorf("%s: defaults do not validate: %v", n, err)
			}
		}
		if r := c.Check(Input{History: newRT("s1").hist(), Scenario: scen()}); r.Verdict != Failed || r.Detail != "not a routing scenario: the client has no router block" {
			t.Errorf("%s on a session scenario: %s %s", n, r.Verdict, r.Detail)
		}
		if r := c.Check(Input{History: newRT("s1", "s2").hist(), Scenario: rscen(2)}); r.Verdict != Unknown {
			t.Errorf("%s with nothing routed: %s %s", n, r.Verdict, r.Detail)
		}
	}
}
