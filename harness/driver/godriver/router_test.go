package godriver

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/packs/platform/instance"
)

// The router behind the routing ops: connect with a router block, edges,
// single and multi-part sends, discovery, and every event in decision order.
func TestDriverSpeaksRoutingToTheRouter(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	log := history.NewLog(history.NewClock())
	var urls []string
	for _, n := range []string{"s1", "s2", "s3"} {
		s, err := instance.Start(n, log, instance.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		urls = append(urls, s.URL())
	}
	var sk sink
	d, err := Factory(7)(context.Background(), sk.add)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	if !d.Hello().Has(driver.FeatRouting) {
		t.Fatalf("hello %+v lacks routing", d.Hello())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	do := func(op driver.Op) driver.Reply {
		t.Helper()
		rep, err := d.Do(ctx, op)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	c := scenario.Client{Router: &scenario.Router{HighWatermark: 8 << 10}}
	if rep := do(driver.Op{ID: 1, Op: driver.OpConnect, Servers: urls[:2], Options: driver.OptionsFor(c).Raw()}); !rep.OK {
		t.Fatalf("connect: %+v", rep)
	}
	for _, u := range urls[:2] {
		u := u
		sk.wait(t, func(e driver.Event) bool {
			return e.Type == driver.EvInstance && e.Server == u && e.State == "connected"
		})
	}
	if rep := do(driver.Op{ID: 2, Op: driver.OpSend, Edge: "e1", Payload: json.RawMessage(`"x"`)}); rep.OK {
		t.Fatal("a send on an edge never opened was taken")
	}
	if rep := do(driver.Op{ID: 3, Op: driver.OpEdge, Edge: "e1"}); !rep.OK {
		t.Fatalf("edge: %+v", rep)
	}
	do(driver.Op{ID: 4, Op: driver.OpSend, Edge: "e1", Payload: json.RawMessage(`"a"`), Chunks: 2, Part: 1})
	do(driver.Op{ID: 5, Op: driver.OpSend, Edge: "e1", Payload: json.RawMessage(`"b"`)})
	do(driver.Op{ID: 6, Op: driver.OpSend, Edge: "e1", Payload: json.RawMessage(`"a2"`), Chunks: 2, Part: 2, Message: 4})
	r4 := sk.wait(t, func(e driver.Event) bool { return e.Type == driver.EvResponse && e.ID == 4 })
	r5 := sk.wait(t, func(e driver.Event) bool { return e.Type == driver.EvResponse && e.ID == 5 })
	if r4.Status != 200 || r4.Server != urls[0] || r5.Status != 200 || r5.Server != urls[1] || r4.Edge != "e1" {
		t.Errorf("responses %+v %+v: want 200 from s1 (both parts) and s2", r4, r5)
	}
	route := sk.wait(t, func(e driver.Event) bool { return e.Type == driver.EvRoute && e.ID == 4 && e.Part == 2 })
	if route.Server != urls[0] || route.Parts != 2 {
		t.Errorf("part 2 route: %+v", route)
	}
	if rep := do(driver.Op{ID: 7, Op: driver.OpDiscoveryAdd, Servers: urls[2:]}); !rep.OK {
		t.Fatalf("discovery.add: %+v", rep)
	}
	sk.wait(t, func(e driver.Event) bool {
		return e.Type == driver.EvInstance && e.Server == urls[2] && e.State == "connected"
	})
	if rep := do(driver.Op{ID: 8, Op: driver.OpDiscoveryRemove, Servers: urls[:1]}); !rep.OK {
		t.Fatalf("discovery.remove: %+v", rep)
	}
	sk.wait(t, func(e driver.Event) bool {
		return e.Type == driver.EvInstance && e.Server == urls[0] && e.State == "removed"
	})
	if rep := do(driver.Op{ID: 9, Op: driver.OpSubscribe, Topic: "x"}); rep.OK {
		t.Error("a router took a subscribe")
	}
	if rep := do(driver.Op{ID: 10, Op: driver.OpClose}); !rep.OK {
		t.Fatalf("close: %+v", rep)
	}
}

func TestRoutingOpsNeedARouter(t *testing.T) {
	d, err := Factory(1)(context.Background(), func(driver.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	for _, op := range []string{driver.OpEdge, driver.OpDiscoveryAdd, driver.OpDiscoveryRemove} {
		if rep, err := d.Do(context.Background(), driver.Op{ID: 1, Op: op}); err != nil || rep.OK {
			t.Errorf("%s without a router: %+v %v", op, rep, err)
		}
	}
}
