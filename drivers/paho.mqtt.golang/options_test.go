package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit/kittest"
)

func checkTerms(t *testing.T, c map[string]any) {
	t.Helper()
	kittest.CheckTerms(t, c, "paho.mqtt.golang ", "paho.mqtt.golang: ", "driver: ")
}

// plan runs planFor on a scenario client block and returns the effective
// contract as the harness reads it (JSON).
func planOf(t *testing.T, servers []string, mod func(map[string]any)) (*plan, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(options(mod))
	p, err := planFor(servers, raw, "fl-1-0")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p.contract)
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	checkTerms(t, c)
	return p, c
}

func value(c map[string]any, term string) string { return c[term].(map[string]any)["value"].(string) }

func TestBuiltinContract(t *testing.T) {
	b, _ := json.Marshal(builtin())
	var c map[string]any
	json.Unmarshal(b, &c)
	checkTerms(t, c)
	want := map[string]string{"first_attempt": "immediate", "delay_applies": "per_pass", "delay": "exponential", "jitter": "none",
		"reset": "never", "attempt_limit": "none", "failover": "top", "shuffle": "none", "first_connect": "cascade", "liveness": "ping",
		"overall_timeout": "none", "lame_duck": "none", "delivery": "at_most_once", "buffer": "none", "discovery": "ignore", "close_error": "last_error"}
	for k, v := range want {
		if got := value(c, k); got != v {
			t.Errorf("built-in %s = %s, want %s", k, got, v)
		}
	}
	if _, ok := c["params"]; ok {
		t.Error("the built-in contract has params")
	}
	// The go.mod pins the version the hello names.
	mod, err := os.ReadFile("go.mod")
	if err != nil || !strings.Contains(string(mod), "github.com/eclipse/paho.mqtt.golang "+Version) {
		t.Errorf("go.mod does not require paho.mqtt.golang %s: %v", Version, err)
	}
}

func TestOptionsMapping(t *testing.T) {
	one := []string{"mqtt://127.0.0.1:1883/"}
	two := []string{"mqtt://127.0.0.1:1883/", "mqtt://127.0.0.1:1884"}
	cases := []struct {
		name    string
		servers []string
		mod     func(map[string]any)
		check   func(t *testing.T, p *plan, c, pr map[string]any, un map[string]string, adds []string)
	}{
		{"defaults: fixed 200ms, QoS 0, clean session", one, nil, func(t *testing.T, p *plan, c, pr map[string]any, un map[string]string, adds []string) {
			o := p.opts
			if !o.CleanSession || !o.AutoReconnect || o.ConnectRetry || o.MaxReconnectInterval != 200*time.Millisecond || o.ConnectTimeout != time.Second || o.Dialer.Timeout != time.Second {
				t.Errorf("options: %+v", o)
			}
			if o.ClientID != "fl-1-0" || len(o.Servers) != 1 || o.Servers[0].Host != "127.0.0.1:1883" || p.qos != 0 {
				t.Errorf("client id %q servers %v qos %d", o.ClientID, o.Servers, p.qos)
			}
			if o.KeepAlive != 30 || o.PingTimeout != 10*time.Second {
				t.Errorf("no liveness asked, but KeepAlive %d PingTimeout %v", o.KeepAlive, o.PingTimeout)
			}
			for k, v := range map[string]string{"delay": "constant", "delivery": "at_most_once", "buffer": "none", "first_attempt": "immediate", "failover": "top"} {
				if got := value(c, k); got != v {
					t.Errorf("%s = %s, want %s", k, got, v)
				}
			}
			if pr["initial_ms"] != 200.0 || pr["max_ms"] != 200.0 || pr["multiplier"] != 2.0 || pr["jitter"] != 0.0 || pr["qos"] != 0.0 || pr["clean_session"] != true {
				t.Errorf("params: %v", pr)
			}
			if un["reconnect.strategy"] != "" || un["reconnect.timeout_ms"] == "" || un["reconnect.retention_ms"] == "" {
				t.Errorf("unsupported: %v", un)
			}
			if len(adds) != 2 || !strings.Contains(adds[0], "SetCustomOpenConnectionFn") || !strings.Contains(adds[1], "re-subscribes") {
				t.Errorf("driver_adds: %v", adds)
			}
		}},
		{"paho's own exponential, keep session, QoS 1, liveness 3s", one, func(o map[string]any) {
			kittest.Sub(o, "reconnect")["strategy"] = map[string]any{"backoff": "exponential", "initial_ms": 1000, "multiplier": 2, "max_ms": 8000}
			o["keep_session"] = true
			o["delivery"] = "at_least_once"
			o["liveness_ms"] = 3000
			o["principal"], o["credentials"] = "u", "p"
		}, func(t *testing.T, p *plan, c, pr map[string]any, un map[string]string, adds []string) {
			o := p.opts
			if o.CleanSession || p.qos != 1 || o.MaxReconnectInterval != 8*time.Second || o.KeepAlive != 2 || o.PingTimeout != 250*time.Millisecond || o.Username != "u" || o.Password != "p" {
				t.Errorf("options: %+v", o)
			}
			for k, v := range map[string]string{"delay": "exponential", "delivery": "at_least_once", "buffer": "while_reconnecting"} {
				if got := value(c, k); got != v {
					t.Errorf("%s = %s, want %s", k, got, v)
				}
			}
			if !strings.Contains(c["liveness"].(map[string]any)["cite"].(string), "within 3000ms") {
				t.Errorf("liveness: %v", c["liveness"])
			}
			if un["reconnect.strategy"] != "" || un["liveness_ms"] != "" || un["reconnect.strategy.jitter"] != "" {
				t.Errorf("expressible, but unsupported: %v", un)
			}
			if pr["initial_ms"] != 1000.0 || pr["max_ms"] != 8000.0 || pr["keepalive_s"] != 2.0 || pr["ping_timeout_ms"] != 250.0 || pr["username"] != true {
				t.Errorf("params: %v", pr)
			}
		}},
		{"another exponential, sub-second liveness, two servers", two, func(o map[string]any) {
			kittest.Sub(o, "reconnect")["strategy"] = map[string]any{"backoff": "exponential", "initial_ms": 100, "multiplier": 2, "max_ms": 2000, "jitter": 0.2, "attempts": 5}
			kittest.Sub(o, "reconnect")["buffer"] = 64
			o["liveness_ms"] = 300
			o["failover"] = map[string]any{"auto": false, "load_balancing": true, "cascading": false}
			o["migration"] = map[string]any{"enabled": true}
			o["router"] = map[string]any{"high_watermark": 1}
		}, func(t *testing.T, p *plan, c, pr map[string]any, un map[string]string, adds []string) {
			if p.opts.MaxReconnectInterval != 2*time.Second || p.opts.KeepAlive != 1 || len(p.opts.Servers) != 2 {
				t.Errorf("options: %+v", p.opts)
			}
			for _, k := range []string{"reconnect.strategy", "reconnect.strategy.jitter", "reconnect.strategy.attempts", "reconnect.buffer", "liveness_ms",
				"failover.auto", "failover.load_balancing", "failover.cascading", "migration.enabled", "router"} {
				if un[k] == "" {
					t.Errorf("%s not listed unsupported: %v", k, un)
				}
			}
			if !strings.Contains(un["reconnect.strategy"], "delay 0 would be 1000ms, the scenario's 100ms") {
				t.Errorf("reconnect.strategy: %s", un["reconnect.strategy"])
			}
			if pr["initial_ms"] != 1000.0 || pr["max_ms"] != 2000.0 {
				t.Errorf("params: %v", pr)
			}
		}},
		{"fixed above paho's 1 s", one, func(o map[string]any) {
			kittest.Sub(o, "reconnect")["strategy"] = map[string]any{"backoff": "fixed", "initial_ms": 3000}
		}, func(t *testing.T, p *plan, c, pr map[string]any, un map[string]string, adds []string) {
			if value(c, "delay") != "exponential" || !strings.Contains(un["reconnect.strategy"], "delay 0 would be 1000ms, the scenario's 3000ms") {
				t.Errorf("delay %v, unsupported %v", c["delay"], un)
			}
		}},
		{"reconnect off", two, func(o map[string]any) {
			kittest.Sub(o, "reconnect")["enabled"] = false
			o["delivery"] = "at_least_once"
			o["failover"] = map[string]any{"auto": true, "cascading": true}
		}, func(t *testing.T, p *plan, c, pr map[string]any, un map[string]string, adds []string) {
			if p.opts.AutoReconnect || p.reconnect || pr["auto_reconnect"] != false {
				t.Errorf("AutoReconnect on: %v", pr)
			}
			if value(c, "delivery") != "at_most_once" || value(c, "buffer") != "none" {
				t.Errorf("delivery %v buffer %v", c["delivery"], c["buffer"])
			}
			if un["failover.auto"] == "" || un["failover.cascading"] != "" || un["reconnect.timeout_ms"] != "" {
				t.Errorf("unsupported: %v", un)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, c := planOf(t, tc.servers, tc.mod)
			pr, _ := c["params"].(map[string]any)
			var adds []string
			for _, a := range kittest.AsList(c["driver_adds"]) {
				adds = append(adds, a.(map[string]any)["what"].(string))
			}
			tc.check(t, p, c, pr, kittest.Unsupported(c), adds)
		})
	}
}

// FAULTLINE_MQTT_AGAINST goes against the scenario on purpose and says so.
func TestAgainst(t *testing.T) {
	t.Setenv("FAULTLINE_MQTT_AGAINST", "no_reconnect, clean_session,no_resubscribe")
	p, c := planOf(t, []string{"mqtt://127.0.0.1:1883"}, func(o map[string]any) { o["keep_session"] = true })
	if p.opts.AutoReconnect || !p.opts.CleanSession || p.resubscribe {
		t.Errorf("options: AutoReconnect %v CleanSession %v resubscribe %v", p.opts.AutoReconnect, p.opts.CleanSession, p.resubscribe)
	}
	var whats []string
	for _, a := range kittest.AsList(c["driver_adds"]) {
		whats = append(whats, a.(map[string]any)["what"].(string))
	}
	for _, w := range []string{"FAULTLINE_MQTT_AGAINST=no_reconnect", "FAULTLINE_MQTT_AGAINST=clean_session", "FAULTLINE_MQTT_AGAINST=no_resubscribe"} {
		if !slices.Contains(whats, w) {
			t.Errorf("driver_adds %v lacks %s", whats, w)
		}
	}
	if slices.ContainsFunc(whats, func(w string) bool { return strings.Contains(w, "re-subscribes") }) {
		t.Errorf("no_resubscribe, but driver_adds %v", whats)
	}
	t.Setenv("FAULTLINE_MQTT_AGAINST", "frobnicate")
	if _, err := planFor([]string{"mqtt://127.0.0.1:1883"}, nil, "x"); err == nil {
		t.Error("an unknown FAULTLINE_MQTT_AGAINST setting was accepted")
	}
}

func TestBadOptions(t *testing.T) {
	for _, raw := range []string{`{"delivery":"exactly_once"}`, `{"reconnect":7}`} {
		if _, err := planFor([]string{"mqtt://127.0.0.1:1883"}, json.RawMessage(raw), "x"); err == nil {
			t.Errorf("%s accepted", raw)
		}
	}
}

// pahoDelay follows backoff.go getBackoffSleepTime(): 1 s doubling up to
// the max, or the max throughout when it is below 1 s.
func TestPahoDelay(t *testing.T) {
	var got []time.Duration
	for n := 0; n < 6; n++ {
		got = append(got, pahoDelay(n, 10*time.Second))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("max 10s: %v", got)
	}
	if d := pahoDelay(0, 300*time.Millisecond); d != 300*time.Millisecond {
		t.Errorf("max 300ms: first %v", d)
	}
	if d := pahoDelay(4, 300*time.Millisecond); d != 300*time.Millisecond {
		t.Errorf("max 300ms: fifth %v", d)
	}
}

func TestClientID(t *testing.T) {
	d := New(nopWriter{}, func(k string) string {
		if k == "FAULTLINE_DRIVER" {
			return "3"
		}
		return ""
	})
	seven := 7
	for _, c := range []struct {
		o    op
		want string
	}{
		{op{}, "fl-3-2"},
		{op{Client: &seven, Driver: 8}, "fl-8-7"},
	} {
		if got := d.clientID(c.o); got != c.want {
			t.Errorf("clientID(%+v) = %s, want %s", c.o, got, c.want)
		}
	}
	d = New(nopWriter{}, func(string) string { return "" })
	if got := d.clientID(op{}); got != "fl-1-0" {
		t.Errorf("no FAULTLINE_DRIVER: %s", got)
	}
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
