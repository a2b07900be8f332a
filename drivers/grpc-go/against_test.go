package main

import (
	"encoding/json"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// FAULTLINE_GRPC_AGAINST goes against the scenario on purpose and says so
// in driver_adds; the contract keeps the intended numbers.
func TestAgainstPlan(t *testing.T) {
	raw, _ := json.Marshal(options(func(o map[string]any) { o["liveness_ms"] = 2000 }))
	plain, err := planFor([]string{"a"}, raw, "c0")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envAgainst, "no_backoff, no_keepalive")
	p, err := planFor([]string{"a"}, raw, "c0")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.opts) != len(plain.opts)+2 {
		t.Errorf("%d dial options, want %d + 2", len(p.opts), len(plain.opts))
	}
	var adds []string
	for _, a := range p.contract.DriverAdds {
		adds = append(adds, a.What)
	}
	for _, w := range []string{envAgainst + "=no_backoff: ", envAgainst + "=no_keepalive: "} {
		if !strings.Contains(strings.Join(adds, "\n"), w) {
			t.Errorf("driver_adds %q lack %q", adds, w)
		}
	}
	got, _ := json.Marshal(p.contract.Params)
	want, _ := json.Marshal(plain.contract.Params)
	if string(got) != string(want) || p.contract.Liveness != plain.contract.Liveness {
		t.Errorf("the contract changed: %s, want the intended %s", got, want)
	}
	t.Setenv(envAgainst, "frobnicate")
	if _, err := planFor([]string{"a"}, raw, "c0"); err == nil || !strings.Contains(err.Error(), "no_backoff, no_keepalive") {
		t.Errorf("an unknown setting: %v", err)
	}
}

// no_backoff's dial options make grpc-go retry a server that closes every
// connection in a tight loop; the plan's own make it wait.
func TestAgainstNoBackoffLoops(t *testing.T) {
	attempts := func(against string) int64 {
		t.Setenv(envAgainst, against)
		raw, _ := json.Marshal(options(func(o map[string]any) {
			o["reconnect"].(map[string]any)["strategy"] = map[string]any{"backoff": "exponential", "initial_ms": 100, "multiplier": 2, "max_ms": 1000}
		}))
		p, err := planFor([]string{"a"}, raw, "c0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var n atomic.Int64
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				n.Add(1)
				c.Close()
			}
		}()
		cc, err := grpc.NewClient("passthrough:///"+l.Addr().String(), append(p.opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
		if err != nil {
			t.Fatal(err)
		}
		cc.Connect()
		time.Sleep(500 * time.Millisecond)
		cc.Close()
		return n.Load()
	}
	// With the plan's back-off (waits 100, 200ms) at most a handful of
	// attempts fit in 500ms; without one, hundreds.
	if got := attempts(""); got > 6 {
		t.Errorf("the plan's back-off: %d attempts in 500ms", got)
	}
	if got := attempts("no_backoff"); got < 30 {
		t.Errorf("no_backoff: only %d attempts in 500ms, want a tight loop", got)
	}
}
