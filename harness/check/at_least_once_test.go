package check

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func TestAtLeastOnce(t *testing.T) {
	cfg := &AtLeastOnce{Topic: "prices", Settle: Ptr(100 * time.Millisecond)}
	contract := func(delivery string) history.Event {
		b, _ := json.Marshal(map[string]any{"delivery": map[string]string{"value": delivery, "cite": "lib publish()"}})
		return ev(6, history.KindReply, "client=0", "op=connect", "id=1", "ok=true", "contract="+string(b))
	}
	with := func(s *story, evs ...history.Event) history.History { s.add(evs...); return s.hist() }
	// A redelivery of seq 3 (DUP) that the client reports a second time.
	redelivered := func() *story {
		s := pubStory(5, 1, 2, 3, 4, 5)
		s.add(ev(260, "deliver", "server=s1", "session=A", "conn=s1#2", "topic=prices", "seq=3", "dup=true"),
			ev(261, "message", "topic=prices", "seq=3"))
		return s
	}
	runCases(t, []tcase{
		{name: "every message once", cfg: cfg, h: with(pubStory(5, 1, 2, 3, 4, 5), contract("at_least_once"), ev(900, "fault.on", "link=s1", "verb=cut")), verdict: OK,
			detail: []string{"all 5 owed message(s) reached the client at least once (0 repeat(s)"}},
		{name: "a repeat the server redelivered", cfg: cfg, h: with(redelivered(), contract("at_least_once"), ev(900, "fault.on", "link=s1", "verb=cut")), verdict: OK,
			detail: []string{"(1 repeat(s), each a server redelivery)"}},
		{name: "a repeat the server never sent", cfg: cfg, h: with(pubStory(5, 1, 2, 3, 3, 4, 5), contract("at_least_once"), ev(900, "fault.on", "link=s1", "verb=cut")), verdict: Failed,
			detail: []string{"client reports seq 3 for the 2-th time", "the server delivered it only 1 time(s)"}},
		{name: "a lost message under at least once", cfg: cfg, h: with(pubStory(5, 1, 2, 3, 5), contract("at_least_once"), ev(900, "fault.on", "link=s1", "verb=cut")), verdict: Failed,
			detail: []string{"seq 4 published by server s1 at 250.0ms never reached the client (1 server deliveries of it); delivery: at_least_once (lib publish())"}},
		{name: "a lost message under at most once", cfg: cfg, h: with(pubStory(5, 1, 2, 3, 5), contract("at_most_once"), ev(900, "fault.on", "link=s1", "verb=cut")), verdict: Informational,
			detail: []string{"seq 4 published", "not promised: delivery: at_most_once (lib publish())"}},
		{name: "a message the server never delivered", cfg: cfg, h: with(pubStory(3, 1, 2, 3, 7), contract("at_least_once"), ev(900, "fault.on", "link=s1", "verb=cut")), verdict: Failed,
			detail: []string{"client reports seq 7 at", "which the server never delivered to the session"}},
		{name: "published within settle of the end: not owed", cfg: &AtLeastOnce{Topic: "prices", Settle: Ptr(time.Second)}, h: with(pubStory(5, 1, 2), contract("at_least_once"), ev(900, "fault.on", "link=s1", "verb=cut")), verdict: Unknown,
			detail: []string{"nothing to judge"}},
		{name: "no subscribe", cfg: &AtLeastOnce{Topic: "other"}, h: with(pubStory(2, 1, 2), contract("at_least_once")), verdict: Unknown,
			detail: []string{"no client session subscribed to \"other\""}},
	})
}
