package kit

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// The example of docs/driver-protocol.md ("The connect op's options"): every
// key lands in its field.
const docExample = `{"principal": "p", "credentials": "c",
 "reconnect": {"enabled": true, "timeout_ms": 3000, "retention_ms": 3000, "buffer": 1024,
               "strategy": {"backoff": "exponential", "initial_ms": 100, "multiplier": 2, "max_ms": 1000, "attempts": 25, "jitter": 0.2}},
 "failover": {"auto": false, "load_balancing": true, "cascading": true},
 "liveness_ms": 300, "connect_timeout_ms": 1000,
 "router": {"high_watermark": 65536},
 "migration": {"enabled": true, "timeout_ms": 1000},
 "keep_session": true, "delivery": "at_least_once",
 "library": {"grpc": {"idle_connect": false}}}`

func TestParseConnectOptions(t *testing.T) {
	co, err := ParseConnectOptions(json.RawMessage(docExample))
	if err != nil {
		t.Fatal(err)
	}
	on := true
	want := ConnectOptions{
		Principal: "p", Credentials: "c",
		Reconnect: &ReconnectOptions{Enabled: &on, TimeoutMS: 3000, RetentionMS: 3000, Buffer: 1024,
			Strategy: &StrategyOptions{Backoff: "exponential", InitialMS: 100, Multiplier: 2, MaxMS: 1000, Attempts: 25, Jitter: 0.2}},
		Failover:   &FailoverOptions{LoadBalancing: true, Cascading: true},
		LivenessMS: 300, ConnectTimeoutMS: 1000,
		Router:      json.RawMessage(`{"high_watermark": 65536}`),
		Migration:   &MigrationOptions{Enabled: true, TimeoutMS: 1000},
		KeepSession: true, Delivery: "at_least_once",
		Library: map[string]json.RawMessage{"grpc": json.RawMessage(`{"idle_connect": false}`)},
	}
	if !reflect.DeepEqual(co, want) {
		t.Errorf("got  %+v\nwant %+v", co, want)
	}
	if !co.IsRouter() || !co.MigrationOn() || co.ReconnectOff() || co.Strategy() != co.Reconnect.Strategy {
		t.Errorf("router %v, migration %v, reconnect off %v", co.IsRouter(), co.MigrationOn(), co.ReconnectOff())
	}

	// Absent and null are every default.
	for _, raw := range []string{"", "null", "{}"} {
		co, err := ParseConnectOptions(json.RawMessage(raw))
		if err != nil || !reflect.DeepEqual(co, ConnectOptions{}) {
			t.Errorf("%q: %+v, %v", raw, co, err)
		}
		if co.IsRouter() || co.MigrationOn() || co.ReconnectOff() || co.Strategy() != nil {
			t.Errorf("%q: router %v, migration %v, reconnect off %v, strategy %v", raw, co.IsRouter(), co.MigrationOn(), co.ReconnectOff(), co.Strategy())
		}
	}

	// A wrong type refuses the connect.
	for _, raw := range []string{`{"reconnect":"yes"}`, `{"reconnect":7}`, `{"liveness_ms":"1s"}`, `[1]`, `{`} {
		if _, err := ParseConnectOptions(json.RawMessage(raw)); err == nil || !strings.HasPrefix(err.Error(), "bad options: ") {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

func TestReconnectOffOnlyWhenEnabledIsFalse(t *testing.T) {
	off, on := false, true
	for _, c := range []struct {
		r    *ReconnectOptions
		want bool
	}{
		{nil, false},
		{&ReconnectOptions{}, false},
		{&ReconnectOptions{Enabled: &on}, false},
		{&ReconnectOptions{Enabled: &off}, true},
	} {
		if got := (ConnectOptions{Reconnect: c.r}).ReconnectOff(); got != c.want {
			t.Errorf("%+v: %v", c.r, got)
		}
	}
	if (ConnectOptions{Reconnect: &ReconnectOptions{}}).Strategy() != nil {
		t.Error("a reconnect block without strategy has one")
	}
	if (ConnectOptions{Migration: &MigrationOptions{}}).MigrationOn() {
		t.Error("migration.enabled false is on")
	}
	if (ConnectOptions{Router: json.RawMessage("null")}).IsRouter() {
		t.Error("router null is a router")
	}
}

func TestLibraryOptions(t *testing.T) {
	type grpcOptions struct {
		IdleConnect *bool  `json:"idle_connect"`
		LBPolicy    string `json:"lb_policy"`
	}
	co, err := ParseConnectOptions(json.RawMessage(`{"library":{"grpc":{"lb_policy":"round_robin"},"nats":{"x":1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var g *grpcOptions
	if err := co.LibraryOptions("grpc", &g); err != nil || g == nil || g.LBPolicy != "round_robin" || g.IdleConnect != nil {
		t.Errorf("grpc: %+v, %v", g, err)
	}
	// Another protocol's entry is not this one's; none leaves v alone.
	keep := &grpcOptions{LBPolicy: "pick_first"}
	if err := co.LibraryOptions("mqtt", &keep); err != nil || keep.LBPolicy != "pick_first" {
		t.Errorf("mqtt: %+v, %v", keep, err)
	}
	var none *grpcOptions
	if err := (ConnectOptions{}).LibraryOptions("grpc", &none); err != nil || none != nil {
		t.Errorf("no library: %+v, %v", none, err)
	}
	bad, _ := ParseConnectOptions(json.RawMessage(`{"library":{"grpc":{"lb_policy":5}}}`))
	if err := bad.LibraryOptions("grpc", &g); err == nil || !strings.Contains(err.Error(), "library.grpc") {
		t.Errorf("a wrong type in library.grpc: %v", err)
	}
}

func TestDelayMS(t *testing.T) {
	for _, c := range []struct {
		name string
		st   StrategyOptions
		want []float64
	}{
		{"exponential, capped", StrategyOptions{Backoff: "exponential", InitialMS: 100, Multiplier: 2, MaxMS: 500}, []float64{100, 200, 400, 500, 500}},
		{"empty backoff is exponential, multiplier 0 is 2", StrategyOptions{InitialMS: 10}, []float64{10, 20, 40, 80, 160}},
		{"multiplier 1.5, no cap", StrategyOptions{InitialMS: 100, Multiplier: 1.5}, []float64{100, 150, 225, 337.5, 506.25}},
		{"fixed ignores multiplier and max", StrategyOptions{Backoff: "fixed", InitialMS: 250, Multiplier: 3, MaxMS: 100}, []float64{250, 250, 250, 250, 250}},
	} {
		for n, w := range c.want {
			if got := c.st.DelayMS(n); math.Abs(got-w) > 1e-9 {
				t.Errorf("%s: delay %d = %g, want %g", c.name, n, got, w)
			}
		}
	}
	if m := (&StrategyOptions{}).EffectiveMultiplier(); m != DefaultMultiplier {
		t.Errorf("multiplier 0: %g", m)
	}
	if m := (&StrategyOptions{Multiplier: 1.2}).EffectiveMultiplier(); m != 1.2 {
		t.Errorf("multiplier 1.2: %g", m)
	}
	if d := (&StrategyOptions{InitialMS: 1, Multiplier: 10}).DelayMS(400); !math.IsInf(d, 1) {
		t.Errorf("uncapped past float64: %g", d)
	}
}
