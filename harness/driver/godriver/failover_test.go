package godriver

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/scenario"
)

// The scenario's failover block reaches the engine, the features are
// declared, and a cascade that runs out of servers reports every URL tried.
func TestFailoverOptionsAndTried(t *testing.T) {
	if h := Hello(); !h.Has(driver.FeatFailover) || !h.Has(driver.FeatLoadBalancing) || !h.Has(driver.FeatCascading) {
		t.Fatalf("hello = %+v", h)
	}
	d := &Driver{}
	co := driver.OptionsFor(scenario.Client{Failover: scenario.Failover{Auto: true, LoadBalancing: true, Cascading: true}})
	o := d.options([]string{"ws://a/"}, co)
	if !o.Failover || !o.LoadBalancing || !o.Cascading {
		t.Fatalf("options %+v", o)
	}

	var urls []string
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, "ws://"+l.Addr().String()+"/")
		l.Close() // refused
	}
	var sk sink
	drv, err := Factory(3)(context.Background(), sk.add)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := scenario.Client{ConnectTimeout: time.Second, Failover: scenario.Failover{Cascading: true}}
	rep, err := drv.Do(ctx, driver.Op{ID: 1, Op: driver.OpConnect, Servers: urls, Options: driver.OptionsFor(c).Raw()})
	if err != nil || rep.OK {
		t.Fatalf("connect to refusing servers: %+v %v", rep, err)
	}
	closed := sk.wait(t, func(e driver.Event) bool { return e.Type == driver.EvState && e.To == driver.ClosedFailed })
	if !slices.Equal(closed.Tried, urls) {
		t.Fatalf("close %+v, want tried %v", closed, urls)
	}
	if err := drv.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
