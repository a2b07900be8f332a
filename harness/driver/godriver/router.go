package godriver

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/faultline/faultline/client/router"
	"github.com/faultline/faultline/harness/driver"
)

// routing is the Go engine's router (client/router) behind the driver
// protocol's routing ops (harness/driver/routing.go). A connect whose options
// carry a router block starts it instead of a session; discovery ops change
// its in-process registry, which the router watches.
type routing struct {
	reg *router.Registry
	r   *router.Router
}

// route handles op when it is a routing op or the driver is a router; it
// reports whether it did.
func (d *Driver) route(ctx context.Context, op driver.Op) (bool, error) {
	d.mu.Lock()
	rt := d.rt
	d.mu.Unlock()
	if op.Op == driver.OpConnect {
		var co driver.ConnectOptions
		if len(op.Options) > 0 {
			if err := json.Unmarshal(op.Options, &co); err != nil || co.Router == nil {
				return false, nil // not a router: the session path reports bad options
			}
		}
		if co.Router == nil {
			return false, nil
		}
		if rt != nil {
			return true, fmt.Errorf("the router is started already")
		}
		rt, err := d.startRouter(op.Servers, co)
		if err != nil {
			return true, err
		}
		d.mu.Lock()
		d.rt = rt
		d.mu.Unlock()
		return true, nil
	}
	switch op.Op {
	case driver.OpEdge, driver.OpDiscoveryAdd, driver.OpDiscoveryRemove:
		if rt == nil {
			return true, fmt.Errorf("%s: not connected as a router", op.Op)
		}
	default:
		if rt == nil {
			return false, nil
		}
	}
	switch op.Op {
	case driver.OpEdge:
		return true, rt.r.OpenEdge(op.Edge)
	case driver.OpSend:
		id, part, parts := op.ID, max(op.Part, 1), max(op.Chunks, 1)
		if part > 1 {
			id = op.Message
		}
		return true, rt.r.Send(op.Edge, strconv.FormatInt(id, 10), part, parts, op.Payload)
	case driver.OpDiscoveryAdd:
		for _, u := range op.Servers {
			rt.reg.Add(u, u)
		}
		return true, nil
	case driver.OpDiscoveryRemove:
		for _, u := range op.Servers {
			rt.reg.Remove(u)
		}
		return true, nil
	case driver.OpClose:
		return true, rt.r.Close()
	}
	return true, fmt.Errorf("op %q is not supported by the router", op.Op)
}

func (d *Driver) startRouter(servers []string, co driver.ConnectOptions) (*routing, error) {
	reg := router.NewRegistry()
	for _, u := range servers {
		reg.Add(u, u)
	}
	ro := co.Router
	opts := router.Options{
		Name:           "faultline-go",
		Discovery:      reg,
		HighWatermark:  ro.HighWatermark,
		LowWatermark:   ro.LowWatermark,
		SendBuffer:     ro.SendBuffer,
		Retry:          driver.Dur(float64(ro.RetryMS)),
		RequestTimeout: driver.Dur(float64(ro.RequestTimeoutMS)),
		Liveness:       driver.Dur(float64(co.LivenessMS)),
		ConnectTimeout: driver.Dur(float64(co.ConnectTimeoutMS)),
		Events: router.Events{
			OnRoute: func(r router.Route) {
				d.sink(driver.Event{Type: driver.EvRoute, ID: atoi(r.ID), Edge: r.Edge, Part: r.Part, Parts: r.Parts, Server: r.Instance})
			},
			OnResponse: func(r router.Response) {
				d.sink(driver.Event{Type: driver.EvResponse, ID: atoi(r.ID), Edge: r.Edge, Status: r.Status, Server: r.Instance, Reason: r.Reason})
			},
			OnInstance: func(c router.InstanceChange) {
				d.sink(driver.Event{Type: driver.EvInstance, Server: c.Instance, State: c.State, Bytes: int64(c.Queued)})
			},
			OnEdge: func(c router.EdgeChange) {
				d.sink(driver.Event{Type: driver.EvEdge, Edge: c.Edge, State: c.State, Reason: c.Reason})
			},
		},
	}
	r, err := router.New(opts)
	if err != nil {
		return nil, err
	}
	return &routing{reg: reg, r: r}, nil
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// closeRouting closes the router, if one was started, within ctx.
func (d *Driver) closeRouting(ctx context.Context) error {
	d.mu.Lock()
	rt := d.rt
	d.mu.Unlock()
	if rt == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- rt.r.Close() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: router close did not finish: %v", driver.ErrDriver, ctx.Err())
	}
}
