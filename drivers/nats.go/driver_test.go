package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit/kittest"
	"github.com/nats-io/nats.go"
)

func checkTerms(t *testing.T, c map[string]any) {
	t.Helper()
	kittest.CheckTerms(t, c, "nats.go ", "driver: ")
}

func TestHello(t *testing.T) {
	r := newRig(t)
	h := r.WaitFor("the hello", func(l line) bool { return l["sdk"] != nil })
	if h["sdk"] != "nats.go" || h["version"] != "v"+nats.Version || nats.Version != "1.56.0" || h["protocol"] != "nats" {
		t.Errorf("hello: %v", h)
	}
	if s, _ := h["sessions"].(float64); s < 300 {
		t.Errorf("sessions %v: want hundreds of clients in one process", h["sessions"])
	}
	var feats []string
	for _, f := range h["features"].([]any) {
		feats = append(feats, f.(string))
	}
	if !slices.Equal(feats, []string{"reconnect", "failover", "load_balancing", "cascading", "discovery", "migration"}) {
		t.Errorf("features %v", feats)
	}
	c := h["contract"].(map[string]any)
	checkTerms(t, c)
	want := map[string]string{"delay_applies": "per_pass", "delay": "constant", "jitter": "added", "attempt_limit": "per_server",
		"failover": "next", "shuffle": "at_connect", "first_connect": "cascade", "liveness": "ping", "overall_timeout": "none", "lame_duck": "notify",
		"delivery": "at_most_once", "buffer": "while_reconnecting", "discovery": "follow", "close_error": "last_error"}
	for k, v := range want {
		if got := c[k].(map[string]any)["value"]; got != v {
			t.Errorf("built-in %s = %v, want %s", k, got, v)
		}
	}
	if _, ok := c["params"]; ok {
		t.Error("the built-in contract has params")
	}
	if l := r.Do(map[string]any{"op": "frobnicate"}); l["ok"] != false || !strings.Contains(l["error"].(string), "unknown op") {
		t.Errorf("unknown op: %v", l)
	}
	if l := r.Do(map[string]any{"op": "send", "payload": 1}); l["ok"] != false {
		t.Errorf("send before connect: %v", l)
	}
}

func TestConnectContract(t *testing.T) {
	s1, s2 := runServer(t, 0), runServer(t, 0)
	one := []string{urlOf(s1)}
	two := []string{urlOf(s1), urlOf(s2)}
	cases := []struct {
		name    string
		servers []string
		mod     func(map[string]any)
		check   func(t *testing.T, c, p map[string]any, un map[string]string, adds []any)
	}{
		{"fixed jitter, one server", one, func(o map[string]any) {
			kittest.Sub(o, "reconnect")["strategy"] = map[string]any{"backoff": "fixed", "initial_ms": 100, "jitter": 0.2, "attempts": 7}
			o["liveness_ms"] = 300
			kittest.Sub(kittest.Sub(o, "reconnect"), "strategy")["attempts"] = 7
			kittest.Sub(o, "reconnect")["buffer"] = 4096
		}, func(t *testing.T, c, p map[string]any, un map[string]string, adds []any) {
			if p["reconnect_wait_ms"] != 80.0 || p["jitter_ms"] != 20.0 || p["max_reconnects"] != 7.0 {
				t.Errorf("fixed params: %v", p)
			}
			if p["ping_interval_ms"] != 100.0 || p["max_pings_out"] != 2.0 || p["timeout_ms"] != 1000.0 || p["buffer_bytes"] != 4096.0 {
				t.Errorf("params: %v", p)
			}
			if p["randomize"] != false || p["reconnect"] != true || p["retry_on_failed_connect"] != false || p["name"] != "faultline-c0" {
				t.Errorf("params: %v", p)
			}
			for k, v := range map[string]string{"first_attempt": "after_delay", "delay": "constant", "jitter": "added", "attempt_limit": "per_server", "shuffle": "none", "overall_timeout": "none", "lame_duck": "notify", "delivery": "at_most_once", "buffer": "while_reconnecting"} {
				if got := c[k].(map[string]any)["value"]; got != v {
					t.Errorf("%s = %v, want %s", k, got, v)
				}
			}
			for _, k := range []string{"reconnect.timeout_ms", "reconnect.retention_ms", "reconnect.buffer"} {
				if un[k] == "" {
					t.Errorf("%s not listed unsupported: %v", k, un)
				}
			}
			if un["failover.auto"] != "" || un["reconnect.strategy.attempts"] != "" || len(adds) != 0 {
				t.Errorf("one server: unsupported %v, driver_adds %v", un, adds)
			}
		}},
		{"exponential, two servers, migration, load balancing", two, func(o map[string]any) {
			kittest.Sub(o, "reconnect")["strategy"] = map[string]any{"backoff": "exponential", "initial_ms": 100, "multiplier": 2, "max_ms": 1000, "attempts": 5, "jitter": 0.2}
			o["failover"] = map[string]any{"auto": false, "load_balancing": true, "cascading": false}
			o["migration"] = map[string]any{"enabled": true, "timeout_ms": 1000}
			o["router"] = map[string]any{"high_watermark": 65536}
		}, func(t *testing.T, c, p map[string]any, un map[string]string, adds []any) {
			for k, v := range map[string]string{"first_attempt": "immediate", "delay_applies": "per_pass", "delay": "exponential", "jitter": "below", "shuffle": "at_connect", "lame_duck": "reconnect"} {
				if got := c[k].(map[string]any)["value"]; got != v {
					t.Errorf("%s = %v, want %s", k, got, v)
				}
			}
			if !strings.Contains(c["delay_applies"].(map[string]any)["cite"].(string), "per pass") {
				t.Errorf("delay_applies does not say per pass: %v", c["delay_applies"])
			}
			if p["initial_ms"] != 100.0 || p["max_ms"] != 1000.0 || p["randomize"] != true || p["reconnect_wait_ms"] != nil {
				t.Errorf("params: %v", p)
			}
			for _, k := range []string{"failover.auto", "failover.cascading", "reconnect.strategy", "reconnect.strategy.attempts", "reconnect.timeout_ms", "migration.timeout_ms", "router"} {
				if un[k] == "" {
					t.Errorf("%s not listed unsupported: %v", k, un)
				}
			}
			var whats []string
			for _, a := range adds {
				whats = append(whats, a.(map[string]any)["what"].(string))
			}
			if len(whats) != 2 || !strings.Contains(strings.Join(whats, "|"), "ForceReconnect") || !strings.Contains(strings.Join(whats, "|"), "CustomReconnectDelay") {
				t.Errorf("driver_adds: %v", whats)
			}
		}},
		{"reconnect off, failover off, two servers", two, func(o map[string]any) {
			kittest.Sub(o, "reconnect")["enabled"] = false
			o["failover"] = map[string]any{"auto": false, "cascading": true}
		}, func(t *testing.T, c, p map[string]any, un map[string]string, adds []any) {
			// NoReconnect() closes on a loss: autofailover off is expressed.
			if un["failover.auto"] != "" || un["failover.cascading"] != "" || p["reconnect"] != false {
				t.Errorf("unsupported %v, params %v", un, p)
			}
		}},
		{"reconnect off, no strategy limit", one, func(o map[string]any) {
			kittest.Sub(o, "reconnect")["enabled"] = false
		}, func(t *testing.T, c, p map[string]any, un map[string]string, adds []any) {
			if p["reconnect"] != false || p["max_reconnects"] != -1.0 {
				t.Errorf("params: %v", p)
			}
			if un["reconnect.timeout_ms"] != "" {
				t.Errorf("timeout listed with reconnection off: %v", un)
			}
			if c["attempt_limit"].(map[string]any)["value"] != "none" {
				t.Errorf("attempt_limit: %v", c["attempt_limit"])
			}
			if c["buffer"].(map[string]any)["value"] != "none" || c["delivery"].(map[string]any)["value"] != "at_most_once" {
				t.Errorf("buffer %v, delivery %v", c["buffer"], c["delivery"])
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			l := r.Do(map[string]any{"op": "connect", "servers": tc.servers, "options": options(tc.mod)})
			if l["ok"] != true {
				t.Fatalf("connect: %v", l)
			}
			c := l["contract"].(map[string]any)
			checkTerms(t, c)
			tc.check(t, c, c["params"].(map[string]any), kittest.Unsupported(c), kittest.AsList(c["driver_adds"]))
			r.Do(map[string]any{"op": "close"})
			r.CheckLifecycle(-1)
		})
	}
}

func TestStatesShutdownRestartClose(t *testing.T) {
	srv := runServer(t, 0)
	u := urlOf(srv) + "/" // the URL exactly as given comes back in events
	r := newRig(t)
	l := r.Do(map[string]any{"op": "connect", "servers": []string{u}, "options": options(nil)})
	if l["ok"] != true {
		t.Fatalf("connect: %v", l)
	}
	first := r.States(-1)[0]
	if first["to"] != "CONNECTING" || first["from"] != nil || first["server"] != u {
		t.Errorf("first state: %v", first)
	}
	up := r.State(-1, "CONNECTED_ACTIVE")
	if up["server"] != u || up["native"] != "ConnectedCB" {
		t.Errorf("CONNECTED_ACTIVE: %v", up)
	}
	sess, _ := up["session"].(string)
	if !strings.HasPrefix(sess, srv.ID()+"/") || strings.HasSuffix(sess, "/0") {
		t.Errorf("session %q, want %s/<cid>", sess, srv.ID())
	}
	port := portOf(srv)
	srv.Shutdown()
	rec := r.State(-1, "RECOVERING_RECONNECT")
	if rec["server"] != u || rec["session"] != sess {
		t.Errorf("RECOVERING_RECONNECT: %v", rec)
	}
	srv2 := runServer(t, port)
	back := r.WaitFor("CONNECTED_ACTIVE again", func(l line) bool {
		return l["type"] == "state" && l["to"] == "CONNECTED_ACTIVE" && l["from"] == "RECOVERING_RECONNECT"
	})
	if back["server"] != u || back["native"] != "ReconnectedCB" || !strings.HasPrefix(back["session"].(string), srv2.ID()+"/") {
		t.Errorf("reconnected: %v", back)
	}
	if l := r.Do(map[string]any{"op": "close"}); l["ok"] != true {
		t.Fatalf("close: %v", l)
	}
	cl := r.State(-1, "CLOSED_BY_CLIENT")
	if cl["reason"] != "closed_by_client" || cl["phase"] != "closed_by_client" {
		t.Errorf("close: %v", cl)
	}
	r.CheckClosed(5) // the close's event before its reply, nothing after it
}

func TestDialEventsAndDontRandomize(t *testing.T) {
	srv := runServer(t, 0)
	dead := deadURL(t)
	live := urlOf(srv)
	for i := 0; i < 3; i++ { // DontRandomize: the list's order every time
		r := newRig(t)
		l := r.Do(map[string]any{"op": "connect", "servers": []string{dead, live}, "options": options(nil)})
		if l["ok"] != true {
			t.Fatalf("connect: %v", l)
		}
		up := r.State(-1, "CONNECTED_ACTIVE")
		if up["server"] != live {
			t.Errorf("connected to %v, want %s", up["server"], live)
		}
		if first := r.States(-1)[0]; first["server"] != dead {
			t.Errorf("CONNECTING names %v, want the first of the list %s", first["server"], dead)
		}
		dials := r.Events(-1, "dial")
		var got []string
		for _, d := range dials {
			s := d["server"].(string)
			if d["text"] != nil {
				s += " failed"
			}
			got = append(got, s)
		}
		want := []string{dead, dead + " failed", live}
		if !slices.Equal(got, want) {
			t.Errorf("dials %v, want %v", got, want)
		}
		r.Do(map[string]any{"op": "close"})
		r.CheckLifecycle(-1)
	}
}

func TestFirstConnectFails(t *testing.T) {
	a, b := deadURL(t), deadURL(t)
	r := newRig(t)
	l := r.Do(map[string]any{"op": "connect", "servers": []string{a, b}, "options": options(func(o map[string]any) {
		o["failover"] = map[string]any{"cascading": true}
	})})
	if l["ok"] != false || l["contract"] == nil {
		t.Fatalf("connect: %v", l)
	}
	// Both dials refused: connect() cancels the refusals out and returns
	// ErrNoServers, naming no server (close_error: last_error).
	if l["error"] != "nats.Connect: "+nats.ErrNoServers.Error() {
		t.Errorf("error %q, want ErrNoServers", l["error"])
	}
	if ce := l["contract"].(map[string]any)["close_error"].(map[string]any); ce["value"] != "last_error" || !strings.Contains(ce["cite"].(string), "ErrNoServers") {
		t.Errorf("close_error: %v", ce)
	}
	cl := r.State(-1, "CLOSED_FAILED")
	if cl["reason"] != "connection_error" || cl["server"] != b {
		t.Errorf("close: %v", cl)
	}
	if n := len(r.Events(-1, "dial")); n != 4 {
		t.Errorf("%d dial events, want 2 dials and 2 failures", n)
	}
	r.CheckLifecycle(-1)
}

func TestNoReconnectCloses(t *testing.T) {
	srv := runServer(t, 0)
	r := newRig(t)
	l := r.Do(map[string]any{"op": "connect", "servers": []string{urlOf(srv)}, "options": options(func(o map[string]any) {
		kittest.Sub(o, "reconnect")["enabled"] = false
	})})
	if l["ok"] != true {
		t.Fatalf("connect: %v", l)
	}
	r.State(-1, "CONNECTED_ACTIVE")
	srv.Shutdown()
	cl := r.State(-1, "CLOSED_FAILED")
	if cl["reason"] != "connection_lost" || cl["from"] != "CONNECTED_ACTIVE" {
		t.Errorf("close: %v", cl)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(r.Events(-1, "dial")); n != 1 {
		t.Errorf("%d dials with NoReconnect, want the first only", n)
	}
	r.CheckLifecycle(-1)
}

func TestReconnectAborted(t *testing.T) {
	srv := runServer(t, 0)
	r := newRig(t)
	l := r.Do(map[string]any{"op": "connect", "servers": []string{urlOf(srv)}, "options": options(func(o map[string]any) {
		kittest.Sub(o, "reconnect")["strategy"] = map[string]any{"backoff": "exponential", "initial_ms": 10, "multiplier": 2, "max_ms": 40, "attempts": 3}
	})})
	if l["ok"] != true {
		t.Fatalf("connect: %v", l)
	}
	r.State(-1, "CONNECTED_ACTIVE")
	srv.Shutdown()
	cl := r.State(-1, "CLOSED_FAILED")
	if cl["reason"] != "reconnect_aborted" || cl["from"] != "RECOVERING_RECONNECT" {
		t.Errorf("close: %v", cl)
	}
	failed := 0
	for _, d := range r.Events(-1, "dial") {
		if d["text"] != nil {
			failed++
		}
	}
	if failed != 3 {
		t.Errorf("%d failed reconnect dials, want MaxReconnects 3", failed)
	}
	r.CheckLifecycle(-1)
}

func TestMessages(t *testing.T) {
	srv := runServer(t, 0)
	r := newRig(t)
	if l := r.Do(map[string]any{"op": "connect", "servers": []string{urlOf(srv)}, "options": options(nil)}); l["ok"] != true {
		t.Fatalf("connect: %v", l)
	}
	if l := r.Do(map[string]any{"op": "subscribe", "topic": "prices"}); l["ok"] != true {
		t.Fatalf("subscribe: %v", l)
	}
	// Published by another client, as a server's publish action would.
	pub, err := nats.Connect(urlOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.Flush(); err != nil { // the driver's SUB is in before the publishes
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	for _, p := range []string{`{"n":1}`, `{"seq":2}`, `3`, `junk`} {
		if err := pub.Publish("prices", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	pub.Flush()
	// The driver's own sends, numbered by the client's send count
	// ({"n": 1, "payload": ...}): echo delivers them back.
	for _, p := range []any{map[string]any{"n": 5}, "6"} {
		if l := r.Do(map[string]any{"op": "send", "topic": "prices", "payload": p}); l["ok"] != true {
			t.Fatalf("send: %v", l)
		}
	}
	r.WaitFor("6 messages", func(line) bool { return len(r.Lines) > 0 && kittest.CountType(r.Lines, "message") >= 6 })
	var seqs []int
	for _, m := range r.Events(-1, "message") {
		if m["topic"] != "prices" {
			t.Errorf("message: %v", m)
		}
		s, _ := m["seq"].(float64)
		seqs = append(seqs, int(s))
	}
	if !slices.Equal(seqs, []int{1, 2, 3, 0, 1, 2}) {
		t.Errorf("seqs %v", seqs)
	}
	// A send without a topic goes to the default subject.
	got := make(chan []byte, 1)
	if _, err := pub.Subscribe(defaultSubject, func(m *nats.Msg) { got <- m.Data }); err != nil {
		t.Fatal(err)
	}
	pub.Flush()
	r.Do(map[string]any{"op": "send", "payload": map[string]any{"n": 9}})
	select {
	case b := <-got:
		if string(b) != `{"n":3,"payload":{"n":9}}` {
			t.Errorf("default subject got %q", b)
		}
	case <-time.After(wait):
		t.Error("nothing on the default subject")
	}
}

func TestMultiSession(t *testing.T) {
	srv := runServer(t, 0)
	r := newRig(t)
	const n = 40
	ids := make([]int64, n)
	for k := 0; k < n; k++ {
		ids[k] = r.Send(map[string]any{"op": "connect", "client": k, "driver": k + 1, "seed": 7,
			"servers": []string{urlOf(srv)}, "options": options(nil)})
	}
	for k := 0; k < n; k++ {
		if l := r.Reply(ids[k]); l["ok"] != true || l["re"].(float64) != float64(int64(k)*1_000_000_000+ids[k]%1_000_000_000) {
			t.Fatalf("client %d connect: %v", k, l)
		}
		p := r.Reply(ids[k])["contract"].(map[string]any)["params"].(map[string]any)
		if p["name"] != fmt.Sprintf("faultline-c%d", k) {
			t.Errorf("client %d name %v", k, p["name"])
		}
		r.State(k, "CONNECTED_ACTIVE")
	}
	r.CloseOneThenExit(n, 3)
}

func TestLameDuckMigration(t *testing.T) {
	s1, s2 := runServer(t, 0), runServer(t, 0)
	for _, migrate := range []bool{false, true} {
		t.Run(fmt.Sprintf("migration=%v", migrate), func(t *testing.T) {
			r := newRig(t)
			l := r.Do(map[string]any{"op": "connect", "servers": []string{urlOf(s1), urlOf(s2)}, "options": options(func(o map[string]any) {
				o["migration"] = map[string]any{"enabled": migrate}
				o["failover"] = map[string]any{"auto": true}
			})})
			if l["ok"] != true {
				t.Fatalf("connect: %v", l)
			}
			up := r.State(-1, "CONNECTED_ACTIVE")
			var cid uint64
			fmt.Sscanf(up["session"].(string)[len(s1.ID())+1:], "%d", &cid)
			if err := s1.LDMClientByID(cid); err != nil {
				t.Fatal(err)
			}
			r.WaitFor("the lame duck notice", func(l line) bool {
				txt, _ := l["text"].(string)
				return l["type"] == "error" && strings.Contains(txt, "LameDuckModeHandler")
			})
			if !migrate {
				time.Sleep(200 * time.Millisecond)
				if n := len(r.States(-1)); n != 2 {
					t.Errorf("notify only, but %d states:\n%s", n, kittest.Dump(r.States(-1)))
				}
			} else {
				back := r.WaitFor("CONNECTED_ACTIVE on s2", func(l line) bool {
					return l["type"] == "state" && l["to"] == "CONNECTED_ACTIVE" && l["from"] == "RECOVERING_RECONNECT"
				})
				if back["server"] != urlOf(s2) {
					t.Errorf("moved to %v, want %s", back["server"], urlOf(s2))
				}
			}
			r.Do(map[string]any{"op": "close"})
			r.CheckLifecycle(-1)
		})
	}
}
