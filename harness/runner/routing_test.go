package runner

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

const routedSrc = `
name: routed
covers: [T1]
servers:
  - {name: s1, kind: instance}
  - {name: s2, kind: instance}
  - {name: s3, kind: instance}
client:
  servers: [s1, s2]
  router: {edges: [e1], request_timeout: 100ms}
steps:
  - {at: 0s, client: connect}
  - {at: 50ms, client: {send: {count: 6, every: 80ms, chunks: 2, chunk_every: 10ms, size: 64}}}
  - {at: 90ms, discovery: {add: s3}}
  - {at: 170ms, client: {edge: e2}}
  - {at: 250ms, discovery: {remove: s1}}
duration: 700ms
expect:
  - {check: round_robin, requirement: T1}
`

// A router's timeline: sends are interleaved by time with the steps that
// come while they flow, parts carry their message's id, and the router's
// events are recorded with their attributes.
func TestRouterTimeline(t *testing.T) {
	sc := load(t, routedSrc)
	var mu sync.Mutex
	var ops []driver.Op
	factory := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return &stub{hello: driver.Hello{SDK: "stub", Features: []string{driver.FeatRouting}},
			do: func(ctx context.Context, op driver.Op) (driver.Reply, error) {
				mu.Lock()
				ops = append(ops, op)
				mu.Unlock()
				if op.Op == driver.OpSend && op.Part <= 1 {
					sink(driver.Event{Type: driver.EvRoute, ID: op.ID, Part: 1, Parts: max(op.Chunks, 1), Edge: op.Edge, Server: "ws://elsewhere/"})
				}
				return driver.Reply{Re: op.ID, OK: true}, nil
			}}, nil
	}
	res := Run(context.Background(), sc, Config{Driver: factory, OpTimeout: time.Second, Teardown: time.Second})
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	var seq []string
	first := map[int64]bool{}
	for _, op := range ops {
		s := op.Op
		switch op.Op {
		case driver.OpSend:
			s += "." + string(rune('0'+op.Part))
			var p string
			if err := json.Unmarshal(op.Payload, &p); err != nil || len(p) != 64 {
				t.Errorf("payload %s: want 64 bytes", op.Payload)
			}
			if op.Part == 1 {
				first[op.ID] = true
			} else if !first[op.Message] || op.Chunks != 2 {
				t.Errorf("part %d names message %d (chunks %d): want a part 1's id", op.Part, op.Message, op.Chunks)
			}
		case driver.OpEdge:
			s += "." + op.Edge
		case driver.OpDiscoveryAdd, driver.OpDiscoveryRemove:
			if len(op.Servers) != 1 || !strings.HasPrefix(op.Servers[0], "ws://") {
				t.Errorf("%s servers %v", op.Op, op.Servers)
			}
		}
		seq = append(seq, s)
	}
	// messages at 50, 130, 210, 290, 370, 450ms, their second parts 10ms later
	want := "connect edge.e1 send.1 send.2 discovery.add send.1 send.2 edge.e2 send.1 send.2 discovery.remove send.1 send.2 send.1 send.2 send.1 send.2"
	if got := strings.Join(seq, " "); got != want {
		t.Errorf("ops:\n got %s\nwant %s", got, want)
	}
	var route, op = 0, 0
	for _, e := range res.History {
		switch {
		case e.Kind == driver.EvRoute:
			route++
			if e.Attr("part") != "1" || e.Attr("parts") != "2" || e.Attr("edge") != "e1" || e.Attr("id") == "" {
				t.Errorf("route event %v", e)
			}
		case e.Kind == "op" && e.Op == driver.OpSend:
			op++
			if e.Attr("message") == "" || e.Attr("bytes") != "66" || e.Attr("edge") != "e1" {
				t.Errorf("op event %v", e)
			}
		case e.Kind == "op" && e.Op == driver.OpDiscoveryAdd:
			if e.Server != "s3" {
				t.Errorf("discovery op names %q, want s3", e.Server)
			}
		}
	}
	if route != 6 || op != 12 {
		t.Errorf("%d route events, %d send ops: want 6 and 12", route, op)
	}
}
