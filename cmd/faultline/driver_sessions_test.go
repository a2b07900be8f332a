package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/stdio"
)

// `faultline driver` hosts many sessions by default: two clients in one
// process, each with its own events; --sessions 1 is the one-session driver.
func TestDriverCommandHostsSessions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b := driver.NewBatch(2)
	var mu sync.Mutex
	states := map[int][]string{}
	sink := func(k int) driver.Sink {
		return func(e driver.Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Client == nil || *e.Client != k {
				t.Errorf("client %d got an event for %v: %+v", k, e.Client, e)
			}
			if e.Type == driver.EvState {
				states[k] = append(states[k], e.To)
			}
		}
	}
	d0, err := stdio.Factory([]string{faultlineBin, "driver"})(driver.WithSlot(ctx, b, 0), sink(0))
	if err != nil {
		t.Fatal(err)
	}
	h, ok := d0.(driver.Host)
	if !ok || h.Sessions() != defaultSessions || d0.Hello().SDK != "faultline-go" {
		t.Fatalf("%T %+v: want a host of %d sessions", d0, d0.Hello(), defaultSessions)
	}
	d1, err := h.Open(driver.WithSlot(ctx, b, 1), sink(1))
	if err != nil {
		t.Fatal(err)
	}
	opts := driver.ConnectOptions{ConnectTimeoutMS: 500}
	for i, d := range []driver.Driver{d0, d1} {
		rep, err := d.Do(ctx, driver.Op{ID: int64(i)*1e9 + 1, Op: driver.OpConnect, Servers: []string{"ws://127.0.0.1:1/"}, Options: opts.Raw()})
		if err != nil || rep.OK {
			t.Errorf("client %d: connect to a closed port: %+v %v", i, rep, err)
		}
	}
	for _, d := range []driver.Driver{d0, d1} {
		if err := d.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for k := 0; k < 2; k++ {
		if s := states[k]; len(s) == 0 || s[len(s)-1] != driver.ClosedFailed {
			t.Errorf("client %d: states %v", k, s)
		}
	}
}

func TestDriverCommandSessionsFlag(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := stdio.Factory([]string{faultlineBin, "driver", "--sessions", "1"})(ctx, func(driver.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	if _, isHost := d.(driver.Host); isHost || d.Hello().Sessions != 0 {
		t.Errorf("--sessions 1: %T %+v, want the one-session driver", d, d.Hello())
	}
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := cmdDriver([]string{"--sessions", "0"}, strings.NewReader(""), &out, &errb); code != 2 || !strings.Contains(errb.String(), driverUsage) {
		t.Errorf("--sessions 0: exit %d, %q", code, errb.String())
	}
}
