package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit/kittest"
)

// paho's back-off against a live client: the first pass after a loss is
// immediate and the sleeps between passes double from 1 s; a success does
// not reset them (reset: never): a second outage right after the first
// begins with the anti-flap sleep (1 s, "connectionLost") and continues the
// doubling where the first left it (4 s, not 1 s) (backoff.go
// getBackoffSleepTime()).
func TestBackoffNotResetBySuccess(t *testing.T) {
	if testing.Short() {
		t.Skip("about 10 s of back-off")
	}
	b := runBroker(t, 0, "")
	p := newProxy(t, b.addr())
	r := newRig(t)
	l := r.Do(map[string]any{"op": "connect", "servers": []string{p.url()}, "options": options(func(o map[string]any) {
		kittest.Sub(o, "reconnect")["strategy"] = map[string]any{"backoff": "exponential", "initial_ms": 1000, "multiplier": 2, "max_ms": 4000}
	})})
	if l["ok"] != true {
		t.Fatalf("connect: %v", l)
	}
	if un := kittest.Unsupported(l["contract"].(map[string]any)); un["reconnect.strategy"] != "" {
		t.Errorf("paho's own back-off listed unsupported: %v", un)
	}
	dialsSince := func(from int) []time.Time {
		r.Mu.Lock()
		defer r.Mu.Unlock()
		var out []time.Time
		for i := from; i < len(r.Lines); i++ {
			if r.Lines[i]["type"] == "dial" && r.Lines[i]["text"] == nil {
				out = append(out, r.At[i])
			}
		}
		return out
	}
	mark := func() (int, time.Time) {
		r.Mu.Lock()
		defer r.Mu.Unlock()
		return len(r.Lines), time.Now()
	}
	waitDials := func(from, n int) []time.Time {
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) {
			if d := dialsSince(from); len(d) >= n {
				return d
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("fewer than %d dials", n)
		return nil
	}
	// failedPasses waits for n failed passes since line from.
	failedPasses := func(from, n int) {
		r.WaitFor(fmt.Sprintf("%d failed passes", n), func(line) bool {
			k := 0
			for _, l := range r.Lines[from:] {
				if txt, _ := l["text"].(string); l["type"] == "error" && strings.HasPrefix(txt, "paho: attempt failed") {
					k++
				}
			}
			return k >= n
		})
	}
	// Outage 1: passes at once, then after 1 s; healed during the 2 s sleep.
	i1, t1 := mark()
	p.setCut(true)
	failedPasses(i1, 2)
	p.setCut(false)
	d := waitDials(i1, 2)
	if first := d[0].Sub(t1); first > 300*time.Millisecond {
		t.Errorf("outage 1: first pass %v after the cut, want at once", first)
	}
	if gap := d[1].Sub(d[0]); gap < 800*time.Millisecond || gap > 1500*time.Millisecond {
		t.Errorf("outage 1: second pass %v after the first, want 1 s", gap)
	}
	r.WaitFor("CONNECTED_ACTIVE again", func(l line) bool { return l["to"] == "CONNECTED_ACTIVE" && l["from"] == "RECOVERING_RECONNECT" })
	// Outage 2, at once: the anti-flap sleep, then the doubling goes on.
	i2, t2 := mark()
	p.setCut(true)
	failedPasses(i2, 1)
	p.setCut(false)
	d = waitDials(i2, 2) // the second pass succeeds
	if first := d[0].Sub(t2); first < 800*time.Millisecond || first > 1500*time.Millisecond {
		t.Errorf("outage 2: first pass %v after the cut, want the 1 s anti-flap sleep", first)
	}
	if gap := d[1].Sub(d[0]); gap < 3500*time.Millisecond || gap > 5*time.Second {
		t.Errorf("outage 2: second pass %v after the first, want 4 s (the doubling not reset by the success)", gap)
	}
	t.Logf("outage 2: first pass %v after the cut, second %v later", d[0].Sub(t2), d[1].Sub(d[0]))
	r.WaitFor("CONNECTED_ACTIVE again", func(l line) bool {
		return l["to"] == "CONNECTED_ACTIVE" && l["from"] == "RECOVERING_RECONNECT" && kittest.CountType(r.Lines[i2:], "state") >= 2
	})
	r.Do(map[string]any{"op": "close"})
	r.CheckLifecycle(-1)
}
