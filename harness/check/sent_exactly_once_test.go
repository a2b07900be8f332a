package check

import (
	"strconv"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// sendStory: the driver acknowledges `acked` sends at 100, 110, …; the server
// receives the listed n (in order) at 200, 210, … ("3d" marks a dup resend).
func sendStory(acked int, recv ...string) *story {
	s := &story{}
	s.connect(5, "A")
	for i := 0; i < acked; i++ {
		id := strconv.Itoa(i + 1)
		s.add(ev(100+10*float64(i), "op", "op=send", "id="+id), ev(101+10*float64(i), "reply", "op=send", "ok=true", "id="+id))
	}
	for i, r := range recv {
		kv := []string{"server=s1", "session=A", "conn=s1#1"}
		if n, ok := cutSuffix(r, "d"); ok {
			kv = append(kv, "seq="+n, "dup=true")
		} else {
			kv = append(kv, "seq="+r)
		}
		s.add(ev(200+10*float64(i), "receive", kv...))
	}
	return s
}

func cutSuffix(s, suf string) (string, bool) {
	if len(s) > len(suf) && s[len(s)-len(suf):] == suf {
		return s[:len(s)-len(suf)], true
	}
	return s, false
}

func TestSentExactlyOnce(t *testing.T) {
	declared := func(extra ...history.Event) history.History {
		return sendStory(3, "1", "2").add(extra...).hist()
	}
	runCases(t, []tcase{
		{name: "all received once in order", cfg: &SentExactlyOnce{}, h: sendStory(3, "1", "2", "3").hist(), verdict: OK},
		{name: "lost send", cfg: &SentExactlyOnce{}, h: sendStory(4, "1", "2", "4").hist(), verdict: Failed,
			detail: []string{"client 0: lost send: the driver acknowledged send n=3 (of 4) but the server never received it"}},
		{name: "lost send declared by the client", cfg: &SentExactlyOnce{},
			h: declared(state(400, cA, cF, "A", "reason=lost_messages")), verdict: OK,
			detail: []string{"declared by its CLOSED_FAILED (lost_messages)"}},
		{name: "lost send declared by the server", cfg: &SentExactlyOnce{},
			h: declared(ev(399, "session.close", "server=s1", "session=A", "reason=lost_messages")), verdict: OK,
			detail: []string{"declared by server s1 session.close"}},
		{name: "dup resend", cfg: &SentExactlyOnce{}, h: sendStory(3, "1", "2", "2d", "3").hist(), verdict: NonStrict,
			detail: []string{"received send n=2 again at 220.0ms (a duplicate resend"}},
		{name: "out of order", cfg: &SentExactlyOnce{}, h: sendStory(3, "1", "3", "2").hist(), verdict: Failed,
			detail: []string{"received send n=2 at 220.0ms after n=3 (out of order)"}},
		{name: "more received than acknowledged", cfg: &SentExactlyOnce{}, h: sendStory(2, "1", "2", "3").hist(), verdict: NonStrict,
			detail: []string{"beyond the 2 send(s) the driver acknowledged"}},
		{name: "nothing sent", cfg: &SentExactlyOnce{}, h: sendStory(0).hist(), verdict: Unknown, detail: []string{"nothing to judge"}},
		// Every send declared lost: nothing arrived to be counted once.
		{name: "every send declared lost, none received", cfg: &SentExactlyOnce{},
			h: sendStory(3).add(state(400, cA, cF, "A", "reason=lost_messages")).hist(), verdict: Unknown,
			detail: []string{"nothing to judge: 3 acknowledged send(s), none received by a server"}},
	})
}
