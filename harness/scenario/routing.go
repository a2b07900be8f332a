package scenario

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Routing (the ThingWorx Connection Server family, T1–T6; docs/requirements.md): a client with a router block is a router, an
// engine connected upstream to platform instances (servers of kind
// "instance", each behind its own link) that the harness feeds with ingress
// messages as edge connections.
//
//	servers:
//	  - {name: s1, kind: instance, ping: 100ms}
//	client:
//	  servers: [s1, s2]            # the discovery's initial members: the circular list, in order
//	  liveness: 300ms              # silence that loses an instance (default 2 × its ping)
//	  router: {high_watermark: 16KiB, low_watermark: 8KiB, send_buffer: 16KiB,
//	           retry: 100ms, request_timeout: 2s, edges: [e1]}
//	steps:
//	  - {at: 0s, client: connect}                 # starts the router and opens router.edges
//	  - {at: 1s, client: {send: {count: 100, every: 5ms, chunks: 3, chunk_every: 10ms, size: 512, edge: e1}}}
//	  - {at: 2s, client: {edge: e2}}              # opens another edge connection
//	  - {at: 2s, discovery: {add: s3}}            # service discovery: s3 joins
//	  - {at: 3s, discovery: {remove: s1}}         # s1 leaves

// Router is a client's router block.
type Router struct {
	HighWatermark  Bytes         `json:"high_watermark,omitempty"`  // default 64KiB (ThingWorx)
	LowWatermark   Bytes         `json:"low_watermark,omitempty"`   // default 32KiB, or half the high mark when that is lower
	SendBuffer     Bytes         `json:"send_buffer,omitempty"`     // SO_SNDBUF of instance connections; 0: the OS's
	Retry          time.Duration `json:"retry,omitempty"`           // redial delay of a lost instance; default 100ms
	RequestTimeout time.Duration `json:"request_timeout,omitempty"` // default 10s (ThingWorx)
	Edges          []string      `json:"edges,omitempty"`           // edge connections opened at connect; default [e1]
}

// Routing defaults.
const (
	DefaultHighWatermark  = Bytes(64 << 10)
	DefaultLowWatermark   = Bytes(32 << 10)
	DefaultRetry          = 100 * time.Millisecond
	DefaultRequestTimeout = 10 * time.Second
	DefaultEdge           = "e1"
)

// DiscoveryStep is a service-discovery action: exactly one of Add, Remove
// (a server of kind instance).
type DiscoveryStep struct {
	Add    string `json:"add,omitempty"`
	Remove string `json:"remove,omitempty"`
}

// Name is the instance the step adds or removes.
func (d DiscoveryStep) Name() string { return d.Add + d.Remove }

// Bytes is a size in bytes, written as an integer or with a unit: B, KiB,
// MiB, KB (1000), MB.
type Bytes int

var bytesRe = regexp.MustCompile(`^([0-9]+)\s*(B|KiB|MiB|KB|MB|kB)?$`)

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *Bytes) UnmarshalText(text []byte) error {
	m := bytesRe.FindStringSubmatch(strings.TrimSpace(string(text)))
	if m == nil {
		return fmt.Errorf("want a size like 16384, 16KiB or 1MiB")
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return err
	}
	mul := map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "KB": 1000, "kB": 1000, "MB": 1000 * 1000}[m[2]]
	if n > (1<<31)/mul {
		return fmt.Errorf("too large")
	}
	*b = Bytes(n * mul)
	return nil
}

// IsRouter reports whether the client is a router.
func (c Client) IsRouter() bool { return c.Router != nil }

// High is the router's high watermark with its default.
func (r Router) High() int {
	if r.HighWatermark > 0 {
		return int(r.HighWatermark)
	}
	return int(DefaultHighWatermark)
}

// Low is the router's low watermark with its default.
func (r Router) Low() int {
	if r.LowWatermark > 0 {
		return int(r.LowWatermark)
	}
	if d := int(DefaultLowWatermark); d <= r.High() {
		return d
	}
	return r.High() / 2
}

// RetryDelay is the redial delay with its default.
func (r Router) RetryDelay() time.Duration {
	if r.Retry > 0 {
		return r.Retry
	}
	return DefaultRetry
}

// Timeout is the request timeout with its default.
func (r Router) Timeout() time.Duration {
	if r.RequestTimeout > 0 {
		return r.RequestTimeout
	}
	return DefaultRequestTimeout
}

// EdgeNames are the edges opened at connect, with the default.
func (r Router) EdgeNames() []string {
	if len(r.Edges) > 0 {
		return r.Edges
	}
	return []string{DefaultEdge}
}

// InstanceLiveness is the silence after which the router loses an instance:
// client.liveness, else 2 × the instance's ping period.
func (c Client) InstanceLiveness(s Server) time.Duration { return c.IdleBound(s) }

// sendRouting are the send op's routing keys (decoded with the others).
type sendRouting struct {
	Edge       string        `yaml:"edge"`
	Chunks     int           `yaml:"chunks"`
	ChunkEvery time.Duration `yaml:"chunk_every"`
	Size       Bytes         `yaml:"size"`
}

var edgeName = regexp.MustCompile(`^[a-z0-9_-]+$`)

func init() {
	stepKeys["discovery"] = "discovery"
	stepKinds = append(stepKinds, "discovery")
	clientOps = append(clientOps, "edge")
}

// edgeOp decodes {edge: name}: open an edge connection on the router.
func (p *parser) edgeOp(cs *ClientStep, op pair) {
	cs.Op = "edge"
	done := p.mark()
	p.value(op.val, reflect.ValueOf(&cs.Edge).Elem(), "client.edge", "json")
	if done() && !edgeName.MatchString(cs.Edge) {
		p.errorf(op.val, "bad edge name %q: use [a-z0-9_-]+", cs.Edge)
	}
}

// sendRoutingArgs checks a send's routing keys once decoded (sc's client
// block is known: it is decoded before the steps).
func (p *parser) routingClientStep(sc *Scenario, st *Step, byKey map[string]pair) {
	cs := st.Client
	val := byKey["client"].val
	switch cs.Op {
	case "edge":
		if !sc.Client.IsRouter() {
			p.errorf(lookup(val, "edge"), "client edge opens an edge connection on a router: it needs client.router")
		}
	case "send":
		send := lookup(val, "send")
		for _, k := range []string{"edge", "chunks", "chunk_every", "size"} {
			if n := lookup(send, k); n != nil && !sc.Client.IsRouter() {
				p.errorf(lookupKey(send, k), "send %s is for a router: it needs client.router", k)
			}
		}
		if n := lookup(send, "chunks"); n != nil && cs.Chunks < 1 {
			p.errorf(n, "send chunks must be at least 1, got %d", cs.Chunks)
		}
		if n := lookup(send, "chunk_every"); n != nil && cs.Chunks < 2 {
			p.errorf(lookupKey(send, "chunk_every"), "chunk_every spaces the parts of a multi-part message: it needs chunks of at least 2")
		}
		if n := lookup(send, "edge"); n != nil && cs.Edge != "" && !edgeName.MatchString(cs.Edge) {
			p.errorf(n, "bad edge name %q: use [a-z0-9_-]+", cs.Edge)
		}
		if sc.Client.IsRouter() && cs.Edge == "" {
			cs.Edge = sc.Client.Router.EdgeNames()[0]
		}
	}
}

// lookupKey is the key node of key in mapping n, or nil.
func lookupKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// discoveryStep decodes {discovery: {add: s3}} or {discovery: {remove: s1}}.
func (p *parser) discoveryStep(sc *Scenario, st *Step, byKey map[string]pair) {
	kv := byKey["discovery"]
	st.Discovery = &DiscoveryStep{}
	done := p.mark()
	p.mapping(kv.val, reflect.ValueOf(st.Discovery).Elem(), "discovery", "discovery", "json")
	if !done() {
		return
	}
	d := st.Discovery
	switch {
	case d.Add != "" && d.Remove != "":
		p.errorf(lookupKey(kv.val, "remove"), "discovery step has both add and remove: use one step each")
		return
	case d.Add == "" && d.Remove == "":
		p.errorf(kv.val, "discovery step needs add or remove (an instance's name)")
		return
	}
	key := "add"
	if d.Remove != "" {
		key = "remove"
	}
	n := lookup(kv.val, key)
	if !sc.Client.IsRouter() {
		// A client library's own resolver (gRPC: a channel's resolver
		// update): its list of servers grows or shrinks at run time.
		p.serverRef(sc, n, d.Name(), "server")
		if s, ok := sc.Server(d.Name()); ok && s.Kind == "instance" {
			p.errorf(n, "discovery %s %q: an instance joins a router (client.router), not a client library's list", key, d.Name())
		}
		return
	}
	p.serverRef(sc, n, d.Name(), "instance")
	if s, ok := sc.Server(d.Name()); ok && s.Kind != "instance" {
		p.errorf(n, "discovery %s %q: it is a %s server, not an instance", key, d.Name(), s.Kind)
	}
}

// membership follows the members of a list (a router's instances, a
// client library's servers) along the timeline's discovery steps: adding a
// member or removing a non-member is an error.
func (p *parser) membership(sc *Scenario, members map[string]bool, st Step) {
	if st.Discovery == nil || (st.Discovery.Add == "") == (st.Discovery.Remove == "") {
		return
	}
	name := st.Discovery.Name()
	if st.Discovery.Add != "" && members[name] {
		p.errs = append(p.errs, Error{Pos: st.Pos, Msg: fmt.Sprintf("discovery add %q at %s: it is a member already", name, st.At)})
	}
	if st.Discovery.Remove != "" && !members[name] {
		p.errs = append(p.errs, Error{Pos: st.Pos, Msg: fmt.Sprintf("discovery remove %q at %s: it is no member then", name, st.At)})
	}
	members[name] = st.Discovery.Add != ""
}

// routing checks what needs the whole file: the router block against the
// servers and clients, membership along the timeline, and the edges sends
// name. It runs after every section is decoded.
func (p *parser) routing(sc *Scenario, top map[string]pair) {
	clientKV, ok := top["client"]
	if !ok {
		return
	}
	c := &sc.Client
	if !c.IsRouter() {
		members := map[string]bool{}
		for i, name := range c.Servers {
			if s, ok := sc.Server(name); ok && s.Kind == "instance" {
				p.errorf(or(itemNode(lookup(clientKV.val, "servers"), i), clientKV.key),
					"server %q is an instance: only a router (client.router) connects to instances", name)
			}
			members[name] = true
		}
		for _, st := range sc.Steps {
			p.membership(sc, members, st)
		}
		return
	}
	rn := lookup(clientKV.val, "router")
	node := func(key string) *yaml.Node { return or(lookup(rn, key), rn) }
	r := c.Router
	if r.HighWatermark < 0 || r.LowWatermark < 0 || r.SendBuffer < 0 {
		p.errorf(rn, "router sizes must not be negative")
	}
	if r.High() < r.Low() {
		p.errorf(node("low_watermark"), "low_watermark %d is above high_watermark %d", r.Low(), r.High())
	}
	if n := lookup(clientKV.val, "reconnect"); n != nil {
		p.errorf(lookupKey(clientKV.val, "reconnect"), "a router redials lost instances every router.retry: reconnect does not apply")
	}
	if n := lookup(clientKV.val, "failover"); n != nil {
		p.errorf(lookupKey(clientKV.val, "failover"), "a router routes over every instance: failover does not apply")
	}
	if sc.Clients > 1 {
		p.errorf(or(top["clients"].val, rn), "a router scenario has one router: clients must be 1 (got %d)", sc.Clients)
	}
	edgesNode := lookup(rn, "edges")
	open := map[string]bool{}
	for i, e := range r.EdgeNames() {
		at := or(itemNode(edgesNode, i), rn)
		switch {
		case !edgeName.MatchString(e):
			p.errorf(at, "bad edge name %q: use [a-z0-9_-]+", e)
		case open[e]:
			p.errorf(at, "edge %q is listed twice", e)
		}
		open[e] = true
	}
	servers := lookup(clientKV.val, "servers")
	members := map[string]bool{}
	for i, name := range c.Servers {
		if s, ok := sc.Server(name); ok && s.Kind != "instance" {
			p.errorf(or(itemNode(servers, i), clientKV.key), "a router routes to instances (kind: instance): server %q is a %s server", name, s.Kind)
		}
		members[name] = true
	}
	// Membership and edges along the timeline (steps are sorted by at).
	for _, st := range sc.Steps {
		at := st.Pos
		switch {
		case st.Discovery != nil:
			p.membership(sc, members, st)
		case st.Client != nil && st.Client.Op == "edge":
			open[st.Client.Edge] = true
		case st.Client != nil && st.Client.Op == "send":
			if !open[st.Client.Edge] {
				p.errs = append(p.errs, Error{Pos: at, Msg: fmt.Sprintf("send on edge %q at %s: no edge of that name is opened before (router.edges or a client edge step)", st.Client.Edge, st.At)})
			}
			cs := st.Client
			last := st.At + time.Duration(max(cs.Count, 1)-1)*cs.Every + time.Duration(max(cs.Chunks, 1)-1)*cs.ChunkEvery
			if end, timeout := sc.End(), c.Router.Timeout(); last+timeout > end {
				p.errs = append(p.errs, Error{Pos: at, Msg: fmt.Sprintf("the sends of this step run until %s and the run ends at %s: set duration to leave router.request_timeout (%s) after them, so that every answer is due", last, end, timeout)})
			}
		}
	}
}

// itemNode is the i-th item of sequence n, or nil.
func itemNode(n *yaml.Node, i int) *yaml.Node {
	if n == nil {
		return nil
	}
	n = deref(n)
	if n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return nil
	}
	return n.Content[i]
}
