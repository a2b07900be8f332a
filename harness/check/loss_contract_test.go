package check

import (
	"encoding/json"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// Under a blackhole a real library is held to the detection bound its
// effective contract gives for the settings it runs (MQTT keepalive in
// whole seconds), not the scenario's idle bound it could not express.
func TestLossDetectedByTheContractsBound(t *testing.T) {
	blackhole := func(detect float64) history.History {
		s := &story{}
		s.connect(5, "A")
		ct, _ := json.Marshal(map[string]any{
			"liveness": map[string]string{"value": "ping", "cite": "lib keepalive()"},
			"params":   map[string]any{"detect_ms": 1500},
		})
		s.add(
			ev(6, history.KindReply, "client=0", "op=connect", "id=1", "ok=true", "contract="+string(ct)),
			ev(400, "fault.on", "link=s1", "verb=blackhole"),
			ev(600, "session.disconnect", "server=s1", "session=A", "reason=idle"),
			state(detect, cA, rR, "A"),
		)
		return s.hist()
	}
	runCases(t, []tcase{
		{name: "within the library's bound", cfg: &LossDetected{}, h: blackhole(1900), verdict: OK},
		{name: "beyond it", cfg: &LossDetected{}, h: blackhole(2000), verdict: Failed,
			detail: []string{"after 1600.0ms > bound 1550.0ms (the library's detection bound 1500.0ms (contract params detect_ms; liveness: ping (lib keepalive())) + tolerance 50.0ms)"}},
	})
}
