package runner

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// clientRunner feeds one driver its ops in timeline order: ops of one client
// are sequential (a subscribe at 0s waits for the connect at 0s), clients run
// concurrently.
type clientRunner struct {
	run   *run
	idx   int
	drv   driver.Driver
	queue chan scenario.Step
	ids   atomic.Int64
	dead  atomic.Bool  // the driver failed: no more ops
	busy  atomic.Int32 // an op is in flight (lagprobe.go: a one-client process is probed only when idle)

	lastReq atomic.Int64 // migration.go: the id of the latest request op
}

// sink records a driver event, stamped on arrival.
func (c *clientRunner) sink(e driver.Event) {
	ev := history.Event{Source: history.SrcClient, Client: c.idx, Kind: e.Type, Session: e.Session,
		Topic: e.Topic, Seq: e.Seq, From: e.From, To: e.To, Reason: e.Reason}
	if e.Server != "" {
		ev.Server = c.run.byURL[e.Server]
		if ev.Server == "" {
			ev.Server = e.Server // not one of ours: keep what it said, checkers will not match it
		}
		if f := c.run.sessionOf[ev.Server]; f != nil && ev.Session != "" {
			ev.Session = f(ev.Server, ev.Session)
		}
	}
	if len(e.Tried) > 0 { // the servers a cascade or failover tried, as names
		names := make([]string, len(e.Tried))
		for i, u := range e.Tried {
			if names[i] = c.run.byURL[u]; names[i] == "" {
				names[i] = u
			}
		}
		ev.Attrs = map[string]string{"tried": strings.Join(names, ",")}
	}
	switch e.Type {
	case driver.EvError:
		ev.Reason = e.Text
	case driver.EvDial:
		ev.Reason = e.Text
		ev.Attrs = map[string]string{"url": e.Server}
	case driver.EvState:
		if e.Phase != "" || e.Native != "" {
			if ev.Attrs == nil {
				ev.Attrs = map[string]string{}
			}
			ev.Attrs["phase"], ev.Attrs["native"] = e.Phase, e.Native
		}
	case driver.EvRow, driver.EvDone:
		ev.Seq = e.N
		ev.Attrs = map[string]string{"request": strconv.FormatInt(e.Request, 10)}
		if e.Cancelled {
			ev.Attrs["cancelled"] = "true"
		}
	case driver.EvMigration:
		ev.Attrs = map[string]string{"state": e.State, "target": c.run.nameOf(e.Target)}
	case driver.EvResponse:
		ev.Attrs = map[string]string{"id": strconv.FormatInt(e.ID, 10), "status": strconv.Itoa(e.Status)}
	}
	routingAttrs(&ev, e) // routing.go
	c.run.log.Record(ev)
}

func (c *clientRunner) loop(ctx context.Context) {
	if c.run.sc.Client.IsRouter() { // routing.go
		c.routerLoop(ctx)
		return
	}
	for st := range c.queue {
		if ctx.Err() != nil || c.dead.Load() {
			continue // drain: the run is over or the driver is gone
		}
		if st.Discovery != nil { // a client library's resolver (routing.go)
			c.discover(ctx, st)
			continue
		}
		cs := st.Client
		switch cs.Op {
		case "send":
			n := cs.Count
			if n == 0 {
				n = 1
			}
			start := time.Now()
			for i := 0; i < n && ctx.Err() == nil && !c.dead.Load(); i++ {
				if !sleepUntil(ctx, start.Add(time.Duration(i)*cs.Every)) {
					break
				}
				payload := cs.Payload
				if payload == "" {
					payload = "m" + strconv.Itoa(i+1)
				}
				raw, _ := json.Marshal(payload)
				c.do(ctx, driver.Op{Op: driver.OpSend, Payload: raw})
			}
		case "connect":
			c.do(ctx, driver.Op{Op: driver.OpConnect, Servers: c.run.urls, Options: driver.OptionsFor(c.run.sc.Client).Raw()})
		case "subscribe":
			c.do(ctx, driver.Op{Op: driver.OpSubscribe, Topic: cs.Topic})
		case "close":
			c.do(ctx, driver.Op{Op: driver.OpClose})
		case "request", "cancel":
			c.requestOp(ctx, cs) // migration.go
		default:
			c.run.problem("client %d: unknown op %q", c.idx, cs.Op)
		}
	}
}

// do sends one op with its deadline and records op and reply.
func (c *clientRunner) do(ctx context.Context, op driver.Op) {
	op.ID = c.ids.Add(1)
	id := strconv.FormatInt(op.ID, 10)
	c.run.log.Record(history.Event{Source: history.SrcHarness, Kind: history.KindOp, Client: c.idx, Op: op.Op,
		Topic: op.Topic, Attrs: opAttrs(op, id)}) // migration.go
	octx, cancel := context.WithTimeout(ctx, c.run.cfg.OpTimeout)
	defer cancel()
	c.busy.Add(1)
	rep, err := c.drv.Do(octx, op)
	c.busy.Add(-1)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return // the run ended while the op was in flight
		}
		c.dead.Store(true)
		c.run.problem("client %d: op %s #%s: %v", c.idx, op.Op, id, err)
		return
	}
	attrs := map[string]string{"id": id}
	if len(rep.Contract) > 0 { // the effective contract of a connect
		attrs["contract"] = string(rep.Contract)
	}
	c.run.log.Record(history.Event{Source: history.SrcHarness, Kind: history.KindReply, Client: c.idx, Op: op.Op,
		OK: rep.OK, Reason: rep.Error, Attrs: attrs})
}
