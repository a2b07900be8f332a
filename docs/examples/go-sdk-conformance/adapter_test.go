package mysdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"time"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/harness/driver"
)

// engine returns the adapter's factory: faultline starts one adapter per
// client of a scenario and tells it, through Do, what the client does; the
// adapter reports what the library does through sink. seed makes the
// library's jitter reproducible, one stream per client.
func engine(seed int64) driver.Factory {
	var nums driver.Numbers // the client's number in the run, for its stream
	return func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		return &adapter{sink: sink, rnd: rand.New(rand.NewSource(seed*1_000_003 + nums.Next(ctx)))}, nil
	}
}

// adapter is one client session of the library behind faultline's driver
// interface (docs/driver-protocol.md: the same ops and events as a stdio
// driver's, as Go values).
type adapter struct {
	sink driver.Sink
	rnd  *rand.Rand

	mu   sync.Mutex
	sess *client.Session
}

// Hello says what the library is and which features it has: requirements
// of a feature it does not declare are UNIMPLEMENTED, not FAILED.
func (a *adapter) Hello() driver.Hello {
	return driver.Hello{SDK: "mysdk", Version: "0.1.0", Features: []string{driver.FeatReconnect}}
}

// Do performs one op. A refused op is a reply with OK false; an error is
// for the adapter itself failing.
func (a *adapter) Do(ctx context.Context, op driver.Op) (driver.Reply, error) {
	if err := a.do(ctx, op); err != nil {
		return driver.Reply{Re: op.ID, Error: err.Error()}, nil
	}
	return driver.Reply{Re: op.ID, OK: true}, nil
}

func (a *adapter) do(ctx context.Context, op driver.Op) error {
	if op.Op == driver.OpConnect {
		var o driver.ConnectOptions
		if len(op.Options) > 0 {
			if err := json.Unmarshal(op.Options, &o); err != nil {
				return fmt.Errorf("bad options: %v", err)
			}
		}
		s, err := client.Connect(ctx, a.options(op.Servers, o))
		if s != nil {
			a.mu.Lock()
			a.sess = s
			a.mu.Unlock()
		}
		return err
	}
	a.mu.Lock()
	s := a.sess
	a.mu.Unlock()
	if s == nil {
		return errors.New("not connected")
	}
	switch op.Op {
	case driver.OpSubscribe:
		return s.Subscribe(ctx, op.Topic)
	case driver.OpSend:
		p := op.Payload
		if len(p) == 0 {
			p = json.RawMessage(`null`)
		}
		return s.Send(ctx, p)
	case driver.OpClose:
		return s.Close()
	}
	return fmt.Errorf("unknown op %q", op.Op)
}

// options maps the scenario's client block onto the library's options and
// its callbacks onto faultline's events.
func (a *adapter) options(servers []string, o driver.ConnectOptions) client.Options {
	c := client.DefaultOptions()
	c.Servers, c.Rand = servers, a.rnd
	c.Reconnect = o.Reconnect.Enabled
	c.ReconnectTimeout = ms(o.Reconnect.TimeoutMS)
	c.Retention = ms(o.Reconnect.RetentionMS)
	c.RecoveryBuffer = o.Reconnect.Buffer
	c.Liveness = ms(o.LivenessMS)
	c.ConnectTimeout = ms(o.ConnectTimeoutMS)
	if st := o.Reconnect.Strategy; st.InitialMS > 0 {
		c.Strategy = &client.Backoff{Initial: driver.Dur(st.InitialMS), Multiplier: st.Multiplier, Max: driver.Dur(st.MaxMS),
			MaxAttempts: st.Attempts, Jitter: st.Jitter, Fixed: st.Backoff == "fixed", Rand: a.rnd}
	}
	c.OnState = func(sc client.StateChange) {
		a.sink(driver.Event{Type: driver.EvState, From: string(sc.From), To: string(sc.To),
			Server: sc.Server, Session: sc.Session, Reason: sc.Reason, Tried: sc.Tried})
	}
	c.OnMessage = func(topic string, seq int64, _ []byte) {
		a.sink(driver.Event{Type: driver.EvMessage, Topic: topic, Seq: seq})
	}
	c.OnError = func(err error) { a.sink(driver.Event{Type: driver.EvError, Text: err.Error()}) }
	return c
}

// ms is a duration the options give in milliseconds (0: the library's default).
func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// Close ends the session if it is still open, within ctx.
func (a *adapter) Close(ctx context.Context) error {
	a.mu.Lock()
	s := a.sess
	a.mu.Unlock()
	if s == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("close did not finish: %w", ctx.Err())
	}
}
