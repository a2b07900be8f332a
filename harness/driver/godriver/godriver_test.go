package godriver

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/packs/session/server"
)

type sink struct {
	mu  sync.Mutex
	evs []driver.Event
}

func (s *sink) add(e driver.Event) { s.mu.Lock(); s.evs = append(s.evs, e); s.mu.Unlock() }

func (s *sink) wait(t *testing.T, match func(driver.Event) bool) driver.Event {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for _, e := range s.evs {
			if match(e) {
				s.mu.Unlock()
				return e
			}
		}
		s.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no matching event within 3s; got %+v", s.evs)
	return driver.Event{}
}

func TestDriverSpeaksTheProtocolToTheGoEngine(t *testing.T) {
	log := history.NewLog(history.NewClock())
	srv, err := server.Start("s1", log, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var sk sink
	d, err := Factory(7)(context.Background(), sk.add)
	if err != nil {
		t.Fatal(err)
	}
	if h := d.Hello(); h.SDK != "faultline-go" || !h.Has(driver.FeatReconnect) {
		t.Fatalf("hello = %+v", h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := scenario.Client{Reconnect: scenario.Reconnect{Enabled: true, Timeout: 3 * time.Second,
		Strategy: scenario.Strategy{Backoff: "fixed", Initial: 50 * time.Millisecond}}}
	rep, err := d.Do(ctx, driver.Op{ID: 1, Op: driver.OpConnect, Servers: []string{srv.URL()}, Options: driver.OptionsFor(c).Raw()})
	if err != nil || !rep.OK || rep.Re != 1 {
		t.Fatalf("connect: %+v %v", rep, err)
	}
	active := sk.wait(t, func(e driver.Event) bool { return e.Type == driver.EvState && e.To == driver.ConnectedActive })
	if active.Server != srv.URL() || active.Session == "" {
		t.Fatalf("state event should name the server URL and session: %+v", active)
	}
	if rep, _ := d.Do(ctx, driver.Op{ID: 2, Op: driver.OpSubscribe, Topic: "t"}); !rep.OK {
		t.Fatalf("subscribe: %+v", rep)
	}
	// the subscription reached the server before we publish
	deadline := time.Now().Add(2 * time.Second)
	for len(log.Events().Kind(history.KindSubscribe)) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	srv.Publish("t", json.RawMessage(`1`))
	sk.wait(t, func(e driver.Event) bool { return e.Type == driver.EvMessage && e.Topic == "t" && e.Seq == 1 })
	if rep, _ := d.Do(ctx, driver.Op{ID: 3, Op: driver.OpSend, Payload: json.RawMessage(`"x"`)}); !rep.OK {
		t.Fatalf("send: %+v", rep)
	}
	if rep, _ := d.Do(ctx, driver.Op{ID: 4, Op: "frobnicate"}); rep.OK || rep.Error == "" {
		t.Fatalf("unknown op must be refused with an error: %+v", rep)
	}
	if rep, _ := d.Do(ctx, driver.Op{ID: 5, Op: driver.OpClose}); !rep.OK {
		t.Fatalf("close: %+v", rep)
	}
	closed := sk.wait(t, func(e driver.Event) bool { return e.Type == driver.EvState && e.To == driver.ClosedByClient })
	if closed.Reason != driver.ReasonClosedByClient {
		t.Fatalf("close reason = %q", closed.Reason)
	}
	if err := d.Close(ctx); err != nil {
		t.Fatalf("Close after close: %v", err)
	}
}

func TestOpsBeforeConnectAreRefused(t *testing.T) {
	d, _ := Factory(1)(context.Background(), func(driver.Event) {})
	rep, err := d.Do(context.Background(), driver.Op{ID: 9, Op: driver.OpSubscribe, Topic: "x"})
	if err != nil || rep.OK || rep.Re != 9 {
		t.Fatalf("want a refusal, got %+v %v", rep, err)
	}
}
