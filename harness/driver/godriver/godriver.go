// Package godriver drives the reference Go engine (client/) in-process through
// the same operations and events as any stdio driver, so the runner cannot
// tell them apart.
package godriver

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"runtime"
	"sync"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/harness/driver"
)

// Version of the reference engine as it reports itself.
const Version = "0.1.0"

// Hello is what the Go engine declares.
func Hello() driver.Hello {
	return driver.Hello{SDK: "faultline-go", Version: Version, Features: []string{
		driver.FeatReconnect, driver.FeatFailover, driver.FeatLoadBalancing, driver.FeatCascading,
		driver.FeatRouting,   // routing: client/router, through router.go
		driver.FeatMigration, // streaming requests and migration, through migration.go
	}}
}

// Factory returns a driver.Factory for the Go engine. seed makes jitter and
// shuffles reproducible; each client gets its own stream derived from it.
func Factory(seed int64) driver.Factory {
	var nums driver.Numbers // the client's place in the run, whatever order the runner's concurrent starts come in
	return func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return New(seed, nums.Next(ctx), sink), nil
	}
}

// New is the Go engine for the run's driver number n (from 1): its random
// stream is the one Factory(seed) gives its n-th driver, so a multi-session
// `faultline driver` draws each client's stream from the client's number.
func New(seed, n int64, sink driver.Sink) *Driver {
	return &Driver{sink: sink, rnd: rand.New(rand.NewSource(seed*1_000_003 + n))}
}

// Driver is one Go engine session behind the driver interface.
type Driver struct {
	sink driver.Sink
	rnd  *rand.Rand

	mu   sync.Mutex
	sess *client.Session
	rt   *routing // router.go: set when connect started a router
}

// Hello implements driver.Driver.
func (d *Driver) Hello() driver.Hello { return Hello() }

// Do implements driver.Driver.
func (d *Driver) Do(ctx context.Context, op driver.Op) (driver.Reply, error) {
	if op.Op == driver.OpProbe {
		return probe(ctx, op), nil
	}
	err := d.do(ctx, op)
	if err != nil {
		return driver.Reply{Re: op.ID, OK: false, Error: err.Error()}, nil
	}
	return driver.Reply{Re: op.ID, OK: true}, nil
}

// ProcessKey implements driver.Shared: every in-process engine shares the
// harness's process, and so its run queue; the runner probes them as one.
func (d *Driver) ProcessKey() string { return driver.InProcess }

// probe answers the harness's lag probe (driver.OpProbe) the way the engine's
// reports travel in this process: from a goroutine that has to wait its turn
// on the scheduler's global run queue (runtime.Gosched puts it there), as an
// engine goroutine woken by the network does. Its round trip is how long a
// ready goroutine waited to run at that time; no session is touched.
func probe(ctx context.Context, op driver.Op) driver.Reply {
	done := make(chan struct{})
	go func() {
		runtime.Gosched()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return driver.Reply{Re: op.ID, OK: true}
}

func (d *Driver) session() (*client.Session, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sess == nil {
		return nil, fmt.Errorf("not connected")
	}
	return d.sess, nil
}

func (d *Driver) do(ctx context.Context, op driver.Op) error {
	if routed, err := d.route(ctx, op); routed { // router.go
		return err
	}
	if handled, err := d.requestOp(ctx, op); handled { // migration.go
		return err
	}
	switch op.Op {
	case driver.OpConnect:
		var co driver.ConnectOptions
		if len(op.Options) > 0 {
			if err := json.Unmarshal(op.Options, &co); err != nil {
				return fmt.Errorf("bad options: %v", err)
			}
		}
		opts := d.options(op.Servers, co)
		s, err := client.Connect(ctx, opts)
		if s != nil {
			d.mu.Lock()
			d.sess = s
			d.mu.Unlock()
		}
		return err
	case driver.OpSubscribe:
		s, err := d.session()
		if err != nil {
			return err
		}
		return s.Subscribe(ctx, op.Topic)
	case driver.OpSend:
		s, err := d.session()
		if err != nil {
			return err
		}
		p := op.Payload
		if len(p) == 0 {
			p = json.RawMessage(`null`)
		}
		return s.Send(ctx, p)
	case driver.OpClose:
		s, err := d.session()
		if err != nil {
			return err
		}
		return s.Close()
	default:
		return fmt.Errorf("unknown op %q", op.Op)
	}
}

func (d *Driver) options(servers []string, co driver.ConnectOptions) client.Options {
	o := client.DefaultOptions()
	o.Servers = servers
	if co.Principal != "" {
		o.Principal = co.Principal
	}
	if co.Credentials != "" {
		o.Credentials = co.Credentials
	}
	r := co.Reconnect
	o.Reconnect = r.Enabled
	if r.TimeoutMS > 0 {
		o.ReconnectTimeout = driver.Dur(float64(r.TimeoutMS))
	}
	if r.RetentionMS > 0 {
		o.Retention = driver.Dur(float64(r.RetentionMS))
	}
	if r.Buffer > 0 {
		o.RecoveryBuffer = r.Buffer
	}
	st := r.Strategy
	if st.InitialMS > 0 {
		o.Strategy = &client.Backoff{
			Initial:     driver.Dur(st.InitialMS),
			Multiplier:  st.Multiplier,
			Max:         driver.Dur(st.MaxMS),
			MaxAttempts: st.Attempts,
			Jitter:      st.Jitter,
			Fixed:       st.Backoff == "fixed",
			Rand:        d.rnd,
		}
	}
	if co.LivenessMS > 0 {
		o.Liveness = driver.Dur(float64(co.LivenessMS))
	}
	if co.ConnectTimeoutMS > 0 {
		o.ConnectTimeout = driver.Dur(float64(co.ConnectTimeoutMS))
	}
	o.Failover = co.Failover.Auto
	o.LoadBalancing = co.Failover.LoadBalancing
	o.Cascading = co.Failover.Cascading
	o.Rand = d.rnd // the session forks its own: shuffles reproducible from the run's seed
	o.OnState = func(c client.StateChange) {
		d.sink(driver.Event{Type: driver.EvState, From: string(c.From), To: string(c.To),
			Server: c.Server, Session: c.Session, Reason: c.Reason, Tried: c.Tried})
	}
	o.OnMessage = func(topic string, seq int64, _ []byte) {
		d.sink(driver.Event{Type: driver.EvMessage, Topic: topic, Seq: seq})
	}
	o.OnError = func(err error) {
		d.sink(driver.Event{Type: driver.EvError, Text: err.Error()})
	}
	d.migrationOptions(&o, co) // migration.go
	return o
}

// Close implements driver.Driver: the session is closed if still open.
func (d *Driver) Close(ctx context.Context) error {
	if err := d.closeRouting(ctx); err != nil { // router.go
		return err
	}
	d.mu.Lock()
	s := d.sess
	d.mu.Unlock()
	if s == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: close did not finish: %v", driver.ErrDriver, ctx.Err())
	}
}
