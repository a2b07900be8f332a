package kit

import (
	"encoding/json"
	"strings"
)

// Numbered is what a send publishes: {"n": n, "payload": <the op's
// payload as given>} (the payload key left out when the op has none, is
// null or is not JSON), so that the server's receive records the client's
// send number n as its Seq (each pack's EVENTS.md, receive).
func Numbered(n int64, p json.RawMessage) []byte {
	v := struct {
		N       int64           `json:"n"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}{N: n}
	if len(p) > 0 && string(p) != "null" && json.Valid(p) {
		v.Payload = p
	}
	b, _ := json.Marshal(v)
	return b
}

// SeqOf is a message's number: the payload JSON {"n":N} or {"seq":N}, or a
// bare integer; else 0.
func SeqOf(b []byte) int64 {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if dec.Decode(&v) != nil || dec.More() {
		return 0
	}
	if m, ok := v.(map[string]any); ok {
		v = m["n"]
		if v == nil {
			v = m["seq"]
		}
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
	}
	return 0
}
