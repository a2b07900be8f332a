package kittest

import (
	"strings"
	"testing"
)

// Terms are the contract's terms (docs/driver-protocol.md, "The SDK
// contract"), every one of which a driver's contract states.
var Terms = []string{"first_attempt", "delay_applies", "delay", "jitter", "reset", "attempt_limit",
	"failover", "shuffle", "first_connect", "liveness", "overall_timeout", "lame_duck", "delivery", "buffer", "discovery", "close_error"}

// CheckTerms holds a contract (as JSON decodes it) to having every term,
// each with a value and a citation starting with one of cites (the
// library's name, or "driver: ").
func CheckTerms(t *testing.T, c map[string]any, cites ...string) {
	t.Helper()
	for _, k := range Terms {
		term, ok := c[k].(map[string]any)
		if !ok {
			t.Errorf("contract has no term %s", k)
			continue
		}
		v, _ := term["value"].(string)
		cite, _ := term["cite"].(string)
		cited := false
		for _, p := range cites {
			cited = cited || strings.HasPrefix(cite, p)
		}
		if v == "" || !cited {
			t.Errorf("term %s: value %q cite %q", k, v, cite)
		}
	}
}

// Unsupported is a contract's unsupported options: option → reason.
func Unsupported(c map[string]any) map[string]string {
	out := map[string]string{}
	for _, u := range AsList(c["unsupported"]) {
		m := u.(map[string]any)
		out[m["option"].(string)] = m["reason"].(string)
	}
	return out
}

// AsList is v as a JSON array (nil when it is not one).
func AsList(v any) []any {
	l, _ := v.([]any)
	return l
}

// Options is a scenario client block as the harness renders it, with a
// fixed back-off of initialMS; mod changes it.
func Options(initialMS int, mod func(map[string]any)) map[string]any {
	o := map[string]any{
		"reconnect": map[string]any{"enabled": true, "timeout_ms": 60000, "retention_ms": 60000,
			"strategy": map[string]any{"backoff": "fixed", "initial_ms": initialMS}},
		"failover":           map[string]any{"auto": false, "load_balancing": false, "cascading": false},
		"connect_timeout_ms": 1000,
		"migration":          map[string]any{"enabled": false},
	}
	if mod != nil {
		mod(o)
	}
	return o
}

// Sub is the object under key k.
func Sub(m map[string]any, k string) map[string]any { return m[k].(map[string]any) }
