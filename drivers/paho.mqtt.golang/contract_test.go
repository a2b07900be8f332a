package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The MQTT terms (refusal, resubscribe): in the hello as the library's,
// and in each connect's effective contract as the application gets them,
// the driver's re-subscription (driver_adds) included.
func TestMQTTTerms(t *testing.T) {
	b, _ := json.Marshal(builtin())
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if v := value(c, "refusal"); v != "retry" {
		t.Errorf("built-in refusal = %s, want retry", v)
	}
	if v := value(c, "resubscribe"); v != "none" {
		t.Errorf("built-in resubscribe = %s, want none (the library's own)", v)
	}
	for _, k := range []string{"refusal", "resubscribe"} {
		if cite := c[k].(map[string]any)["cite"].(string); !strings.HasPrefix(cite, "paho.mqtt.golang client.go ") {
			t.Errorf("%s cite %q", k, cite)
		}
	}

	one := []string{"mqtt://127.0.0.1:1883/"}
	p, eff := planOf(t, one, nil)
	if !p.resubscribe || value(eff, "resubscribe") != "driver" || value(eff, "refusal") != "retry" {
		t.Errorf("effective: resubscribe %s refusal %s (driver re-subscribes: %v)", value(eff, "resubscribe"), value(eff, "refusal"), p.resubscribe)
	}
	if cite := eff["resubscribe"].(map[string]any)["cite"].(string); !strings.HasPrefix(cite, "driver: ") || !strings.Contains(cite, "resume(") {
		t.Errorf("effective resubscribe cite %q: want the driver's, then the library's", cite)
	}
	adds := false
	for _, a := range eff["driver_adds"].([]any) {
		adds = adds || strings.Contains(a.(map[string]any)["what"].(string), "re-subscribes")
	}
	if !adds {
		t.Error("resubscribe: driver without a driver_adds entry")
	}

	t.Setenv("FAULTLINE_MQTT_AGAINST", "no_resubscribe")
	p, eff = planOf(t, one, nil)
	if p.resubscribe || value(eff, "resubscribe") != "none" {
		t.Errorf("no_resubscribe: resubscribe %s (driver re-subscribes: %v), want none", value(eff, "resubscribe"), p.resubscribe)
	}
}
