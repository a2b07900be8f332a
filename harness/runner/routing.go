package runner

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// Routing scenarios (client.router; the ThingWorx family, T1–T6). The client is a router, fed
// by the harness as its edges and its service discovery. Its ops stay
// sequential, but a send step's messages (and their parts) are interleaved
// with later steps by time: an instance is added, an edge opened or a link
// cut while traffic flows, not after it.
//
// What the harness records for them, beyond the op/reply pairs:
//   - op send: Attrs{id, edge, part, parts, message (the id of part 1's op), bytes (payload)}
//   - op edge: Attrs{id, edge}; op discovery.add / discovery.remove: Server (the instance), Attrs{id}
//   - the router's events: route, response, instance, edge (see routingAttrs)

// routed is one action of a router's timeline.
type routed struct {
	at   time.Time
	seq  int
	step scenario.Step
	msg  int // send: the message's index in its step
	part int // send: 1..chunks
	key  int // send: the step's key, to find part 1's id
}

type routedHeap []routed

func (h routedHeap) Len() int { return len(h) }
func (h routedHeap) Less(i, j int) bool {
	return h[i].at.Before(h[j].at) || h[i].at.Equal(h[j].at) && h[i].seq < h[j].seq
}
func (h routedHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *routedHeap) Push(x any)   { *h = append(*h, x.(routed)) }
func (h *routedHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// routerLoop is loop for a router: steps arrive on the queue at their time
// and are expanded into timed actions, done one at a time in time order.
func (c *clientRunner) routerLoop(ctx context.Context) {
	var h routedHeap
	seq, steps := 0, 0
	ids := map[[2]int]int64{} // (step key, message index) → id of part 1's op
	queue := c.queue
	clock := c.run.log.Clock()
	for queue != nil || h.Len() > 0 {
		var timer *time.Timer
		var due <-chan time.Time
		if h.Len() > 0 {
			timer = time.NewTimer(time.Until(h[0].at))
			due = timer.C
		}
		select {
		case st, ok := <-queue:
			if !ok {
				queue = nil
				break
			}
			steps++
			start := clock.At(st.At)
			if st.Client == nil || st.Client.Op != "send" {
				seq++
				heap.Push(&h, routed{at: start, seq: seq, step: st})
				break
			}
			cs := st.Client
			for i := 0; i < max(cs.Count, 1); i++ {
				for k := 0; k < max(cs.Chunks, 1); k++ {
					seq++
					at := start.Add(time.Duration(i)*cs.Every + time.Duration(k)*cs.ChunkEvery)
					heap.Push(&h, routed{at: at, seq: seq, step: st, msg: i, part: k + 1, key: steps})
				}
			}
		case <-due:
			a := heap.Pop(&h).(routed)
			if ctx.Err() == nil && !c.dead.Load() {
				c.routedDo(ctx, a, ids)
			}
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			for range c.queue { // drain: the run is over
			}
			return
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// routedDo does one action of a router's timeline.
func (c *clientRunner) routedDo(ctx context.Context, a routed, ids map[[2]int]int64) {
	st := a.step
	switch {
	case st.Discovery != nil:
		c.discover(ctx, st)
	case st.Client == nil:
	case st.Client.Op == "connect":
		if !c.doAttrs(ctx, driver.Op{Op: driver.OpConnect, Servers: c.run.urls, Options: driver.OptionsFor(c.run.sc.Client).Raw()}, "", nil) {
			return
		}
		for _, e := range c.run.sc.Client.Router.EdgeNames() {
			c.doAttrs(ctx, driver.Op{Op: driver.OpEdge, Edge: e}, "", map[string]string{"edge": e})
		}
	case st.Client.Op == "edge":
		c.doAttrs(ctx, driver.Op{Op: driver.OpEdge, Edge: st.Client.Edge}, "", map[string]string{"edge": st.Client.Edge})
	case st.Client.Op == "close":
		c.doAttrs(ctx, driver.Op{Op: driver.OpClose}, "", nil)
	case st.Client.Op == "send":
		cs := st.Client
		parts := max(cs.Chunks, 1)
		payload := cs.Payload
		if payload == "" {
			payload = "m" + strconv.Itoa(a.msg+1) + "." + strconv.Itoa(a.part)
		}
		if len(payload) < cs.Size {
			payload += strings.Repeat("x", cs.Size-len(payload))
		}
		raw, _ := json.Marshal(payload)
		op := driver.Op{Op: driver.OpSend, Edge: cs.Edge, Payload: raw}
		attrs := map[string]string{"edge": cs.Edge, "part": strconv.Itoa(a.part), "parts": strconv.Itoa(parts), "bytes": strconv.Itoa(len(raw))}
		if parts > 1 {
			op.Chunks, op.Part = parts, a.part
		}
		k := [2]int{a.key, a.msg}
		if a.part > 1 {
			first, ok := ids[k]
			if !ok {
				return // part 1 never went out (the driver failed): nothing to continue
			}
			op.Message = first
			attrs["message"] = strconv.FormatInt(first, 10)
		}
		c.doAttrs(ctx, op, "", attrs)
		if a.part == 1 {
			ids[k] = c.ids.Load() // the id doAttrs gave part 1 (ops of one client are sequential)
		}
	default:
		c.run.problem("client %d: op %q is not one a router takes", c.idx, st.Client.Op)
	}
}

// discover sends a discovery step's op (discovery.add or discovery.remove
// with the server's URL): a router's instances, or a client library's own
// list of servers (its resolver), join or leave.
func (c *clientRunner) discover(ctx context.Context, st scenario.Step) {
	name, op := st.Discovery.Add, driver.OpDiscoveryAdd
	if name == "" {
		name, op = st.Discovery.Remove, driver.OpDiscoveryRemove
	}
	u, ok := c.run.urlOf(name)
	if !ok {
		c.run.problem("client %d: discovery of %q: no such link", c.idx, name)
		return
	}
	c.doAttrs(ctx, driver.Op{Op: op, Servers: []string{u}}, name, nil)
}

// doAttrs is do with the routing attributes on the op event; it reports
// whether the driver replied ok.
func (c *clientRunner) doAttrs(ctx context.Context, op driver.Op, server string, attrs map[string]string) bool {
	op.ID = c.ids.Add(1)
	id := strconv.FormatInt(op.ID, 10)
	a := map[string]string{"id": id}
	for k, v := range attrs {
		a[k] = v
	}
	if op.Op == driver.OpSend && a["message"] == "" {
		a["message"] = id
	}
	c.run.log.Record(history.Event{Source: history.SrcHarness, Kind: history.KindOp, Client: c.idx, Op: op.Op, Server: server, Attrs: a})
	octx, cancel := context.WithTimeout(ctx, c.run.cfg.OpTimeout)
	defer cancel()
	rep, err := c.drv.Do(octx, op)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return false
		}
		c.dead.Store(true)
		c.run.problem("client %d: op %s #%s: %v", c.idx, op.Op, id, err)
		return false
	}
	c.run.log.Record(history.Event{Source: history.SrcHarness, Kind: history.KindReply, Client: c.idx, Op: op.Op, Server: server,
		OK: rep.OK, Reason: rep.Error, Attrs: map[string]string{"id": id}})
	return rep.OK
}

// routingAttrs completes a router event for the history: the router's own
// view, as it reported it.
//
//	route     Server (instance), Attrs{id, part, parts, edge}
//	response  Server (instance, when one took it), Reason, Attrs{id, status, edge}
//	instance  Server, Attrs{state, bytes}
//	edge      Reason, Attrs{edge, state}
func routingAttrs(ev *history.Event, e driver.Event) {
	switch e.Type {
	case driver.EvRoute:
		ev.Attrs = map[string]string{"id": strconv.FormatInt(e.ID, 10), "part": strconv.Itoa(e.Part),
			"parts": strconv.Itoa(e.Parts), "edge": e.Edge}
	case driver.EvResponse:
		if ev.Attrs == nil {
			ev.Attrs = map[string]string{}
		}
		if e.Edge != "" {
			ev.Attrs["edge"] = e.Edge
		}
	case driver.EvInstance:
		ev.Attrs = map[string]string{"state": e.State, "bytes": strconv.FormatInt(e.Bytes, 10)}
	case driver.EvEdge:
		ev.Attrs = map[string]string{"edge": e.Edge, "state": e.State}
	}
}

// describeRouting is describe for the steps routing adds.
func describeRouting(st scenario.Step) string {
	switch {
	case st.Discovery != nil && st.Discovery.Add != "":
		return "discovery add " + st.Discovery.Add
	case st.Discovery != nil:
		return "discovery remove " + st.Discovery.Remove
	}
	return ""
}
