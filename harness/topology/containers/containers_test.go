package containers

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	tc "github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func needDocker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := Available(ctx); err != nil {
		t.Skip("containers mode not tested: " + err.Error())
	}
}

func leftovers(t *testing.T, topo *Topology) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, ns, err := topo.Leftovers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) > 0 || len(ns) > 0 {
		t.Errorf("left behind: containers %v, networks %v", cs, ns)
	}
}

// An interrupt may come while containers are being created: Close must
// still remove every one of them, and the network, even those whose
// creation was cut short (found by label).
func TestInterruptedUpLeavesNothing(t *testing.T) {
	needDocker(t)
	sc := &scenario.Scenario{Servers: []scenario.Server{{Name: "s1", Kind: "session"}, {Name: "s2", Kind: "session"}}}
	var topos []*Topology
	for _, after := range []time.Duration{50 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond, 600 * time.Millisecond} {
		topo := New()
		ctx, cancel := context.WithTimeout(context.Background(), after)
		dep, err := topo.Up(ctx, sc, history.Nop{})
		cancel()
		if err == nil { // the machine was quicker than the interrupt
			_ = dep.Down(context.Background())
		}
		cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
		if err := topo.Close(cctx); err != nil {
			t.Errorf("close after an interrupt at %v: %v", after, err)
		}
		ccancel()
		leftovers(t, topo)
		topos = append(topos, topo)
	}
	// A create that was under way when the interrupt came must not finish
	// after Close has looked.
	time.Sleep(time.Second)
	for _, topo := range topos {
		leftovers(t, topo)
	}
}

// Docker may give a restarted container another address on its network; the
// link in front of it must follow, or the restarted server is unreachable.
// A squatter takes the killed server's address to make sure it moves.
// The links container's links record what they saw into the history: the
// attempt on the killed server's link as link.accept and link.dial_fail, the
// one on the restarted server's as a link.accept stamped before its accept.
func TestRestartedServerIsReachedAtItsNewAddress(t *testing.T) {
	needDocker(t)
	topo := New()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := topo.Close(ctx); err != nil {
			t.Error(err)
		}
		leftovers(t, topo)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := history.NewLog(history.NewClock())
	sc := &scenario.Scenario{Servers: []scenario.Server{{Name: "s1", Kind: "session"}}}
	dep, err := topo.Up(ctx, sc, log)
	if err != nil {
		t.Fatal(err)
	}
	defer dep.Down(ctx)
	node := dep.Servers["s1"]
	l, err := dep.Toxiproxy.Link(ctx, "s1", node.Upstream)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Server.(fakeserver.Killer).Kill(ctx); err != nil {
		t.Fatal(err)
	}
	dead, err := net.DialTimeout("tcp", l.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	waitFor(t, log, "the killed s1's link to fail its dial", func(e history.Event) bool {
		return e.Kind == history.KindLinkDialFail && e.Link == "s1"
	})
	squatter, err := tc.Run(ctx, topo.opts.ServeImage, tc.WithLabels(topo.labels()), tcnetwork.WithNetwork(nil, topo.nw))
	if squatter != nil {
		topo.track(squatter)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Server.(fakeserver.Restarter).Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if now := node.Server.Addr(); now == node.Upstream {
		t.Logf("s1 came back at its old address %s: the squatter did not take it", now)
	} else {
		t.Logf("s1 moved from %s to %s", node.Upstream, now)
	}
	c, err := net.DialTimeout("tcp", l.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The restarted server saw the connection through its link, after the link.
	acc := waitFor(t, log, "the restarted s1 to accept a connection through its link", func(e history.Event) bool {
		return e.Kind == history.KindAccept && e.Server == "s1"
	})
	var la *history.Event
	for _, e := range log.Events() {
		if e.Kind == history.KindLinkAccept && e.Link == "s1" && e.Conn == c.LocalAddr().String() {
			la = &e
		}
	}
	switch {
	case la == nil:
		t.Errorf("no link.accept of %s on link s1:\n%s", c.LocalAddr(), log.Events())
	case la.T > acc.T:
		t.Errorf("link.accept stamped at %v, after its server's accept at %v", la.T, acc.T)
	}
}

// waitFor waits for an event of the history that ok accepts.
func waitFor(t *testing.T, log *history.Log, what string, ok func(history.Event) bool) history.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range log.Events() {
			if ok(e) {
				return e
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("waited for %s in vain:\n%s", what, log.Events())
	return history.Event{}
}

// What a run killed outright left behind (it could not clean up) is removed
// by the next run: a network labelled with a pid that is gone.
func TestOrphansOfDeadRunsAreRemoved(t *testing.T) {
	needDocker(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	orphan, err := tcnetwork.New(ctx, tcnetwork.WithLabels(map[string]string{LabelRun: "fl-orphan-test",
		LabelPID: strconv.Itoa(dead.Process.Pid), LabelHost: host}))
	if err != nil {
		t.Fatal(err)
	}
	defer orphan.Remove(context.Background()) // in case the sweep did not
	topo := New()
	dep, err := topo.Up(ctx, &scenario.Scenario{Servers: []scenario.Server{{Name: "s1", Kind: "session"}}}, history.Nop{})
	if err == nil {
		_ = dep.Down(ctx)
	}
	if err := topo.Close(ctx); err != nil {
		t.Error(err)
	}
	leftovers(t, topo)
	_, ns, err := LeftoversLabelled(ctx, LabelRun+"=fl-orphan-test")
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) > 0 {
		t.Errorf("the orphan network %v was not removed", ns)
	}
}
