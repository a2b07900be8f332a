package check

import (
	"fmt"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// resendStory: client 0 publishes n = 1..6 at QoS 1 on s1#1 (packet ids
// = n); the connection is cut at 700ms and the client is back on s1#2 at
// 1.5s, where it sends again the given send numbers, in that order, with
// the given DUP flag (under new packet ids n+100 when newIDs).
func resendStory(again []int64, dup string, newIDs bool) history.History {
	s := &story{}
	s.add(admitted(0, "s1", "s1#1", "s1/c")...)
	s.add(ev(0.1, "state", "to=CONNECTING", "server=s1"), state(1, cg, cA, "s1/c"))
	for n := int64(1); n <= 6; n++ {
		s.add(ev(100*float64(n), "receive", "server=s1", "conn=s1#1", "session=s1/c", "topic=t", fmt.Sprintf("seq=%d", n),
			"qos=1", "dup=false", fmt.Sprintf("packet_id=%d", n)))
	}
	s.add(ev(700, "fault.on", "link=s1", "verb=cut"), ev(700.5, "conn.close", "server=s1", "conn=s1#1", "session=s1/c", "reason=eof"),
		state(701, cA, rR, "s1/c"))
	s.add(admitted(1500, "s1", "s1#2", "s1/c")...)
	s.add(state(1501, rR, cA, "s1/c"))
	for i, n := range again {
		id := n
		if newIDs {
			id += 100
		}
		s.add(ev(1502+float64(i)/10, "receive", "server=s1", "conn=s1#2", "session=s1/c", "topic=t", fmt.Sprintf("seq=%d", n),
			"qos=1", "dup="+dup, fmt.Sprintf("packet_id=%d", id)))
	}
	s.add(ev(3000, "step", "step=end"))
	return s.hist()
}

func TestDupFlag(t *testing.T) {
	cfg := &DupFlag{}
	qos0 := resendStory(nil, "", false)
	qos0 = append(qos0, ev(2000, "receive", "server=s1", "conn=s1#2", "session=s1/c", "topic=t", "seq=7", "qos=0", "dup=true", "packet_id=0"))
	firstDup := resendStory(nil, "", false)
	firstDup = append(firstDup, ev(2000, "receive", "server=s1", "conn=s1#2", "session=s1/c", "topic=t", "seq=7", "qos=1", "dup=true", "packet_id=7"))
	sessionKind := history.History{
		ev(0, "accept", "server=s1", "conn=s1#1"), ev(1, "session.create", "server=s1", "conn=s1#1", "session=A"), state(2, cg, cA, "A"),
		ev(100, "receive", "server=s1", "session=A", "seq=1"), ev(200, "receive", "server=s1", "session=A", "seq=1", "dup=true"),
	}
	runCases(t, []tcase{
		{name: "re-delivered with DUP 1", cfg: cfg, h: resendStory([]int64{4, 5, 6}, "true", false), verdict: OK,
			detail: []string{"every one of 3 re-delivered QoS 1 PUBLISH packet(s) carried DUP 1", "[MQTT-3.3.1-1]"}},
		{name: "re-delivered with DUP 0 (MQTT.js 4.3.7)", cfg: cfg, h: resendStory([]int64{4, 5, 6}, "false", false), verdict: Failed,
			detail: []string{"client 0 re-delivered 3 QoS 1 PUBLISH packet(s) with DUP 0 (n=4,5,6), each under the packet id the broker had received it with; the first: n=4 (packet id 4) at 1502.0ms on s1#2, which s1 had received at 400.0ms on s1#1 (DUP 0)",
				`"The DUP flag MUST be set to 1 by the Client or Server when it attempts to re-deliver a PUBLISH Packet" [MQTT-3.3.1-1]`}},
		{name: "sent again under new packet ids: no re-delivery", cfg: cfg, h: resendStory([]int64{4, 5}, "false", true), verdict: Unknown,
			detail: []string{"nothing to judge", "client 0 sent n=4 again at 1502.0ms under a new packet id 104 (first 4 at 400.0ms)"}},
		{name: "QoS 0 with DUP 1", cfg: cfg, h: qos0, verdict: Failed,
			detail: []string{"client 0 sent a QoS 0 PUBLISH (n=7) with DUP 1", "[MQTT-3.3.1-2]"}},
		{name: "DUP 1 on a first copy is allowed, but judges nothing", cfg: cfg, h: firstDup, verdict: Unknown,
			detail: []string{"no QoS 1 PUBLISH of a client reached the broker twice"}},
		{name: "no resend", cfg: cfg, h: resendStory(nil, "", false), verdict: Unknown},
		{name: "a server kind that records no flags", cfg: cfg, h: sessionKind, verdict: Unknown,
			detail: []string{"no server recorded the QoS and DUP flag"}},
	})
}
