package main

import (
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"github.com/faultline/faultline/drivers/kit/kittest"
)

func TestHello(t *testing.T) {
	r := newRig(t)
	h := r.WaitFor("the hello", func(l line) bool { return l["sdk"] != nil })
	if h["sdk"] != "grpc-go" || h["version"] != "v1.85.0" || h["protocol"] != "grpc" || h["sessions"] != float64(Sessions) {
		t.Fatalf("hello: %v", h)
	}
	var fs []string
	for _, f := range kittest.AsList(h["features"]) {
		fs = append(fs, f.(string))
	}
	if strings.Join(fs, ",") != "reconnect,failover,load_balancing,cascading,routing,migration" {
		t.Errorf("features %v", fs)
	}
	c := h["contract"].(map[string]any)
	kittest.CheckTerms(t, c, "grpc-go ")
	if p := termProblems(c); len(p) > 0 {
		t.Errorf("hello terms without value or citation: %v", p)
	}
	for k, want := range map[string]string{"connect_deadline": "max_backoff", "idle_reconnect": "on_demand", "first_attempt": "immediate", "jitter": "symmetric", "failover": "top", "delay_applies": "per_attempt", "close_error": "last_error", "liveness": "none"} {
		if got := kittest.Sub(c, k)["value"]; got != want {
			t.Errorf("%s: %v, want %s", k, got, want)
		}
	}
}

// connect sends a connect for client c (-1: none) and waits for its reply.
func connect(r *kittest.Rig, c int, servers []string, opts map[string]any) line {
	o := map[string]any{"op": "connect", "servers": servers, "options": opts}
	if c >= 0 {
		o["client"] = c
	}
	return r.Do(o)
}

func TestConnectInListOrder(t *testing.T) {
	s1, s2 := runFeed(t, "s1", ""), runFeed(t, "s2", "")
	r := newRig(t)
	rep := connect(r, -1, []string{s1.url(), s2.url()}, options(nil))
	if rep["ok"] != true {
		t.Fatalf("connect: %v", rep)
	}
	a := r.State(-1, kit.Active)
	if a["server"] != s1.url() || a["session"] != "s1/c0#1" || a["native"] != "READY" {
		t.Errorf("CONNECTED_ACTIVE %v, want on s1 with its session", a)
	}
	if st := r.States(-1); st[0]["to"] != kit.Connecting || st[0]["server"] != s1.url() {
		t.Errorf("first state %v", st[0])
	}
	hellos, _, _, _ := s1.snapshot()
	if len(hellos) != 1 || hellos[0] != "c0 s1/c0#1" {
		t.Errorf("s1 hellos %v: want the client's name in metadata and argument", hellos)
	}
	for _, d := range r.Events(-1, "dial") {
		if d["server"] != s1.url() || d["text"] != nil {
			t.Errorf("dial %v: only s1, which answered", d)
		}
	}
	if _, _, _, n := s2.snapshot(); n != 0 {
		t.Errorf("s2 saw %d connections", n)
	}
	ct := rep["contract"].(map[string]any)
	kittest.CheckTerms(t, ct, "grpc-go ")
	p := kittest.Sub(ct, "params")
	if p["initial_ms"] != 50.0 || p["multiplier"] != 1.0 || p["max_ms"] != 50.0 || p["min_connect_timeout_ms"] != 1000.0 || p["overlap_ms"] != 250.0 || p["first_wait_exact"] != true {
		t.Errorf("params %v", p)
	}
	r.CheckLifecycle(-1)
}

func TestCascadeDialEvents(t *testing.T) {
	s2 := runFeed(t, "s2", "")
	dead := deadURL(t) // after the server: never its port
	r := newRig(t)
	if rep := connect(r, -1, []string{dead, s2.url()}, options(nil)); rep["ok"] != true {
		t.Fatalf("connect: %v", rep)
	}
	if a := r.State(-1, kit.Active); a["server"] != s2.url() {
		t.Errorf("CONNECTED_ACTIVE on %v, want s2", a["server"])
	}
	ds := r.Events(-1, "dial")
	if len(ds) < 3 || ds[0]["server"] != dead || ds[0]["text"] != nil || ds[1]["server"] != dead || !strings.Contains(ds[1]["text"].(string), "refused") {
		t.Fatalf("dials %s", kittest.Dump(ds))
	}
	sawS2 := false
	for _, d := range ds[2:] {
		sawS2 = sawS2 || (d["server"] == s2.url() && d["text"] == nil)
	}
	if !sawS2 {
		t.Errorf("no dial of s2: %s", kittest.Dump(ds))
	}
	r.CheckLifecycle(-1)
}

func TestFirstConnectFails(t *testing.T) {
	d1, d2 := deadURL(t), deadURL(t)
	r := newRig(t)
	rep := connect(r, -1, []string{d1, d2}, options(nil))
	if rep["ok"] != false || !strings.Contains(rep["error"].(string), "Unavailable") {
		t.Fatalf("connect: %v", rep)
	}
	c := r.State(-1, kit.ClosedFailed)
	if c["reason"] != "connection_error" || c["tried"] != nil || c["native"] != "TRANSIENT_FAILURE" {
		t.Errorf("close %v: last_error names no tried list", c)
	}
	if l := r.Do(map[string]any{"op": "send", "payload": 1}); l["ok"] != false {
		t.Errorf("send after a failed connect: %v", l)
	}
	r.CheckLifecycle(-1)
}

// After a loss pick_first starts again at the top of the list: the lost
// server, still listening, takes the client back, with a new session.
func TestLossReconnectsAtTop(t *testing.T) {
	s1, s2 := runFeed(t, "s1", ""), runFeed(t, "s2", "")
	r := newRig(t)
	connect(r, -1, []string{s1.url(), s2.url()}, options(nil))
	r.State(-1, kit.Active)
	s1.closeAll()
	rec := r.State(-1, kit.Recovering)
	if rec["server"] != s1.url() || rec["session"] != "s1/c0#1" {
		t.Errorf("RECOVERING_RECONNECT %v: names the lost connection", rec)
	}
	back := r.WaitFor("CONNECTED_ACTIVE again", func(l line) bool {
		return l["type"] == "state" && l["to"] == kit.Active && l["from"] == kit.Recovering
	})
	if back["server"] != s1.url() || back["session"] != "s1/c0#2" {
		t.Errorf("back on %v %v, want s1 (top of the list), session 2", back["server"], back["session"])
	}
	if _, _, _, n := s2.snapshot(); n != 0 {
		t.Errorf("s2 saw %d connections: failover went past the top", n)
	}
	r.CheckLifecycle(-1)
}

// The lost server gone: the pass tries it first, then the next one.
func TestLossFailsOverFromTop(t *testing.T) {
	s1, s2 := runFeed(t, "s1", ""), runFeed(t, "s2", "")
	r := newRig(t)
	connect(r, -1, []string{s1.url(), s2.url()}, options(nil))
	r.State(-1, kit.Active)
	before := len(r.Events(-1, "dial"))
	s1.stop()
	back := r.WaitFor("CONNECTED_ACTIVE on s2", func(l line) bool {
		return l["type"] == "state" && l["to"] == kit.Active && l["server"] == s2.url()
	})
	if back["session"] != "s2/c0#1" {
		t.Errorf("session %v", back["session"])
	}
	ds := r.Events(-1, "dial")[before:]
	if len(ds) < 3 || ds[0]["server"] != s1.url() || ds[1]["server"] != s1.url() || ds[1]["text"] == nil {
		t.Errorf("after the loss: want s1 refused first, then s2: %s", kittest.Dump(ds))
	}
	r.CheckLifecycle(-1)
}

// The whole lifecycle, and the close's rules.
func TestStateSequenceAndClose(t *testing.T) {
	s1 := runFeed(t, "s1", "")
	r := newRig(t)
	connect(r, -1, []string{s1.url()}, options(nil))
	r.State(-1, kit.Active)
	s1.closeAll()
	r.WaitFor("back", func(l line) bool { return l["type"] == "state" && l["from"] == kit.Recovering && l["to"] == kit.Active })
	if l := r.Do(map[string]any{"op": "close"}); l["ok"] != true {
		t.Fatalf("close: %v", l)
	}
	var seq []string
	for _, s := range r.States(-1) {
		seq = append(seq, s["to"].(string))
		if s["native"] == nil || s["phase"] != kit.Phase(s["to"].(string)) {
			t.Errorf("state %v: phase and native", s)
		}
	}
	want := []string{kit.Connecting, kit.Active, kit.Recovering, kit.Active, kit.ClosedByClient}
	if strings.Join(seq, ",") != strings.Join(want, ",") {
		t.Errorf("states %v, want %v", seq, want)
	}
	if c := r.State(-1, kit.ClosedByClient); c["native"] != "SHUTDOWN" || c["reason"] != "closed_by_client" {
		t.Errorf("close %v", c)
	}
	r.CheckClosed(5)
}

// The back-off grpc-go runs is the one the contract's params give: the
// first attempt at once, sleep 0 exactly initial, then ×multiplier (no
// jitter asked), each after the previous attempt failed.
func TestBackoffObserved(t *testing.T) {
	s1 := runFeed(t, "s1", "")
	r := newRig(t)
	connect(r, -1, []string{s1.url()}, options(func(o map[string]any) {
		o["reconnect"].(map[string]any)["strategy"] = map[string]any{"backoff": "exponential", "initial_ms": 100, "multiplier": 2, "max_ms": 400}
	}))
	r.State(-1, kit.Active)
	before := len(r.Snapshot())
	s1.stop() // refused from now on
	rec := r.State(-1, kit.Recovering)
	r.WaitFor("5 failed dials", func(l line) bool {
		n := 0
		for _, x := range r.Lines[before:] {
			if x["type"] == "dial" && x["text"] != nil {
				n++
			}
		}
		return n >= 5
	})
	r.Mu.Lock()
	var starts []time.Time
	var recAt time.Time
	for i := before; i < len(r.Lines); i++ {
		l := r.Lines[i]
		if l["type"] == "dial" && l["text"] == nil {
			starts = append(starts, r.At[i])
		}
		if l["type"] == "state" && l["to"] == kit.Recovering && recAt.IsZero() {
			recAt = r.At[i]
		}
	}
	r.Mu.Unlock()
	_ = rec
	// A refused dial ends within a millisecond, so the start-to-start gap
	// is the sleep; slack covers a loaded machine's scheduling.
	const slack = 80 * time.Millisecond
	if d := starts[0].Sub(recAt); d > slack {
		t.Errorf("first attempt %v after the loss, want at once", d)
	}
	for i, want := range []time.Duration{100, 200, 400, 400} {
		want *= time.Millisecond
		if i+1 >= len(starts) {
			break
		}
		gap := starts[i+1].Sub(starts[i])
		if gap < want-5*time.Millisecond || gap > want+slack {
			t.Errorf("sleep %d: %v, want %v", i, gap, want)
		}
	}
}

// idle_connect false: after a loss nothing asks the channel to connect,
// and grpc-go makes no attempt; a send asks, and it reconnects.
func TestIdleConnectOff(t *testing.T) {
	s1 := runFeed(t, "s1", "")
	r := newRig(t)
	rep := connect(r, -1, []string{s1.url()}, options(func(o map[string]any) { o["library"] = map[string]any{"grpc": map[string]any{"idle_connect": false}} }))
	if p := kittest.Sub(rep["contract"].(map[string]any), "params"); p["idle_connect"] != false {
		t.Errorf("params %v", p)
	}
	r.State(-1, kit.Active)
	dials := len(r.Events(-1, "dial"))
	s1.closeAll()
	rec := r.State(-1, kit.Recovering)
	if rec["native"] != "IDLE" && rec["native"] != "ConnEnd" {
		t.Errorf("RECOVERING_RECONNECT native %v", rec["native"])
	}
	// With idle_connect on the reconnect follows within milliseconds
	// (TestLossReconnectsAtTop): 500 ms of nothing is no attempt at all.
	time.Sleep(500 * time.Millisecond)
	if n := len(r.Events(-1, "dial")); n != dials {
		t.Fatalf("%d dials after the loss with idle_connect false:\n%s", n-dials, kittest.Dump(r.Snapshot()))
	}
	if st := r.States(-1); st[len(st)-1]["to"] != kit.Recovering {
		t.Fatalf("state %v", st[len(st)-1])
	}
	if l := r.Do(map[string]any{"op": "send", "payload": 7}); l["ok"] != true {
		t.Fatalf("send: %v", l)
	}
	r.WaitFor("back after the send", func(l line) bool { return l["type"] == "state" && l["from"] == kit.Recovering && l["to"] == kit.Active })
	eventually(t, "the send received", func() bool { _, rec, _, _ := s1.snapshot(); return len(rec) == 1 })
	if _, rec, _, _ := s1.snapshot(); rec[0] != 1 {
		t.Errorf("received %v", rec)
	}
	r.CheckLifecycle(-1)
}

func TestUnsupportedInReply(t *testing.T) {
	s1, s2 := runFeed(t, "s1", ""), runFeed(t, "s2", "")
	r := newRig(t)
	rep := connect(r, -1, []string{s1.url(), s2.url()}, options(func(o map[string]any) {
		o["reconnect"].(map[string]any)["enabled"] = false
		o["reconnect"].(map[string]any)["buffer"] = 16
		o["reconnect"].(map[string]any)["strategy"].(map[string]any)["attempts"] = 3
		o["liveness_ms"] = 300
		o["keep_session"] = true
	}))
	if rep["ok"] != true {
		t.Fatalf("connect: %v", rep)
	}
	ct := rep["contract"].(map[string]any)
	u := kittest.Unsupported(ct)
	for _, k := range []string{"reconnect.enabled", "reconnect.strategy.attempts", "reconnect.timeout_ms", "reconnect.buffer", "liveness_ms", "keep_session", "failover.cascading", "failover.auto"} {
		if u[k] == "" {
			t.Errorf("no unsupported %s: %v", k, u)
		}
	}
	if !strings.Contains(u["liveness_ms"], "10150ms") {
		t.Errorf("liveness reason %q: want the effective bound", u["liveness_ms"])
	}
	p := kittest.Sub(ct, "params")
	if p["detect_ms"] != 10150.0 || p["idle_connect"] != false {
		t.Errorf("params %v", p)
	}
	if kittest.Sub(ct, "liveness")["value"] != "ping" {
		t.Errorf("liveness %v", ct["liveness"])
	}
}

func TestSubscribeSendRequest(t *testing.T) {
	s1 := runFeed(t, "s1", "")
	r := newRig(t)
	connect(r, -1, []string{s1.url()}, options(nil))
	r.State(-1, kit.Active)
	if l := r.Do(map[string]any{"op": "subscribe", "topic": "prices"}); l["ok"] != true {
		t.Fatalf("subscribe: %v", l)
	}
	s1.publish("prices")
	s1.publish("prices")
	r.WaitFor("message 2", func(l line) bool { return l["type"] == "message" && l["topic"] == "prices" && l["seq"] == 2.0 })
	for i := 0; i < 3; i++ {
		if l := r.Do(map[string]any{"op": "send", "payload": map[string]any{"x": i}}); l["ok"] != true {
			t.Fatalf("send: %v", l)
		}
	}
	// Answered once written: the server's receive may follow the reply.
	eventually(t, "3 sends received", func() bool { _, rec, _, _ := s1.snapshot(); return len(rec) >= 3 })
	// Each unary RPC is a stream of its own, handled concurrently by the
	// server: the numbers, not their order.
	if _, rec, _, _ := s1.snapshot(); len(rec) != 3 || rec[0]+rec[1]+rec[2] != 6 || rec[0]*rec[1]*rec[2] != 6 {
		t.Errorf("received %v, want 1 2 3", rec)
	}
	id := r.Send(map[string]any{"op": "request", "rows": 3})
	if l := r.Reply(id); l["ok"] != true {
		t.Fatalf("request: %v", l)
	}
	done := r.WaitFor("done", func(l line) bool { return l["type"] == "done" && l["request"] == float64(id) })
	if done["cancelled"] != nil {
		t.Errorf("done %v", done)
	}
	var ns []float64
	for _, l := range r.Events(-1, "row") {
		ns = append(ns, l["n"].(float64))
	}
	if len(ns) != 3 || ns[0] != 1 || ns[2] != 3 {
		t.Errorf("rows %v", ns)
	}
	if _, _, rows, _ := s1.snapshot(); len(rows) != 1 || rows[0] != "["+itoa(id)+"]" {
		t.Errorf("server saw request ids %v, want %d", rows, id)
	}
	// A cancel is acknowledged by done with cancelled.
	id2 := r.Send(map[string]any{"op": "request", "rows": 1000})
	r.Reply(id2)
	r.WaitFor("a row", func(l line) bool { return l["type"] == "row" && l["request"] == float64(id2) })
	if l := r.Do(map[string]any{"op": "cancel", "request": id2}); l["ok"] != true {
		t.Fatalf("cancel: %v", l)
	}
	r.WaitFor("done cancelled", func(l line) bool {
		return l["type"] == "done" && l["request"] == float64(id2) && l["cancelled"] == true
	})
	if l := r.Do(map[string]any{"op": "request", "rows": 0}); l["ok"] != false {
		t.Errorf("request of 0 rows: %v", l)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A subscription is re-opened on the next CONNECTED_ACTIVE (driver_adds).
func TestSubscriptionReopened(t *testing.T) {
	s1 := runFeed(t, "s1", "")
	r := newRig(t)
	connect(r, -1, []string{s1.url()}, options(nil))
	r.State(-1, kit.Active)
	r.Do(map[string]any{"op": "subscribe", "topic": "t"})
	s1.closeAll()
	r.WaitFor("back", func(l line) bool { return l["type"] == "state" && l["from"] == kit.Recovering && l["to"] == kit.Active })
	// The old stream gone on the server's side too, the new one there.
	eventually(t, "the re-opened stream", func() bool { now, calls := s1.subscribers("t"); return now == 1 && calls == 2 })
	n := s1.publish("t")
	r.WaitFor("the message after the reconnect", func(l line) bool { return l["type"] == "message" && l["seq"] == float64(n) })
	r.WaitFor("the stream's end reported", func(l line) bool {
		t, _ := l["text"].(string)
		return l["type"] == "error" && strings.HasPrefix(t, "grpc-go Subscribe t ended")
	})
}

func TestMultiSession(t *testing.T) {
	s1 := runFeed(t, "s1", "")
	r := newRig(t)
	for k := 0; k < 3; k++ {
		if rep := connect(r, k, []string{s1.url()}, options(nil)); rep["ok"] != true {
			t.Fatalf("client %d: %v", k, rep)
		}
		if a := r.State(k, kit.Active); !strings.Contains(a["session"].(string), "/c"+itoa(int64(k))+"#") {
			t.Errorf("client %d session %v", k, a["session"])
		}
	}
	if l := connect(r, 1, []string{s1.url()}, options(nil)); l["ok"] != false {
		t.Errorf("second connect of client 1: %v", l)
	}
	r.CloseOneThenExit(3, 1)
}

func TestBadConnects(t *testing.T) {
	r := newRig(t)
	for _, c := range []struct {
		servers []string
		opts    map[string]any
		want    string
	}{
		{nil, options(nil), "no servers"},
		{[]string{"grpc://127.0.0.1"}, options(nil), "bad server URL"},
		{[]string{"grpc://127.0.0.1:1"}, options(func(o map[string]any) {
			o["library"] = map[string]any{"grpc": map[string]any{"lb_policy": "ring_hash"}}
		}), "lb_policy"},
	} {
		l := connect(r, -1, c.servers, c.opts)
		if l["ok"] != false || !strings.Contains(l["error"].(string), c.want) {
			t.Errorf("%v: %v, want an error with %q", c.servers, l, c.want)
		}
	}
	if l := r.Do(map[string]any{"op": "frobnicate"}); l["ok"] != false {
		t.Errorf("unknown op: %v", l)
	}
	if l := r.Do(map[string]any{"op": "subscribe", "topic": "x"}); l["ok"] != false {
		t.Errorf("subscribe before connect: %v", l)
	}
}

// round_robin (client.library.grpc.lb_policy) connects every server at once; a
// loss leaves the channel READY on the other.
func TestRoundRobin(t *testing.T) {
	s1, s2 := runFeed(t, "s1", ""), runFeed(t, "s2", "")
	r := newRig(t)
	rep := connect(r, -1, []string{s1.url(), s2.url()}, options(func(o map[string]any) {
		o["library"] = map[string]any{"grpc": map[string]any{"lb_policy": "round_robin"}}
	}))
	ct := rep["contract"].(map[string]any)
	if kittest.Sub(ct, "params")["lb_policy"] != "round_robin" || kittest.Sub(ct, "failover")["value"] != "next" {
		t.Errorf("contract %v", ct)
	}
	a := r.State(-1, kit.Active)
	eventually(t, "both servers connected", func() bool {
		_, _, _, n1 := s1.snapshot()
		_, _, _, n2 := s2.snapshot()
		return n1 == 1 && n2 == 1
	})
	lost, other := s1, s2
	if a["server"] == s2.url() {
		lost, other = s2, s1
	}
	lost.stop()
	r.WaitFor("CONNECTED_ACTIVE on the other", func(l line) bool {
		return l["type"] == "state" && l["to"] == kit.Active && l["server"] == other.url()
	})
	r.CheckLifecycle(-1)
}

// A send the library cannot take (the channel in TRANSIENT_FAILURE: a
// fail-fast RPC fails before any connection) is refused and takes no
// number; the next taken send is n = 1.
func TestSendRefusedTakesNoNumber(t *testing.T) {
	s1 := runFeed(t, "s1", "")
	addr := s1.addr
	r := newRig(t)
	connect(r, -1, []string{s1.url()}, options(func(o map[string]any) {
		o["reconnect"].(map[string]any)["strategy"] = map[string]any{"backoff": "fixed", "initial_ms": 2000}
	}))
	r.State(-1, kit.Active)
	s1.stop()
	r.WaitFor("TRANSIENT_FAILURE", func(l line) bool {
		t, _ := l["text"].(string)
		return strings.Contains(t, "TRANSIENT_FAILURE")
	})
	if l := r.Do(map[string]any{"op": "send", "payload": 1}); l["ok"] != false || !strings.Contains(l["error"].(string), "Unavailable") {
		t.Fatalf("send in TRANSIENT_FAILURE: %v", l)
	}
	s1b := runFeed(t, "s1", addr)
	r.WaitFor("back", func(l line) bool { return l["type"] == "state" && l["from"] == kit.Recovering && l["to"] == kit.Active })
	if l := r.Do(map[string]any{"op": "send", "payload": 2}); l["ok"] != true {
		t.Fatalf("send: %v", l)
	}
	eventually(t, "the send received", func() bool { _, rec, _, _ := s1b.snapshot(); return len(rec) == 1 })
	if _, rec, _, _ := s1b.snapshot(); rec[0] != 1 {
		t.Errorf("received n=%v, want 1: the refused send took no number", rec)
	}
}

// stallURL is a server that accepts TCP and never answers (no SETTINGS).
func stallURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	return "grpc://" + l.Addr().String()
}

// pick_first ends its first pass by re-dialing every address whose
// back-off is over, in the same call that reports TRANSIENT_FAILURE: the
// driver does not make those dials, so the first connect is one pass.
func TestFirstConnectNoRedial(t *testing.T) {
	stall := stallURL(t)
	dead := deadURL(t)
	r := newRig(t)
	rep := connect(r, -1, []string{dead, stall}, options(func(o map[string]any) {
		o["connect_timeout_ms"] = 300
		o["reconnect"].(map[string]any)["strategy"] = map[string]any{"backoff": "fixed", "initial_ms": 20}
	}))
	if rep["ok"] != false {
		t.Fatalf("connect: %v", rep)
	}
	r.State(-1, kit.ClosedFailed)
	// The re-dial, when grpc-go gets to it before the channel is closed,
	// comes at once; an error event says it was not made.
	time.Sleep(100 * time.Millisecond)
	n := map[any]int{}
	for _, d := range r.Events(-1, "dial") {
		if d["text"] == nil {
			n[d["server"]]++
		}
	}
	if n[dead] != 1 || n[stall] != 1 {
		t.Errorf("dials %v: one per server", n)
	}
	r.CheckLifecycle(-1)
}
