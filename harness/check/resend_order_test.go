package check

import "testing"

func TestResendOrder(t *testing.T) {
	cfg := &ResendOrder{}
	runCases(t, []tcase{
		{name: "in the original order", cfg: cfg, h: resendStory([]int64{3, 4, 5, 6}, "true", false), verdict: OK,
			detail: []string{"4 resend(s) on 1 connection(s), each connection's in the order of the originals", "[MQTT-4.6.0-1]"}},
		{name: "out of order (paho.mqtt.golang's MemoryStore)", cfg: cfg, h: resendStory([]int64{5, 6, 3, 4}, "true", false), verdict: Failed,
			detail: []string{"client 0 re-sent 4 PUBLISH packet(s) on s1#2 (s1 at 1502.0ms … 1502.3ms) in the order n=5,6,3,4: n=3 came after a later send's resend", "[MQTT-4.6.0-1]"}},
		{name: "resends without DUP still count", cfg: cfg, h: resendStory([]int64{6, 5}, "false", false), verdict: Failed,
			detail: []string{"in the order n=6,5"}},
		{name: "no resend", cfg: cfg, h: resendStory(nil, "", false), verdict: Unknown},
	})
}
