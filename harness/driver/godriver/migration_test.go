package godriver

import (
	"context"
	"testing"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/packs/session/server"
)

func TestDriverRequestsAndMigration(t *testing.T) {
	log := history.NewLog(history.NewClock())
	store := fakeserver.NewMemoryStore()
	opts := server.Options{Ping: 500 * time.Millisecond, Store: store}
	s1, err := server.Start("s1", log, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s2, err := server.Start("s2", log, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	resolve := func(name string) (string, bool) { return s2.URL(), name == "s2" }
	s1.SetPeers(fakeserver.Peers{Resolve: resolve}) // the store came with the options
	var sk sink
	d, err := Factory(3)(context.Background(), sk.add)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	if !d.Hello().Has(driver.FeatMigration) {
		t.Fatalf("the Go engine declares migration: %+v", d.Hello())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := scenario.Client{Migration: scenario.Migration{Timeout: time.Second}}
	if rep, err := d.Do(ctx, driver.Op{ID: 1, Op: driver.OpConnect, Servers: []string{s1.URL()}, Options: driver.OptionsFor(c).Raw()}); err != nil || !rep.OK {
		t.Fatalf("connect: %+v %v", rep, err)
	}
	if rep, _ := d.Do(ctx, driver.Op{ID: 2, Op: driver.OpRequest, Rows: 3}); !rep.OK {
		t.Fatalf("request: %+v", rep)
	}
	sk.wait(t, func(e driver.Event) bool { return e.Type == driver.EvDone && e.Request == 2 && !e.Cancelled })
	for n := int64(1); n <= 3; n++ {
		sk.wait(t, func(e driver.Event) bool { return e.Type == driver.EvRow && e.Request == 2 && e.N == n })
	}
	if _, err := s1.Migrate("s2", 0); err != nil {
		t.Fatal(err)
	}
	res := sk.wait(t, func(e driver.Event) bool { return e.Type == driver.EvMigration && e.State == "RESUMED" })
	if res.Target != s2.URL() {
		t.Fatalf("RESUMED names the target URL: %+v", res)
	}
	if rep, _ := d.Do(ctx, driver.Op{ID: 3, Op: driver.OpRequest, Rows: 100000}); !rep.OK {
		t.Fatalf("request: %+v", rep)
	}
	if rep, _ := d.Do(ctx, driver.Op{ID: 4, Op: driver.OpCancel, Request: 3}); !rep.OK {
		t.Fatalf("cancel: %+v", rep)
	}
	sk.wait(t, func(e driver.Event) bool { return e.Type == driver.EvDone && e.Request == 3 && e.Cancelled })
	if rep, _ := d.Do(ctx, driver.Op{ID: 5, Op: driver.OpCancel, Request: 99}); rep.OK {
		t.Fatalf("a cancel of an unknown request is refused: %+v", rep)
	}
	if n := len(log.Events().Filter(func(e history.Event) bool {
		return e.Kind == history.KindRequest && e.Server == "s2" && e.Attr("req") == "3"
	})); n != 1 {
		t.Fatalf("the request's wire id is the op's id, run on s2: %d\n%s", n, log.Events())
	}
}
