package check

import (
	"encoding/json"
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// refusalReply is a connect reply whose contract says refusal: value
// ("" : a contract without the term).
func refusalReply(ms float64, value string) history.Event {
	c := map[string]any{"delivery": map[string]string{"value": "at_most_once", "cite": "lib publish()"}}
	if value != "" {
		c[termRefusal] = map[string]string{"value": value, "cite": "lib handleConnack()"}
	}
	b, _ := json.Marshal(c)
	return ev(ms, history.KindReply, "client=0", "op=connect", "id=1", "ok=true", "contract="+string(b))
}

// refused is an attempt on server at ms that the server refuses (code 5).
func refused(ms float64, server, conn string) []history.Event {
	return []history.Event{
		ev(ms, "accept", "server="+server, "conn="+conn),
		ev(ms+0.3, "handshake", "server="+server, "conn="+conn, "reason=not_authorized", "code=5"),
		ev(ms+0.5, "conn.close", "server="+server, "conn="+conn, "reason=refused"),
	}
}

// admitted is an attempt on server at ms that the server accepts.
func admitted(ms float64, server, conn, sess string) []history.Event {
	return []history.Event{
		ev(ms, "accept", "server="+server, "conn="+conn),
		ev(ms+0.3, "handshake", "server="+server, "conn="+conn, "session="+sess, "ok=true", "code=0"),
		ev(ms+0.4, "session.create", "server="+server, "conn="+conn, "session="+sess),
	}
}

// reconnectRefused: connected on s1, a cut at 500ms, refusals at 1.5s and
// 2.5s, then back at 3.5s (unless closeAt > 0: the client closes
// CLOSED_FAILED then, after the first refusal only).
func reconnectRefused(value string, closeAt float64) history.History {
	s := &story{}
	s.add(admitted(0, "s1", "s1#1", "s1/c")...)
	s.add(ev(0.1, "state", "to=CONNECTING", "server=s1"), state(1, cg, cA, "s1/c"), refusalReply(2, value),
		ev(500, "fault.on", "link=s1", "verb=cut"), ev(500.5, "conn.close", "server=s1", "conn=s1#1", "reason=eof"), state(501, cA, rR, "s1/c"))
	s.add(refused(1500, "s1", "s1#2")...)
	if closeAt > 0 {
		s.add(state(closeAt, rR, cF, "s1/c", "reason=access_denied"), ev(7000, "step", "step=end"))
		return s.hist()
	}
	s.add(refused(2500, "s1", "s1#3")...)
	s.add(admitted(3500, "s1", "s1#4", "s1/c")...)
	s.add(state(3501, rR, cA, "s1/c"), ev(7000, "step", "step=end"))
	return s.hist()
}

// twoServers is the scenario with the list [s1, s2].
func twoServers(sc *scenario.Scenario) {
	sc.Servers = append(sc.Servers, scenario.Server{Name: "s2", Kind: "session"})
	sc.Client.Servers = []string{"s1", "s2"}
}

// cascadeRefused: the first connect over [s1, s2]; s1 refuses; again: s1 is
// tried a second time first (as paho.mqtt.golang's MQTT 3.1 fallback
// does); toS2: whether s2 is tried (and accepts).
func cascadeRefused(value string, again, toS2 bool) history.History {
	s := &story{}
	s.add(ev(0.1, "state", "to=CONNECTING", "server=s1"))
	s.add(refused(1, "s1", "s1#1")...)
	t := 2.0
	if again {
		s.add(refused(t, "s1", "s1#2")...)
		t++
	}
	if toS2 {
		s.add(admitted(t, "s2", "s2#1", "s2/c")...)
		s.add(ev(t+1, "state", "from=CONNECTING", "to=CONNECTED_ACTIVE", "server=s2", "session=s2/c"), refusalReply(t+2, value))
	} else {
		s.add(ev(t, "state", "from=CONNECTING", "to=CLOSED_FAILED", "server=s1", "reason=access_denied"), refusalReply(t+1, value))
	}
	s.add(ev(4000, "step", "step=end"))
	return s.hist()
}

func TestRefusal(t *testing.T) {
	cfg := &Refusal{}
	list := scen(twoServers)
	runCases(t, []tcase{
		{name: "retry: the reconnection goes on after each refusal", cfg: cfg, h: reconnectRefused(refusalRetry, 0), verdict: OK,
			detail: []string{"s1 refused the handshake on s1#2 at 1500.3ms (not_authorized, code 5) during the reconnection; the client went on: s1 at 2500.0ms, s1 at 3500.0ms; accepted by s1 at 3500.3ms", "refusal: retry (lib handleConnack())"}},
		{name: "retry: the client closes at the first refusal", cfg: cfg, h: reconnectRefused(refusalRetry, 1600), verdict: Failed,
			detail: []string{"during the reconnection: yet the client closed CLOSED_FAILED (access_denied) at 1600.0ms without another attempt"}},
		{name: "ends: the client closes at the first refusal", cfg: cfg, h: reconnectRefused(refusalEnds, 1600), verdict: OK,
			detail: []string{"as refusal: ends"}},
		{name: "ends: yet it tried again", cfg: cfg, h: reconnectRefused(refusalEnds, 0), verdict: Failed,
			detail: []string{"yet the client made another attempt, on s1 at 2500.0ms (server accept s1#3)"}},
		{name: "next: the one server again", cfg: cfg, h: reconnectRefused(refusalNext, 0), verdict: Failed,
			detail: []string{"yet the client tried s1 again at 2500.0ms"}},
		{name: "no refusal term: what it did, informational", cfg: cfg, h: reconnectRefused("", 0), verdict: Informational,
			detail: []string{"the client went on", "not judged: refusal: not declared"}},
		{name: "retry, first connect: on to s2 after s1 twice", cfg: cfg, sc: list, h: cascadeRefused(refusalRetry, true, true), verdict: OK,
			detail: []string{"during the first connect; the client went on: s1 at 2.0ms, s2 at 3.0ms; accepted by s2 at 3.3ms"}},
		{name: "next, first connect: s1 twice", cfg: cfg, sc: list, h: cascadeRefused(refusalNext, true, true), verdict: Failed,
			detail: []string{"yet the client tried s1 again at 2.0ms"}},
		{name: "next, first connect: straight to s2", cfg: cfg, sc: list, h: cascadeRefused(refusalNext, false, true), verdict: OK},
		{name: "retry, first connect: never tries s2", cfg: cfg, sc: list, h: cascadeRefused(refusalRetry, false, false), verdict: Failed,
			detail: []string{"yet the client never went on to the next server of its list (s2)"}},
		{name: "retry, first connect on its last server: first_connect's", cfg: cfg, h: cascadeRefused(refusalRetry, false, false), verdict: Unknown,
			detail: []string{"nothing to judge", "whether to go on is first_connect's"}},
		{name: "a refusal within settle of the end", cfg: &Refusal{Settle: Ptr(6500 * msd(1))}, h: reconnectRefused(refusalRetry, 0), verdict: Unknown,
			detail: []string{"within settle"}},
		{name: "no refusal at all", cfg: cfg, h: func() history.History {
			s := &story{}
			s.connect(0, "s1/c")
			return s.add(refusalReply(3, refusalRetry), ev(2000, "step", "step=end")).hist()
		}(), verdict: Unknown, detail: []string{"no server refused a handshake"}},
		{name: "two clients", cfg: cfg, sc: scen(func(sc *scenario.Scenario) { sc.Clients = 2 }), h: reconnectRefused(refusalRetry, 0), verdict: Failed,
			detail: []string{"needs clients: 1"}},
	})
}
