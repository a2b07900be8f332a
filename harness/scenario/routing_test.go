package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func routingRegistry() Registry {
	reg := testRegistry()
	reg.Kinds = []string{"instance", "session"}
	return reg
}

// rhead is a valid router scenario's first lines (1-7); cases append steps
// from line 8 on.
const rhead = `covers: [T1]
servers: [{name: s1, kind: instance}, {name: s2, kind: instance}, {name: s3, kind: instance}, {name: x, kind: session}]
client:
  servers: [s1, s2]
  router: {high_watermark: 16KiB, low_watermark: 8KiB, request_timeout: 100ms}
steps:
  - {at: 0s, client: connect}
`

const rtail = `expect:
  - {check: session_preserved, requirement: T1}
`

func TestRoutingGood(t *testing.T) {
	src := rhead + `  - {at: 100ms, client: {send: {count: 10, every: 20ms, chunks: 3, chunk_every: 5ms, size: 1KiB}}}
  - {at: 200ms, discovery: {add: s3}}
  - {at: 300ms, client: {edge: e2}}
  - {at: 400ms, client: {send: {count: 2, edge: e2}}}
  - {at: 500ms, discovery: {remove: s1}}
` + rtail
	sc, err := Parse("good.yaml", []byte(src), routingRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r := sc.Client.Router
	if !sc.Client.IsRouter() || r.High() != 16<<10 || r.Low() != 8<<10 || r.RetryDelay() != DefaultRetry ||
		r.Timeout() != 100*time.Millisecond || strings.Join(r.EdgeNames(), ",") != "e1" {
		t.Errorf("router block: %+v", r)
	}
	send := sc.Steps[1].Client
	if send.Edge != "e1" || send.Chunks != 3 || send.ChunkEvery != 5*time.Millisecond || send.Size != 1024 || send.Count != 10 {
		t.Errorf("send: %+v", send)
	}
	if d := sc.Steps[2].Discovery; d == nil || d.Add != "s3" || d.Name() != "s3" {
		t.Errorf("discovery add: %+v", sc.Steps[2])
	}
	if c := sc.Steps[3].Client; c.Op != "edge" || c.Edge != "e2" {
		t.Errorf("edge: %+v", c)
	}
	if c := sc.Steps[4].Client; c.Edge != "e2" {
		t.Errorf("send on e2: %+v", c)
	}
	if d := sc.Steps[5].Discovery; d == nil || d.Remove != "s1" {
		t.Errorf("discovery remove: %+v", sc.Steps[5])
	}
}

func TestRoutingDefaults(t *testing.T) {
	var r Router
	if r.High() != 64<<10 || r.Low() != 32<<10 {
		t.Errorf("ThingWorx's marks are 64 KiB / 32 KiB, got %d / %d", r.High(), r.Low())
	}
	r.HighWatermark = 16 << 10
	if r.Low() != 8<<10 {
		t.Errorf("a high mark below 32 KiB halves for the low one, got %d", r.Low())
	}
	for in, want := range map[string]int{"4096": 4096, "4KiB": 4096, "4KB": 4000, "1MiB": 1 << 20, "7B": 7} {
		var b Bytes
		if err := b.UnmarshalText([]byte(in)); err != nil || int(b) != want {
			t.Errorf("%q: %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"-1", "4 KiBs", "lots", "99999999999MiB"} {
		var b Bytes
		if err := b.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q parsed as %d", in, b)
		}
	}
}

func TestRoutingBadFiles(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"send chunks below 1", rhead + "  - {at: 1s, client: {send: {chunks: 0}}}\n" + rtail,
			`bad.yaml:8:38: send chunks must be at least 1, got 0`},
		{"bad size", rhead + "  - {at: 1s, client: {send: {size: big}}}\n" + rtail,
			`bad.yaml:8:36: bad value "big" for send.size: want a size like 16384, 16KiB or 1MiB`},
		{"chunk_every without chunks", rhead + "  - {at: 1s, client: {send: {chunk_every: 5ms}}}\n" + rtail,
			`bad.yaml:8:30: chunk_every spaces the parts of a multi-part message: it needs chunks of at least 2`},
		{"send on an edge never opened", rhead + "  - {at: 1s, client: {send: {edge: e9}}}\n" + rtail,
			`bad.yaml:8:5: send on edge "e9" at 1s: no edge of that name is opened before (router.edges or a client edge step)`},
		{"send on an edge opened later", rhead + "  - {at: 1s, client: {send: {edge: e2}}}\n  - {at: 2s, client: {edge: e2}}\n" + rtail,
			`bad.yaml:8:5: send on edge "e2" at 1s: no edge of that name is opened before (router.edges or a client edge step)`},
		{"edge without a name", rhead + "  - {at: 1s, client: edge}\n" + rtail,
			`bad.yaml:8:22: client edge needs its argument: {edge: ...}`},
		{"bad edge name", rhead + "  - {at: 1s, client: {edge: E2}}\n" + rtail,
			`bad.yaml:8:29: bad edge name "E2": use [a-z0-9_-]+`},
		{"add a member", rhead + "  - {at: 1s, discovery: {add: s1}}\n" + rtail,
			`bad.yaml:8:5: discovery add "s1" at 1s: it is a member already`},
		{"remove a non-member", rhead + "  - {at: 1s, discovery: {remove: s3}}\n" + rtail,
			`bad.yaml:8:5: discovery remove "s3" at 1s: it is no member then`},
		{"discovery of a session server", rhead + "  - {at: 1s, discovery: {add: x}}\n" + rtail,
			`bad.yaml:8:31: discovery add "x": it is a session server, not an instance`},
		{"discovery of an unknown server", rhead + "  - {at: 1s, discovery: {add: s9}}\n" + rtail,
			`bad.yaml:8:31: unknown instance "s9" (declared servers: s1, s2, s3, x)`},
		{"discovery with both", rhead + "  - {at: 1s, discovery: {add: s3, remove: s1}}\n" + rtail,
			`bad.yaml:8:35: discovery step has both add and remove: use one step each`},
		{"discovery with neither", rhead + "  - {at: 1s, discovery: {}}\n" + rtail,
			`bad.yaml:8:25: discovery step needs add or remove (an instance's name)`},
		{"discovery typo", rhead + "  - {at: 1s, discovery: {ad: s3}}\n" + rtail,
			`bad.yaml:8:26: unknown key "ad" in discovery (did you mean "add"?)`},
		{"discovery and client in one step", rhead + "  - {at: 1s, discovery: {add: s3}, client: close}\n" + rtail,
			`bad.yaml:8:36: step has both discovery and client: a step is exactly one of client, server or link`},
		{"router typo", strings.Replace(rhead, "low_watermark", "low_watermrk", 1) + rtail,
			`bad.yaml:5:35: unknown key "low_watermrk" in client.router (did you mean "low_watermark"?)`},
		{"low above high", strings.Replace(rhead, "low_watermark: 8KiB", "low_watermark: 32KiB", 1) + rtail,
			`bad.yaml:5:50: low_watermark 32768 is above high_watermark 16384`},
		{"router to a session server", strings.Replace(rhead, "servers: [s1, s2]", "servers: [s1, x]", 1) + rtail,
			`bad.yaml:4:17: a router routes to instances (kind: instance): server "x" is a session server`},
		{"reconnect on a router", strings.Replace(rhead, "  router:", "  reconnect: {timeout: 1s}\n  router:", 1) + rtail,
			`bad.yaml:5:3: a router redials lost instances every router.retry: reconnect does not apply`},
		{"two routers", "clients: 2\n" + rhead + rtail,
			`bad.yaml:1:10: a router scenario has one router: clients must be 1 (got 2)`},
		{"duplicate edges", strings.Replace(rhead, "request_timeout: 100ms}", "request_timeout: 100ms, edges: [a, a]}", 1) + rtail,
			`bad.yaml:5:91: edge "a" is listed twice`},
		{"routing keys without a router", "covers: [T1]\nservers: [{name: s1}]\nclient: {servers: [s1]}\nsteps:\n  - {at: 0s, client: {send: {chunks: 2}}}\n" + rtail,
			`bad.yaml:5:30: send chunks is for a router: it needs client.router`},
		{"an instance to a client library's list", "covers: [T1]\nservers: [{name: s1}, {name: s2, kind: instance}]\nclient: {servers: [s1]}\nsteps:\n  - {at: 0s, discovery: {add: s2}}\n" + rtail,
			`bad.yaml:5:31: discovery add "s2": an instance joins a router (client.router), not a client library's list`},
		{"a client library's member added", "covers: [T1]\nservers: [{name: s1}, {name: s2}]\nclient: {servers: [s1, s2]}\nsteps:\n  - {at: 0s, discovery: {add: s2}}\n" + rtail,
			`bad.yaml:5:5: discovery add "s2" at 0s: it is a member already`},
		{"a client library's non-member removed", "covers: [T1]\nservers: [{name: s1}, {name: s2}]\nclient: {servers: [s1]}\nsteps:\n  - {at: 0s, discovery: {remove: s2}}\n" + rtail,
			`bad.yaml:5:5: discovery remove "s2" at 0s: it is no member then`},
		{"instance without a router", "covers: [T1]\nservers: [{name: s1, kind: instance}]\nclient: {servers: [s1]}\n" + rtail,
			`bad.yaml:3:20: server "s1" is an instance: only a router (client.router) connects to instances`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("bad.yaml", []byte(tc.src), routingRegistry())
			if sc != nil {
				t.Errorf("a bad file gave a scenario")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %v (%T) is not Errors", err, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("source:\n%s\ngot:\n%s\nwant:\n%s", tc.src, got, tc.want)
			}
		})
	}
}

func TestRoutingSendsMustEndBeforeTheRun(t *testing.T) {
	src := strings.Replace(rhead, "request_timeout: 100ms", "request_timeout: 1s", 1) + "  - {at: 1s, client: {send: {count: 100, every: 10ms}}}\nduration: 2500ms\n" + rtail
	_, err := Parse("bad.yaml", []byte(src), routingRegistry())
	want := `bad.yaml:8:5: the sends of this step run until 1.99s and the run ends at 2.5s: set duration to leave router.request_timeout (1s) after them, so that every answer is due`
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
}
