package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit/kittest"
)

func TestHello(t *testing.T) {
	r := newRig(t)
	h := r.WaitFor("the hello", func(l line) bool { return l["sdk"] != nil })
	if h["sdk"] != "paho.mqtt.golang" || h["version"] != "v1.5.1" || h["protocol"] != "mqtt" {
		t.Errorf("hello: %v", h)
	}
	if s, _ := h["sessions"].(float64); s < 1000 {
		t.Errorf("sessions %v: want many clients in one process", h["sessions"])
	}
	var feats []string
	for _, f := range h["features"].([]any) {
		feats = append(feats, f.(string))
	}
	if !slices.Equal(feats, []string{"reconnect", "failover", "cascading"}) {
		t.Errorf("features %v", feats)
	}
	checkTerms(t, h["contract"].(map[string]any))
	if l := r.Do(map[string]any{"op": "frobnicate"}); l["ok"] != false || !strings.Contains(l["error"].(string), "unknown op") {
		t.Errorf("unknown op: %v", l)
	}
	for _, o := range []string{"request", "edge", "cancel"} {
		if l := r.Do(map[string]any{"op": o}); l["ok"] != false {
			t.Errorf("%s: %v", o, l)
		}
	}
	if l := r.Do(map[string]any{"op": "probe"}); l["ok"] != true {
		t.Errorf("probe: %v", l)
	}
	for _, o := range []string{"send", "subscribe", "close"} {
		if l := r.Do(map[string]any{"op": o, "topic": "x", "payload": 1}); l["ok"] != false || l["error"] != "not connected" {
			t.Errorf("%s before connect: %v", o, l)
		}
	}
}

// The whole transcript against mosquitto: connect, subscribe, messages from
// another client and from the driver's own sends, the default topic, close.
func TestTranscript(t *testing.T) {
	b := runBroker(t, 0, "")
	ob := newObserver(t, b, defaultTopic, "prices")
	u := b.url() + "/" // the URL exactly as given comes back in events
	r := newRigEnv(t, "4")
	l := r.Do(map[string]any{"op": "connect", "servers": []string{u}, "options": options(nil)})
	if l["ok"] != true {
		t.Fatalf("connect: %v", l)
	}
	if p := l["contract"].(map[string]any)["params"].(map[string]any); p["client_id"] != "fl-4-3" || p["qos"] != 0.0 {
		t.Errorf("params: %v", p)
	}
	states := r.States(-1)
	if states[0]["to"] != "CONNECTING" || states[0]["from"] != nil || states[0]["server"] != u || states[0]["native"] != "Connect" {
		t.Errorf("first state: %v", states[0])
	}
	up := r.State(-1, "CONNECTED_ACTIVE")
	if up["server"] != u || up["session"] != "fl-4-3" || up["native"] != "OnConnect" || up["phase"] != "connected" {
		t.Errorf("CONNECTED_ACTIVE: %v", up)
	}
	if l := r.Do(map[string]any{"op": "subscribe", "topic": "prices"}); l["ok"] != true {
		t.Fatalf("subscribe: %v", l)
	}
	for _, p := range []string{`{"n":1}`, `{"seq":2}`, `3`, `junk`} {
		ob.publish("prices", p)
	}
	for _, p := range []any{"m1", map[string]any{"n": 9}} {
		if l := r.Do(map[string]any{"op": "send", "topic": "prices", "payload": p}); l["ok"] != true {
			t.Fatalf("send: %v", l)
		}
	}
	r.WaitFor("6 messages", func(line) bool { return kittest.CountType(r.Lines, "message") >= 6 })
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
	if got := ob.received("prices", 6); len(got) != 6 || got[4] != `{"n":1,"payload":"m1"}` || got[5] != `{"n":2,"payload":{"n":9}}` {
		t.Errorf("the broker delivered %q", got)
	}
	r.Do(map[string]any{"op": "send", "payload": 5})
	if got := ob.received(defaultTopic, 1); !slices.Equal(got, []string{`{"n":3,"payload":5}`}) {
		t.Errorf("default topic got %q", got)
	}
	if l := r.Do(map[string]any{"op": "close"}); l["ok"] != true {
		t.Fatalf("close: %v", l)
	}
	cl := r.State(-1, "CLOSED_BY_CLIENT")
	if cl["reason"] != "closed_by_client" || cl["native"] != "Disconnect" || cl["session"] != "fl-4-3" {
		t.Errorf("close: %v", cl)
	}
	r.CheckClosed(3) // the close's event before its reply, nothing after it
}

// A killed broker: RECOVERING_RECONNECT, paho's passes every
// MaxReconnectInterval (fixed 200 ms ≤ 1 s), back on the restarted broker,
// and the driver's re-subscription (clean session: the broker forgot it).
func TestKilledBroker(t *testing.T) {
	b := runBroker(t, 0, "")
	r := newRig(t)
	if l := r.Do(map[string]any{"op": "connect", "servers": []string{b.url()}, "options": options(nil)}); l["ok"] != true {
		t.Fatalf("connect: %v", l)
	}
	r.State(-1, "CONNECTED_ACTIVE")
	if l := r.Do(map[string]any{"op": "subscribe", "topic": "prices"}); l["ok"] != true {
		t.Fatalf("subscribe: %v", l)
	}
	b.kill()
	rec := r.State(-1, "RECOVERING_RECONNECT")
	if rec["server"] != b.url() || rec["session"] != "fl-1-0" {
		t.Errorf("RECOVERING_RECONNECT: %v", rec)
	}
	// A subscribe while recovering is kept for the reconnection.
	if l := r.Do(map[string]any{"op": "subscribe", "topic": "later"}); l["ok"] != true {
		t.Errorf("subscribe while recovering: %v", l)
	}
	// (waitFor's match runs under the rig's lock.)
	r.WaitFor("three failed reconnect dials", func(line) bool { return len(failedDialsLocked(r)) >= 3 })
	b2 := runBroker(t, b.port, "")
	back := r.WaitFor("CONNECTED_ACTIVE again", func(l line) bool {
		return l["type"] == "state" && l["to"] == "CONNECTED_ACTIVE" && l["from"] == "RECOVERING_RECONNECT"
	})
	if back["server"] != b.url() || back["native"] != "OnConnect" || back["session"] != "fl-1-0" {
		t.Errorf("reconnected: %v", back)
	}
	// The failed passes were MaxReconnectInterval (200 ms) apart.
	fd := failedDials(r)
	for i := 1; i < len(fd); i++ {
		if gap := fd[i].Sub(fd[i-1]); gap < 150*time.Millisecond || gap > time.Second {
			t.Errorf("failed dial %d came %v after the previous, want about 200ms", i, gap)
		}
	}
	ob := newObserver(t, b2)
	deadline := time.Now().Add(wait)
	for kittest.CountType(r.Snapshot(), "message") < 2 && time.Now().Before(deadline) {
		ob.publish("prices", `{"n":1}`) // until the re-subscription is in
		ob.publish("later", `{"n":1}`)
		time.Sleep(50 * time.Millisecond)
	}
	topics := map[any]bool{}
	for _, m := range r.Events(-1, "message") {
		topics[m["topic"]] = true
	}
	if !topics["prices"] || !topics["later"] {
		t.Errorf("messages after the reconnect on %v, want prices and later (re-subscribed)", topics)
	}
	r.Do(map[string]any{"op": "close"})
	r.State(-1, "CLOSED_BY_CLIENT")
	r.CheckLifecycle(-1)
}

// failedDials is when each failed dial event arrived (the rig's stamps).
func failedDials(r *kittest.Rig) []time.Time {
	r.Mu.Lock()
	defer r.Mu.Unlock()
	return failedDialsLocked(r)
}

func failedDialsLocked(r *kittest.Rig) []time.Time {
	var out []time.Time
	for i, l := range r.Lines {
		if l["type"] == "dial" && l["text"] != nil {
			out = append(out, r.At[i])
		}
	}
	return out
}

func TestNoReconnectAgainst(t *testing.T) {
	t.Setenv("FAULTLINE_MQTT_AGAINST", "no_reconnect")
	b := runBroker(t, 0, "")
	r := newRig(t)
	l := r.Do(map[string]any{"op": "connect", "servers": []string{b.url()}, "options": options(nil)})
	if l["ok"] != true {
		t.Fatalf("connect: %v", l)
	}
	c := l["contract"].(map[string]any)
	if p := c["params"].(map[string]any); p["auto_reconnect"] != false {
		t.Errorf("params: %v", p)
	}
	if !strings.Contains(fmt.Sprint(c["driver_adds"]), "FAULTLINE_MQTT_AGAINST=no_reconnect") {
		t.Errorf("driver_adds: %v", c["driver_adds"])
	}
	r.State(-1, "CONNECTED_ACTIVE")
	b.kill()
	cl := r.State(-1, "CLOSED_FAILED")
	if cl["reason"] != "connection_lost" || cl["from"] != "CONNECTED_ACTIVE" || cl["native"] != "OnConnectionLost" {
		t.Errorf("close: %v", cl)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(r.Events(-1, "dial")); n != 1 {
		t.Errorf("%d dials with auto-reconnect off, want the first only", n)
	}
	if l := r.Do(map[string]any{"op": "send", "payload": 1}); l["ok"] != false || !strings.Contains(l["error"].(string), "not Connected") {
		t.Errorf("send after the loss: %v", l)
	}
	r.CheckLifecycle(-1)
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
	// The last broker's error only (close_error: last_error).
	if e := l["error"].(string); !strings.HasPrefix(e, "paho Connect: network Error : dial tcp ") || !strings.Contains(e, strings.TrimPrefix(b, "mqtt://")) || strings.Contains(e, strings.TrimPrefix(a, "mqtt://")) {
		t.Errorf("error %q, want the last broker's dial error", e)
	}
	cl := r.State(-1, "CLOSED_FAILED")
	if cl["reason"] != "connection_error" || cl["server"] != b || cl["tried"] != nil {
		t.Errorf("close: %v", cl)
	}
	var got []string
	for _, d := range r.Events(-1, "dial") {
		s := d["server"].(string)
		if d["text"] != nil {
			s += " failed"
		}
		got = append(got, s)
	}
	if want := []string{a, a + " failed", b, b + " failed"}; !slices.Equal(got, want) {
		t.Errorf("dials %v, want %v", got, want)
	}
	r.CheckLifecycle(-1)
}

// A broker that refuses every CONNECT: paho falls back to MQTT 3.1 on the
// same broker before giving up; the close is access_denied.
func TestAccessDenied(t *testing.T) {
	b := runBroker(t, 0, "allow_anonymous false")
	r := newRig(t)
	l := r.Do(map[string]any{"op": "connect", "servers": []string{b.url()}, "options": options(nil)})
	if l["ok"] != false || l["error"] != "paho Connect: not Authorized" {
		t.Fatalf("connect: %v", l)
	}
	cl := r.State(-1, "CLOSED_FAILED")
	if cl["reason"] != "access_denied" || cl["server"] != b.url() {
		t.Errorf("close: %v", cl)
	}
	var refusals []string
	for _, e := range r.Events(-1, "error") {
		if txt := e["text"].(string); strings.Contains(txt, "refused CONNECT") {
			refusals = append(refusals, txt)
		}
	}
	if len(refusals) != 2 || !strings.Contains(refusals[0], "(MQTT 3.1.1): CONNACK return code 5") || !strings.Contains(refusals[1], "(MQTT 3.1): CONNACK return code 5") {
		t.Errorf("refusals %q, want 3.1.1 then 3.1, code 5", refusals)
	}
	if n := len(r.Events(-1, "dial")); n != 2 {
		t.Errorf("%d dials, want 2 (the MQTT 3.1 fallback dials again)", n)
	}
	r.CheckLifecycle(-1)
}

// keep_session with QoS 1 across a cut link: the broker keeps the session
// and queues what was published meanwhile; CONNACK says session present,
// so the driver does not re-subscribe, and the queued messages arrive.
// With FAULTLINE_MQTT_AGAINST=clean_session the broker forgets both.
func TestKeepSession(t *testing.T) {
	for _, against := range []string{"", "clean_session"} {
		t.Run("against="+against, func(t *testing.T) {
			t.Setenv("FAULTLINE_MQTT_AGAINST", against)
			b := runBroker(t, 0, "")
			p := newProxy(t, b.addr())
			ob := newObserver(t, b)
			r := newRig(t)
			l := r.Do(map[string]any{"op": "connect", "servers": []string{p.url()}, "options": options(func(o map[string]any) {
				o["keep_session"] = true
				o["delivery"] = "at_least_once"
			})})
			if l["ok"] != true {
				t.Fatalf("connect: %v", l)
			}
			if l := r.Do(map[string]any{"op": "subscribe", "topic": "prices"}); l["ok"] != true {
				t.Fatalf("subscribe: %v", l)
			}
			ob.publish("prices", `{"n":1}`)
			r.WaitFor("message 1", func(l line) bool { return l["type"] == "message" })
			p.setCut(true)
			r.State(-1, "RECOVERING_RECONNECT")
			ob.publish("prices", `{"n":2}`)
			ob.publish("prices", `{"n":3}`)
			p.setCut(false)
			r.WaitFor("CONNECTED_ACTIVE again", func(l line) bool { return l["to"] == "CONNECTED_ACTIVE" && l["from"] == "RECOVERING_RECONNECT" })
			if against == "" {
				r.WaitFor("messages 2 and 3", func(line) bool { return kittest.CountType(r.Lines, "message") >= 3 })
			} else {
				time.Sleep(300 * time.Millisecond)
				if n := kittest.CountType(r.Snapshot(), "message"); n != 1 {
					t.Errorf("clean session: %d messages, want only the first", n)
				}
			}
			r.Do(map[string]any{"op": "close"})
			r.CheckLifecycle(-1)
		})
	}
}

// Sends while recovering: QoS 1 is stored and sent after the reconnect
// (buffer: while_reconnecting); QoS 0 is taken and silently dropped
// (client.go Publish(), issue #630).
func TestSendWhileRecovering(t *testing.T) {
	for _, delivery := range []string{"at_least_once", "at_most_once"} {
		t.Run(delivery, func(t *testing.T) {
			b := runBroker(t, 0, "")
			p := newProxy(t, b.addr())
			ob := newObserver(t, b, defaultTopic)
			r := newRig(t)
			l := r.Do(map[string]any{"op": "connect", "servers": []string{p.url()}, "options": options(func(o map[string]any) {
				o["delivery"] = delivery
				kittest.Sub(o, "reconnect")["strategy"] = map[string]any{"backoff": "fixed", "initial_ms": 500}
			})})
			if l["ok"] != true {
				t.Fatalf("connect: %v", l)
			}
			r.Do(map[string]any{"op": "send", "payload": "before"})
			ob.received(defaultTopic, 1)
			p.setCut(true)
			r.State(-1, "RECOVERING_RECONNECT")
			time.Sleep(50 * time.Millisecond) // paho's status is reconnecting now
			if l := r.Do(map[string]any{"op": "send", "payload": "during"}); l["ok"] != true {
				t.Errorf("send while recovering: %v", l)
			}
			p.setCut(false)
			r.WaitFor("CONNECTED_ACTIVE again", func(l line) bool { return l["to"] == "CONNECTED_ACTIVE" && l["from"] == "RECOVERING_RECONNECT" })
			if delivery == "at_least_once" {
				// A QoS 1 publish made before resume() took its snapshot of
				// the Store would be sent twice, the second time with DUP
				// set by resume() while the outgoing goroutine may still be
				// reading it (client.go resume(): p.Dup = true; a data race
				// in paho): send "after" once the stored one went out.
				ob.until(defaultTopic, `{"n":2,"payload":"during"}`)
			}
			r.Do(map[string]any{"op": "send", "payload": "after"})
			got := ob.until(defaultTopic, `{"n":3,"payload":"after"}`)
			if delivery == "at_least_once" {
				if !slices.Contains(got, `{"n":2,"payload":"during"}`) || !slices.Contains(got, `{"n":3,"payload":"after"}`) {
					t.Errorf("QoS 1: broker got %q, want the send made while recovering", got)
				}
			} else {
				time.Sleep(200 * time.Millisecond)
				got = ob.received(defaultTopic, 0)
				if slices.Contains(got, `{"n":2,"payload":"during"}`) || !slices.Contains(got, `{"n":3,"payload":"after"}`) {
					t.Errorf("QoS 0: broker got %q, want the send made while recovering dropped", got)
				}
			}
			r.Do(map[string]any{"op": "close"})
			r.CheckLifecycle(-1)
		})
	}
}

// A blackholed link is declared lost within the liveness bound the
// contract states: liveness 1500 ms → KeepAlive 1 s, lost within 1.5 s.
func TestLivenessBlackhole(t *testing.T) {
	b := runBroker(t, 0, "")
	p := newProxy(t, b.addr())
	r := newRig(t)
	const liveness = 1500 * time.Millisecond
	l := r.Do(map[string]any{"op": "connect", "servers": []string{p.url()}, "options": options(func(o map[string]any) {
		o["liveness_ms"] = liveness.Milliseconds()
		kittest.Sub(o, "reconnect")["strategy"] = map[string]any{"backoff": "fixed", "initial_ms": 1000}
	})})
	if l["ok"] != true {
		t.Fatalf("connect: %v", l)
	}
	c := l["contract"].(map[string]any)
	if un := kittest.Unsupported(c); un["liveness_ms"] != "" {
		t.Errorf("liveness 1500ms listed unsupported: %v", un)
	}
	time.Sleep(1200 * time.Millisecond) // a ping answered
	start := time.Now()
	p.setHole(true)
	r.State(-1, "RECOVERING_RECONNECT")
	took := time.Since(start)
	if took > liveness+150*time.Millisecond {
		t.Errorf("loss detected after %v, want within the liveness %v", took, liveness)
	}
	t.Logf("blackhole detected after %v (liveness %v)", took, liveness)
	r.WaitFor("paho's ping error", func(l line) bool {
		txt, _ := l["text"].(string)
		return l["type"] == "error" && txt == "paho OnConnectionLost: pingresp not received, disconnecting"
	})
	r.Do(map[string]any{"op": "close"})
	r.CheckLifecycle(-1)
}

// Many clients in one process, each with its own client id; exit closes
// them all.
func TestMultiSession(t *testing.T) {
	b := runBroker(t, 0, "")
	r := newRig(t)
	const n = 20
	ids := make([]int64, n)
	for k := 0; k < n; k++ {
		ids[k] = r.Send(map[string]any{"op": "connect", "client": k, "driver": k + 1, "seed": 7,
			"servers": []string{b.url()}, "options": options(nil)})
	}
	for k := 0; k < n; k++ {
		l := r.Reply(ids[k])
		if l["ok"] != true {
			t.Fatalf("client %d connect: %v", k, l)
		}
		if id := l["contract"].(map[string]any)["params"].(map[string]any)["client_id"]; id != fmt.Sprintf("fl-%d-%d", k+1, k) {
			t.Errorf("client %d: client id %v", k, id)
		}
		if up := r.State(k, "CONNECTED_ACTIVE"); up["session"] != fmt.Sprintf("fl-%d-%d", k+1, k) {
			t.Errorf("client %d: %v", k, up)
		}
	}
	r.CloseOneThenExit(n, 3)
}

// A broker that refuses the reconnection: paho keeps trying (no close),
// each pass one MQTT 3.1.1 CONNECT (the version is locked in after the
// first success, client.go attemptConnection()).
func TestRefusedWhileRecovering(t *testing.T) {
	b := runBroker(t, 0, "")
	r := newRig(t)
	if l := r.Do(map[string]any{"op": "connect", "servers": []string{b.url()}, "options": options(nil)}); l["ok"] != true {
		t.Fatalf("connect: %v", l)
	}
	r.State(-1, "CONNECTED_ACTIVE")
	b.kill()
	r.State(-1, "RECOVERING_RECONNECT")
	runBroker(t, b.port, "allow_anonymous false")
	var refusals []string
	r.WaitFor("three refusals", func(line) bool {
		refusals = refusals[:0]
		for _, l := range r.Lines {
			if txt, _ := l["text"].(string); l["type"] == "error" && strings.Contains(txt, "refused CONNECT") {
				refusals = append(refusals, txt)
			}
		}
		return len(refusals) >= 3
	})
	for _, txt := range refusals {
		if !strings.Contains(txt, "(MQTT 3.1.1): CONNACK return code 5") {
			t.Errorf("refusal %q, want MQTT 3.1.1 only, code 5", txt)
		}
	}
	if st := r.States(-1); st[len(st)-1]["to"] != "RECOVERING_RECONNECT" {
		t.Errorf("refused while recovering, but the session went %v", st[len(st)-1])
	}
	r.Do(map[string]any{"op": "close"})
	r.State(-1, "CLOSED_BY_CLIENT")
	r.CheckLifecycle(-1)
}
