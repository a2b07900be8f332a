package main

import (
	"testing"

	"github.com/faultline/faultline/drivers/kit/kittest"
)

// rrOptions are options(nil) with round_robin.
func rrOptions() map[string]any {
	return options(func(o map[string]any) {
		o["library"] = map[string]any{"grpc": map[string]any{"lb_policy": "round_robin"}}
	})
}

// sendUntil sends until cond holds (every send answered), failing at
// the rig's deadline.
func sendUntil(t *testing.T, r *kittest.Rig, what string, cond func() bool) {
	t.Helper()
	eventually(t, what, func() bool {
		if rep := r.Do(map[string]any{"op": "send", "payload": "x"}); rep["ok"] != true {
			t.Fatalf("send: %v", rep)
		}
		return cond()
	})
}

func received(f *feedServer) int {
	_, got, _, _ := f.snapshot()
	return len(got)
}

// discovery.add gives round_robin a new backend, which takes its turns;
// discovery.remove takes one away, and no send lands on it after.
func TestDiscoveryAddRemove(t *testing.T) {
	s1, s2, s3 := runFeed(t, "s1", ""), runFeed(t, "s2", ""), runFeed(t, "s3", "")
	r := newRig(t)
	if rep := connect(r, -1, []string{s1.url(), s2.url()}, rrOptions()); rep["ok"] != true {
		t.Fatalf("connect: %v", rep)
	}
	if rep := r.Do(map[string]any{"op": "discovery.add", "servers": []string{s3.url()}}); rep["ok"] != true {
		t.Fatalf("discovery.add: %v", rep)
	}
	sent := 0
	sendUntil(t, r, "a send on the added s3", func() bool { sent++; return received(s3) > 0 })
	// A send is answered once written: wait until every one has landed.
	eventually(t, "every send landed", func() bool { return received(s1)+received(s2)+received(s3) == sent })
	if rep := r.Do(map[string]any{"op": "discovery.remove", "servers": []string{s1.url()}}); rep["ok"] != true {
		t.Fatalf("discovery.remove: %v", rep)
	}
	before := received(s1)
	for range 20 {
		if rep := r.Do(map[string]any{"op": "send", "payload": "x"}); rep["ok"] != true {
			t.Fatalf("send: %v", rep)
		}
	}
	if got := received(s1); got != before {
		t.Errorf("s1 received %d send(s) after its removal", got-before)
	}
	if received(s2) == 0 || received(s3) == 0 {
		t.Errorf("after the removal the sends should rotate over s2 and s3: s2 %d, s3 %d", received(s2), received(s3))
	}
	r.CheckLifecycle(-1)
}

// Discovery ops that cannot be served are refused with why.
func TestDiscoveryRefused(t *testing.T) {
	s1, s2 := runFeed(t, "s1", ""), runFeed(t, "s2", "")
	r := newRig(t)
	if rep := r.Do(map[string]any{"op": "discovery.add", "servers": []string{s2.url()}}); rep["ok"] == true {
		t.Errorf("discovery.add before connect: %v", rep)
	}
	if rep := connect(r, -1, []string{s1.url()}, rrOptions()); rep["ok"] != true {
		t.Fatalf("connect: %v", rep)
	}
	for _, o := range []map[string]any{
		{"op": "discovery.add", "servers": []string{s1.url()}},           // a member already
		{"op": "discovery.remove", "servers": []string{s2.url()}},        // not a member
		{"op": "discovery.remove", "servers": []string{s1.url()}},        // would leave none
		{"op": "discovery.add", "servers": []string{"grpc://127.0.0.1"}}, // no port
		{"op": "discovery.add", "servers": []string{}},                   // nothing
	} {
		if rep := r.Do(o); rep["ok"] == true || rep["error"] == nil {
			t.Errorf("%v: %v, want refused with why", o, rep)
		}
	}
}
