package runner

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

const fourClients = `
name: many
covers: [F1]
clients: 4
servers:
  - {name: s1}
  - {name: s2}
client:
  servers: [s1, s2]
  failover: {auto: true}
steps:
  - {at: 0s, client: connect}
duration: 300ms
expect:
  - {check: failover_sequence, requirement: F1}
`

// keeper is a stub driver whose "process" kept some stderr.
type keeper struct {
	stub
	pid   int
	text  string
	total int64
}

func (k *keeper) PID() int                          { return k.pid }
func (k *keeper) KeptStderr() (string, int64, bool) { return k.text, k.total, true }

// Each process's stderr is in the result once, with the clients it served,
// cut tails marked; a process that wrote nothing, and a driver that keeps
// nothing, are left out.
func TestRunKeepsEachDriverProcesssStderr(t *testing.T) {
	sc := load(t, fourClients)
	ok := func(ctx context.Context, op driver.Op) (driver.Reply, error) {
		return driver.Reply{Re: op.ID, OK: true}, nil
	}
	hello := driver.Hello{SDK: "k", Features: []string{driver.FeatReconnect}}
	var n atomic.Int32 // starts run concurrently
	factory := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		slot, _ := driver.SlotOf(ctx)
		n.Add(1)
		switch slot {
		case 0, 1: // one process hosting clients 0 and 1 (as views onto it)
			return &keeper{stub: stub{hello: hello, do: ok}, pid: 100, text: "…last words\n", total: 5000}, nil
		case 2: // a process that wrote nothing
			return &keeper{stub: stub{hello: hello, do: ok}, pid: 102}, nil
		}
		return &stub{hello: hello, do: ok}, nil // keeps nothing
	}
	res := Run(context.Background(), sc, Config{Driver: factory, OpTimeout: 2 * time.Second, Teardown: 2 * time.Second})
	if n.Load() != 4 {
		t.Fatalf("%d drivers started, want 4 (problems %v)", n.Load(), res.Problems)
	}
	if len(res.DriverStderr) != 1 {
		t.Fatalf("driver stderr %+v: want one process", res.DriverStderr)
	}
	d := res.DriverStderr[0]
	if d.PID != 100 || d.Client != 0 || len(d.Clients) != 2 || d.Clients[1] != 1 || !d.Truncated || d.Bytes != 5000 || d.Text != "…last words\n" {
		t.Errorf("driver stderr %+v", d)
	}
}

// A whole text is not marked cut, and one client needs no list.
func TestDriverStderrWholeText(t *testing.T) {
	sc := load(t, small)
	hello := driver.Hello{SDK: "k", Features: []string{driver.FeatReconnect}}
	factory := func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return &keeper{stub: stub{hello: hello, do: func(ctx context.Context, op driver.Op) (driver.Reply, error) {
			return driver.Reply{Re: op.ID, OK: true}, nil
		}}, pid: 7, text: "hi\n", total: 3}, nil
	}
	res := Run(context.Background(), sc, Config{Driver: factory, OpTimeout: 2 * time.Second, Teardown: 2 * time.Second})
	if len(res.DriverStderr) != 1 || res.DriverStderr[0].Truncated || res.DriverStderr[0].Clients != nil || res.DriverStderr[0].Text != "hi\n" {
		t.Errorf("driver stderr %+v", res.DriverStderr)
	}
}
