package check

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// dscen is the discovery scenario: s1 and s2 (kind nats), the client given
// s1 only (and more given servers when asked).
func dscen(given ...string) *scenario.Scenario {
	if len(given) == 0 {
		given = []string{"s1"}
	}
	return scen(func(sc *scenario.Scenario) {
		sc.Servers = []scenario.Server{{Name: "s1", Kind: "nats"}, {Name: "s2", Kind: "nats"}, {Name: "s3", Kind: "nats"}}
		sc.Client.Servers = given
	})
}

const (
	followC = `contract={"discovery":{"value":"follow","cite":"nats.go updateServerPool()"}}`
	ignoreC = `contract={"discovery":{"value":"ignore","cite":"nats.go IgnoreDiscoveredServers()"}}`
)

// dstory is a NATS client on s1 (connection s1#1, session S1) with the
// connect reply's contract ("" none), s1 advertising announced (Attrs) at
// 500ms on s1#1 (announced "" → no advertisement), and a cut of s1 from
// 1000ms to 3000ms which the client leaves CONNECTED_ACTIVE for.
func dstory(contract, announced string) *story {
	s := &story{}
	s.add(
		ev(10, "accept", "server=s1", "conn=s1#1"),
		ev(11, "handshake", "server=s1", "conn=s1#1", "ok=true", "session=S1"),
		ev(11, "session.create", "server=s1", "conn=s1#1", "session=S1", "retention_ms=0", "scope=connection"),
		state(12, cg, cA, "S1"),
		ev(1000, "fault.on", "link=s1", "verb=cut"),
		ev(1001, "conn.close", "server=s1", "conn=s1#1", "session=S1", "reason=eof"),
		state(1002, cA, rR, "S1"),
		ev(3000, "fault.off", "link=s1", "verb=cut"),
	)
	if contract != "" {
		s.add(ev(13, history.KindReply, "op=connect", "ok=true", contract))
	}
	if announced != "" {
		s.add(ev(500, "advertise", "server=s1", "conn=s1#1", "addrs=nats://127.0.0.1:4001", "servers="+announced))
	}
	return s
}

// landOn: the client lands on server (connection conn, session sess) at ms.
func (s *story) landOn(ms float64, server, conn, sess string) *story {
	return s.add(
		ev(ms, "accept", "server="+server, "conn="+conn),
		ev(ms+1, "handshake", "server="+server, "conn="+conn, "ok=true", "session="+sess),
		ev(ms+1, "session.create", "server="+server, "conn="+conn, "session="+sess, "retention_ms=0", "scope=connection"),
		ev(ms+2, history.KindState, "from="+rR, "to="+cA, "server="+server, "session="+sess),
	)
}

func TestDiscoveredServer(t *testing.T) {
	cfg := &DiscoveredServer{}
	cases := []tcase{
		{name: "lands on the advertised server", cfg: cfg, sc: dscen(),
			h:       dstory(followC, "s2").landOn(1003, "s2", "s2#1", "S2").hist(),
			verdict: OK, detail: []string{"s1 advertised s2 at 500.0ms", "landed on the advertised s2 at 1005.0ms", "session S2 created by s2"}},
		{name: "lands on the advertised server against an ignore contract: OK, noted", cfg: cfg, sc: dscen(),
			h:       dstory(ignoreC, "s2").landOn(1003, "s2", "s2#1", "S2").hist(),
			verdict: OK, detail: []string{"landed on the advertised s2", "although its contract says discovery: ignore"}},
		{name: "back on the given server after it healed, contract follow", cfg: cfg, sc: dscen(),
			h:       dstory(followC, "s2").landOn(3010, "s1", "s1#5", "S1b").hist(),
			verdict: Failed, detail: []string{"came back on s1 at 3012.0ms, not on the advertised s2", "0 connection attempts reached s2",
				"down until 3000.0ms", "although its contract says it follows advertised servers: discovery: follow (nats.go updateServerPool())"}},
		{name: "never came back, contract follow", cfg: cfg, sc: dscen(),
			h:       dstory(followC, "s2").hist(),
			verdict: Failed, detail: []string{"never came back", "last state RECOVERING_RECONNECT"}},
		{name: "back on the given server, contract ignore", cfg: cfg, sc: dscen(),
			h:       dstory(ignoreC, "s2").landOn(3010, "s1", "s1#5", "S1b").hist(),
			verdict: Informational, detail: []string{"not on the advertised s2", "as its contract says: discovery: ignore"}},
		{name: "back on the given server, no contract", cfg: cfg, sc: dscen(),
			h:       dstory("", "s2").landOn(3010, "s1", "s1#5", "S1b").hist(),
			verdict: Informational, detail: []string{"its contract does not say", "discovery: not declared"}},
		{name: "the client claims the advertised server, which created no session", cfg: cfg, sc: dscen(),
			h: dstory(followC, "s2").add(ev(1003, "accept", "server=s2", "conn=s2#1"),
				ev(1005, history.KindState, "from="+rR, "to="+cA, "server=s2", "session=S2")).hist(),
			verdict: Failed, detail: []string{"no server recorded session.create"}},
		{name: "the claimed session was created by another server", cfg: cfg, sc: dscen(),
			h: dstory(followC, "s2").add(ev(1004, "session.create", "server=s3", "conn=s3#1", "session=S2"),
				ev(1005, history.KindState, "from="+rR, "to="+cA, "server=s2", "session=S2")).hist(),
			verdict: Failed, detail: []string{"created by s3"}},
		{name: "nothing advertised", cfg: cfg, sc: dscen(),
			h:       dstory(followC, "").landOn(3010, "s1", "s1#5", "S1b").hist(),
			verdict: Unknown, detail: []string{"no server advertised a server to client 0"}},
		{name: "advertised URLs without names", cfg: cfg, sc: dscen(),
			h: dstory(followC, "").add(ev(500, "advertise", "server=s1", "conn=s1#1", "addrs=nats://127.0.0.1:4001")).
				landOn(3010, "s1", "s1#5", "S1b").hist(),
			verdict: Unknown, detail: []string{"1 advertisement(s) of addresses but no server names"}},
		{name: "advertised on another client's connection", cfg: cfg, sc: dscen(),
			h: dstory(followC, "").add(ev(500, "advertise", "server=s1", "conn=s1#9", "servers=s2")).
				landOn(3010, "s1", "s1#5", "S1b").hist(),
			verdict: Unknown, detail: []string{"no server advertised"}},
		{name: "advertised only a given server", cfg: cfg, sc: dscen(),
			h:       dstory(followC, "s1").landOn(3010, "s1", "s1#5", "S1b").hist(),
			verdict: Unknown, detail: []string{"named no server it was not given"}},
		{name: "advertised after the loss", cfg: cfg, sc: dscen(),
			h: dstory(followC, "").add(ev(1500, "advertise", "server=s1", "conn=s1#1", "servers=s2")).
				landOn(3010, "s1", "s1#5", "S1b").hist(),
			verdict: Unknown, detail: []string{"never lost a given server after s1 advertised s2 at 1500.0ms"}},
		{name: "advertised, never lost", cfg: cfg, sc: dscen(),
			h: (&story{}).add(
				ev(10, "accept", "server=s1", "conn=s1#1"),
				ev(11, "session.create", "server=s1", "conn=s1#1", "session=S1", "scope=connection"),
				state(12, cg, cA, "S1"),
				ev(13, history.KindReply, "op=connect", "ok=true", followC),
				ev(500, "advertise", "server=s1", "conn=s1#1", "servers=s2"),
			).hist(),
			verdict: Unknown, detail: []string{"never lost a given server"}},
		{name: "another given server stayed up", cfg: cfg, sc: dscen("s1", "s3"),
			h:       dstory(followC, "s2").landOn(1003, "s3", "s3#1", "S3").hist(),
			verdict: Unknown, detail: []string{"came back on s3", "the given s3 stayed up"}},
		{name: "every given server down: lands on the advertised one", cfg: cfg, sc: dscen("s1", "s3"),
			h: dstory(followC, "s2").add(ev(900, "fault.on", "link=s3", "verb=cut"), ev(2500, "fault.off", "link=s3", "verb=cut")).
				landOn(1003, "s2", "s2#1", "S2").hist(),
			verdict: OK},
		{name: "every given server down: back on one after it healed", cfg: cfg, sc: dscen("s1", "s3"),
			h: dstory(followC, "s2").add(ev(900, "fault.on", "link=s3", "verb=cut"), ev(2500, "fault.off", "link=s3", "verb=cut")).
				landOn(2510, "s3", "s3#1", "S3").hist(),
			verdict: Failed, detail: []string{"came back on s3", "the given s1, s3 were down until 2500.0ms"}},
		{name: "empty history", cfg: cfg, sc: dscen(), verdict: Unknown, detail: []string{"no server advertised"}},
		{name: "no given servers", cfg: cfg, sc: scen(func(sc *scenario.Scenario) { sc.Client.Servers = nil }),
			h: dstory(followC, "s2").hist(), verdict: Unknown, detail: []string{"client.servers is empty"}},
	}
	runCases(t, cases)
}

// The measurements of a landing: advertisement → loss, loss → landing
// (server session.create on the advertised server − link fault.on), and
// the advertised server's accepts, each with its evidence and span.
func TestDiscoveredServerMeasurements(t *testing.T) {
	h := dstory(followC, "s2").landOn(1003, "s2", "s2#1", "S2").hist()
	r := (&DiscoveredServer{}).Check(Input{History: h, Scenario: dscen()})
	if r.Verdict != OK {
		t.Fatalf("%s: %s", r.Verdict, r.Detail)
	}
	want := map[string]float64{"advertised → loss": 500, "loss → landing on s2": 4, "advertised server accepts": 1}
	for _, m := range r.Measurements {
		w, ok := want[m.Name]
		if !ok {
			t.Errorf("unexpected measurement %q", m.Name)
			continue
		}
		if m.Value != w {
			t.Errorf("%s = %v, want %v", m.Name, m.Value, w)
		}
		if m.Unit == "ms" && (m.Span == nil || m.Span.To-m.Span.From != time.Duration(w*float64(time.Millisecond))) {
			t.Errorf("%s: span %+v", m.Name, m.Span)
		}
		delete(want, m.Name)
	}
	if len(want) > 0 {
		t.Errorf("missing measurements %v", want)
	}
	if r.At != msd(1004) {
		t.Errorf("At %s, want the landing's session.create", dur(r.At))
	}
}
