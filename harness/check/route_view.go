package check

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// The routing view (T1–T6): a history of a router scenario indexed for the
// routing checkers. Three kinds of record meet in it:
//
//   - harness: the ops that fed the router (send with its id, edge, part and
//     payload bytes; edge; discovery.add/remove naming the instance) and
//     their replies;
//   - server: what each instance saw (route.connect and conn.close of the
//     router's connections; route.receive of every part, with its frame's
//     bytes); link: the faults in force;
//   - client: the router's own view, in decision order (route, response,
//     instance, edge events).
//
// The checkers replay the router's view to judge its decisions exactly (a
// round robin is only exact against the view it decided on), and judge the
// view itself against the servers and links: who really received what, who
// was really connected, and how many bytes were really in flight towards an
// instance it called unwritable.

// Kinds the routing records use (see packs/platform/EVENTS.md).
const (
	kindRouteConnect = "route.connect"
	kindRouteReceive = "route.receive"
	kindRoute        = driver.EvRoute
	kindResponse     = driver.EvResponse
	kindInstance     = driver.EvInstance
	kindEdge         = driver.EvEdge
)

// Router view states (instance events).
const (
	stAdded        = "added"
	stRemoved      = "removed"
	stConnected    = "connected"
	stDisconnected = "disconnected"
	stWritable     = "writable"
	stUnwritable   = "unwritable"
)

// The lag is how far apart the router's and an instance's (or a link's)
// records of one change of a connection may be: an instance records
// route.connect before its welcome leaves and the router counts it connected
// once the welcome is read; either side may see a broken connection first.
// By default it is the router's own liveness bound (client.liveness, else
// 2 × the instances' ping): a router may be as late in noticing a change as
// it is allowed to be in noticing a silent instance.
func routerLiveness(sc *scenario.Scenario) time.Duration {
	var live time.Duration
	for _, s := range sc.Servers {
		if s.Kind == "instance" {
			live = max(live, sc.Client.InstanceLiveness(s))
		}
	}
	if live == 0 {
		live = sc.Client.IdleBound(scenario.Server{})
	}
	return live
}

// rpart is one part of an ingress message, as every side saw it.
type rpart struct {
	msg   *rmsg
	part  int
	op    history.Event  // harness op send
	reply *history.Event // harness reply (nil: none)
	bytes int            // payload bytes (harness)
	route *history.Event // the router's claim
	recvs []history.Event
}

func (p *rpart) accepted() bool { return p.reply != nil && p.reply.OK }

// rmsg is one ingress message: its parts and the answers it got.
type rmsg struct {
	id    string
	edge  string
	parts int
	p     []*rpart // by part-1; nil when that part's op is missing
	resps []history.Event
}

func (m *rmsg) first() *rpart {
	if len(m.p) == 0 {
		return nil
	}
	return m.p[0]
}

// resp is the message's (first) answer.
func (m *rmsg) resp() (history.Event, bool) {
	if len(m.resps) == 0 {
		return history.Event{}, false
	}
	return m.resps[0], true
}

func (m *rmsg) status() int {
	r, ok := m.resp()
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(r.Attr("status"))
	return n
}

// connSpan is one router connection as an instance saw it.
type connSpan struct {
	server, conn string
	open         history.Event
	close        *history.Event
}

// discOp is one discovery op of the harness.
type discOp struct {
	add   bool
	name  string
	op    history.Event
	reply *history.Event
}

// edgeOp is one edge op of the harness.
type edgeOp struct {
	name  string
	op    history.Event
	reply *history.Event
}

// routeView is a router scenario's history indexed for the T checkers, on
// the shared base (base.go: fault spans, the run's evidence lag — streamed
// receipts are stamped late —, memo); ops and their replies come from the
// shared completions (completions.go).
type routeView struct {
	base
	high, low int
	live      time.Duration // how far apart the router's and an instance's records of one change may be (routerLiveness)
	msgs      map[string]*rmsg
	order     []*rmsg // by part 1's op
	parts     map[string]*rpart
	spans     map[string][]*connSpan // per instance
	disc      []discOp
	edges     []edgeOp
	sends     []*rpart        // every send op, in order
	router    []history.Event // client events of the router, in order
	overhead  int             // frame bytes − payload bytes, the largest seen
	instances []string        // servers of kind instance
	strays    []history.Event // receipts of parts no op sent
}

func partKey(id string, part int) string { return id + "/" + strconv.Itoa(part) }

// beginRoute is the T checkers' prologue: the same admission as begin, a
// routing scenario, and the routing view on the same base. live is the
// check's lag parameter (default: routerLiveness).
func beginRoute(in Input, cfg any, live *time.Duration) (*routeView, Result, bool) {
	if r, ok := admit(in, cfg); !ok {
		return nil, r, false
	}
	if in.Scenario.Client.Router == nil {
		return nil, Fail(0, nil, "not a routing scenario: the client has no router block"), false
	}
	return newRouteView(in.History, in.Scenario, or(live, routerLiveness(in.Scenario))), Result{}, true
}

// onRouteView is a T checker's Check, as onView.
func onRouteView(in Input, cfg any, live *time.Duration, check func(*routeView) Result) Result {
	v, r, ok := beginRoute(in, cfg, live)
	if !ok {
		return r
	}
	return check(v)
}

func newRouteView(h history.History, sc *scenario.Scenario, live time.Duration) *routeView {
	v := &routeView{base: newBase(h, sc), live: live, high: sc.Client.Router.High(), low: sc.Client.Router.Low(),
		msgs: map[string]*rmsg{}, parts: map[string]*rpart{}, spans: map[string][]*connSpan{}}
	for _, s := range sc.Servers {
		if s.Kind == "instance" {
			v.instances = append(v.instances, s.Name)
		}
	}
	// The router's feed: client 0's ops, in op order.
	for _, c := range v.completions()[0] {
		e := c.Op
		switch e.Op {
		case driver.OpSend:
			id := e.Attr("message")
			part, _ := strconv.Atoi(e.Attr("part"))
			parts, _ := strconv.Atoi(e.Attr("parts"))
			part, parts = max(part, 1), max(parts, 1)
			m := v.msgs[id]
			if m == nil {
				m = &rmsg{id: id, edge: e.Attr("edge"), parts: parts, p: make([]*rpart, parts)}
				v.msgs[id] = m
				v.order = append(v.order, m)
			}
			b, _ := strconv.Atoi(e.Attr("bytes"))
			p := &rpart{msg: m, part: part, op: e, reply: c.Reply, bytes: b}
			if part <= len(m.p) {
				m.p[part-1] = p
			}
			v.parts[partKey(id, part)] = p
			v.sends = append(v.sends, p)
		case driver.OpDiscoveryAdd, driver.OpDiscoveryRemove:
			v.disc = append(v.disc, discOp{add: e.Op == driver.OpDiscoveryAdd, name: e.Server, op: e, reply: c.Reply})
		case driver.OpEdge:
			v.edges = append(v.edges, edgeOp{name: e.Attr("edge"), op: e, reply: c.Reply})
		}
	}
	spanOf := map[string]*connSpan{}
	for _, e := range h {
		switch {
		case e.Source == history.SrcClient && e.Client == 0 && (e.Kind == kindRoute || e.Kind == kindResponse || e.Kind == kindInstance || e.Kind == kindEdge):
			v.router = append(v.router, e)
		case e.Kind == kindRouteConnect:
			s := &connSpan{server: e.Server, conn: e.Conn, open: e}
			spanOf[connKey(e.Server, e.Conn)] = s
			v.spans[e.Server] = append(v.spans[e.Server], s)
		case e.Kind == history.KindConnClose:
			if s := spanOf[connKey(e.Server, e.Conn)]; s != nil && s.close == nil {
				c := e
				s.close = &c
			}
		}
	}
	// Claims and receipts, now that every op is known.
	for _, e := range v.router {
		switch e.Kind {
		case kindRoute:
			part, _ := strconv.Atoi(e.Attr("part"))
			if p := v.parts[partKey(e.Attr("id"), max(part, 1))]; p != nil && p.route == nil {
				c := e
				p.route = &c
			}
		case kindResponse:
			if m := v.msgs[e.Attr("id")]; m != nil {
				m.resps = append(m.resps, e)
			}
		}
	}
	for _, e := range h {
		if e.Kind != kindRouteReceive {
			continue
		}
		part, _ := strconv.Atoi(e.Attr("part"))
		p := v.parts[partKey(e.Attr("id"), max(part, 1))]
		if p == nil {
			v.strays = append(v.strays, e)
			continue
		}
		p.recvs = append(p.recvs, e)
		if b, err := strconv.Atoi(e.Attr("bytes")); err == nil && b-p.bytes > v.overhead {
			v.overhead = b - p.bytes
		}
	}
	return v
}

// ---- evidence about instances ------------------------------------------

// liveSpan is the instance's connection that was solidly live at t: opened
// at least lag before and not closed until at least lag after.
func (v *routeView) liveSpan(inst string, t time.Duration) *connSpan {
	for _, s := range v.spans[inst] {
		if s.open.T+v.live <= t && (s.close == nil || s.close.T >= t+v.live) {
			return s
		}
	}
	return nil
}

// connectedAround reports whether the instance had a router connection at
// any moment within lag of t.
func (v *routeView) connectedAround(inst string, t time.Duration) bool {
	for _, s := range v.spans[inst] {
		if s.open.T <= t+v.live && (s.close == nil || s.close.T >= t-v.live) {
			return true
		}
	}
	return false
}

// lossFault is a fault that takes connections away in force on the
// instance's link at t (or switched on within lag after t).
func (v *routeView) lossFault(inst string, t time.Duration) (faultSpan, bool) {
	for _, f := range v.faults {
		if f.Link == inst && isLossVerb(f.Verb) && f.On.T <= t+v.live && (f.Off == nil || f.Off.T > t) {
			return f, true
		}
	}
	return faultSpan{}, false
}

// frameBytes is what a part weighed in the router's write buffer: the frame
// an instance read, or (never received) its payload plus the largest frame
// overhead seen in the run.
func (v *routeView) frameBytes(p *rpart) int {
	if len(p.recvs) > 0 {
		if b, err := strconv.Atoi(p.recvs[0].Attr("bytes")); err == nil {
			return b
		}
	}
	return p.bytes + v.overhead
}

// inflight bounds from above the bytes the router held for inst at t: every
// part that inst received after t, or that the router said it routed to
// inst and inst never received, whose op was sent by t; plus the last part
// inst received by t. The router's write buffer is a part of what is in
// flight (the rest is in sockets and in the link), except for one frame: the
// one its writer is writing counts until the write returns, and the
// instance may have read it before that. So a buffer above N bytes needs
// inflight ≥ N.
func (v *routeView) inflight(inst string, t time.Duration) int {
	sum, last := 0, 0
	var lastT time.Duration = -1
	for _, p := range v.sends {
		if p.op.T > t {
			break
		}
		switch {
		case len(p.recvs) > 0:
			for _, r := range p.recvs {
				if r.Server != inst {
					continue
				}
				if r.T > t {
					sum += v.frameBytes(p)
				} else if r.T > lastT {
					last, lastT = v.frameBytes(p), r.T
				}
				break
			}
		case p.route != nil && p.route.Server == inst:
			sum += v.frameBytes(p)
		}
	}
	return sum + last
}

// availability is the server- and link-side evidence on whether an
// instance could take a message at t.
type availability struct {
	up       bool   // solidly connected, no loss fault, backlog below the low mark
	why      string // the evidence, either way
	backlog  int
	evidence string
}

func (v *routeView) available(inst string, t time.Duration) availability {
	if f, ok := v.lossFault(inst, t); ok {
		return availability{why: fmt.Sprintf("%s in force on link %s since %s", f.Verb, inst, dur(f.On.T)), evidence: EvLink}
	}
	s := v.liveSpan(inst, t)
	if s == nil {
		return availability{why: fmt.Sprintf("%s had no live router connection", inst), evidence: EvServer}
	}
	b := v.inflight(inst, t)
	if b >= v.low {
		return availability{why: fmt.Sprintf("%d bytes in flight towards %s (≥ low mark %d)", b, inst, v.low), backlog: b, evidence: "server route.receive − harness op send"}
	}
	return availability{up: true, backlog: b, evidence: EvServer,
		why: fmt.Sprintf("%s connected on %s since %s, %d bytes in flight (< low mark %d), no loss fault on its link", inst, s.conn, dur(s.open.T), b, v.low)}
}

// ---- the router's view, replayed ----------------------------------------

// rinst is one instance in the replayed view.
type rinst struct {
	name      string
	seq       int
	connected bool
	writable  bool
}

func (i *rinst) eligible() bool { return i.connected && i.writable }

func (i *rinst) state() string {
	switch {
	case !i.connected:
		return "not connected"
	case !i.writable:
		return "not writable"
	}
	return "eligible"
}

// decision is one routing decision replayed against the router's view: a
// first part routed (chosen set) or a 500 (chosen "").
type decision struct {
	ev       history.Event
	msg      string
	chosen   string
	expected string   // the view's round robin: the first eligible after the pointer ("" none)
	skipped  []rinst  // passed over before the chosen (or all, for a 500), in list order
	list     []string // the circular list at the decision, from the pointer
	states   map[string]string
	members  int
	ineligib string // the chosen instance's state when not eligible in the view
	known    bool   // the chosen instance was in the view's list
}

// replay walks the router's events in order and returns its decisions; it
// also returns the view's changes per instance.
type replayed struct {
	decisions []decision
	initial   []string // the list after the router's first added events (before any route)
	adds      []history.Event
	removes   []history.Event
}

func (v *routeView) replay() replayed {
	var out replayed
	var list []*rinst
	byName := map[string]*rinst{}
	seq, last := 0, 0
	started := false
	for _, e := range v.router {
		switch e.Kind {
		case kindInstance:
			in := byName[e.Server]
			switch e.Attr("state") {
			case stAdded:
				if in != nil {
					continue
				}
				seq++
				in = &rinst{name: e.Server, seq: seq, writable: true}
				byName[e.Server] = in
				list = append(list, in)
				out.adds = append(out.adds, e)
				if !started {
					out.initial = append(out.initial, e.Server)
				}
			case stRemoved:
				if in == nil {
					continue
				}
				delete(byName, e.Server)
				for i, x := range list {
					if x == in {
						list = append(list[:i:i], list[i+1:]...)
						break
					}
				}
				out.removes = append(out.removes, e)
			case stConnected:
				if in != nil {
					in.connected, in.writable = true, true
				}
			case stDisconnected:
				if in != nil {
					in.connected = false
				}
			case stUnwritable:
				if in != nil {
					in.writable = false
				}
			case stWritable:
				if in != nil {
					in.writable = true
				}
			}
		case kindRoute, kindResponse:
			if e.Kind == kindRoute && e.Attr("part") != "1" && e.Attr("part") != "" {
				continue
			}
			if e.Kind == kindResponse && e.Attr("status") != "500" {
				continue
			}
			started = true
			d := decision{ev: e, msg: e.Attr("id"), members: len(list), states: map[string]string{}}
			if e.Kind == kindRoute {
				d.chosen = e.Server
			}
			start := 0
			for i, in := range list {
				if in.seq > last {
					start = i
					break
				}
			}
			for i := range list {
				in := list[(start+i)%len(list)]
				d.list = append(d.list, in.name)
				d.states[in.name] = in.state()
				if d.expected == "" && in.eligible() {
					d.expected = in.name
				}
			}
			for i := range list {
				in := list[(start+i)%len(list)]
				if in.name == d.chosen {
					d.known = true
					if !in.eligible() {
						d.ineligib = in.state()
					}
					last = in.seq
					break
				}
				d.skipped = append(d.skipped, *in)
			}
			out.decisions = append(out.decisions, d)
		}
	}
	return out
}

// membersAt is the instance set by the harness's discovery ops: the
// scenario's initial members, then each op from its reply on.
func (v *routeView) membersAt(t time.Duration) []string {
	m := append([]string(nil), v.sc.Client.Servers...)
	for _, d := range v.disc {
		if d.reply == nil || !d.reply.OK || d.reply.T > t {
			continue
		}
		i := indexOf(m, d.name)
		switch {
		case d.add && i < 0:
			m = append(m, d.name)
		case !d.add && i >= 0:
			m = append(m[:i:i], m[i+1:]...)
		}
	}
	return m
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

// describeParts names where a part was received.
func describeRecvs(rs []history.Event) string {
	if len(rs) == 0 {
		return "nowhere"
	}
	var s []string
	for _, r := range rs {
		s = append(s, fmt.Sprintf("%s (%s) at %s", r.Server, r.Conn, dur(r.T)))
	}
	return strings.Join(s, ", ")
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
