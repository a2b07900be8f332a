// Package mutant holds deliberately broken SDKs for testing the harness
// itself (mutation testing): each Mutation wraps an honest engine's
// driver.Factory and rewrites what the driver reports, what the engine is
// told, or which ops reach it. A mutant the checkers pass is a hole in the
// harness. Mutants are test-only: no CLI flag reaches them.
package mutant

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// Mutation is one named defect. Every hook is optional.
type Mutation struct {
	Name string
	// Breaks says, in a line, what the defect is and which rule it breaks.
	Breaks string
	// Options rewrites a connect op's options before the engine reads them.
	Options func(o *driver.ConnectOptions)
	// Op answers an op in the engine's place: when it returns true, the
	// engine never sees the op and the harness gets the reply. It may
	// report events of its own through emit.
	Op func(op driver.Op, emit Emit) (driver.Reply, bool)
	// Events makes one driver's event rewriter; its state is that driver's.
	Events func() Rewriter
}

// Rewriter sees each event the engine reports, in order, and emits what the
// harness sees instead: nothing, the event, a changed one, more than one.
type Rewriter func(e driver.Event, emit Emit)

// Emit hands an event to the harness after a delay (0: now). Order is kept:
// an event is never delivered before one emitted earlier, so a delay also
// holds back everything behind it, as a slow SDK would.
type Emit func(e driver.Event, after time.Duration)

var (
	mu       sync.RWMutex
	registry = map[string]Mutation{}
)

// Register makes a mutation available by name; a duplicate or unnamed
// mutation is a programming error.
func Register(m Mutation) {
	mu.Lock()
	defer mu.Unlock()
	if m.Name == "" {
		panic("mutant: unnamed mutation")
	}
	if _, dup := registry[m.Name]; dup {
		panic("mutant: duplicate mutation " + m.Name)
	}
	registry[m.Name] = m
}

// Lookup returns a registered mutation.
func Lookup(name string) (Mutation, bool) {
	mu.RLock()
	defer mu.RUnlock()
	m, ok := registry[name]
	return m, ok
}

// Names lists the registered mutations, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Wrap returns a factory whose drivers are honest's with the mutation
// applied. Their hello names the mutant, so a report says what ran.
func Wrap(honest driver.Factory, m Mutation) driver.Factory {
	return func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		p := &pipe{sink: sink}
		inner := sink
		if m.Events != nil {
			rw := m.Events()
			var rmu sync.Mutex // the engine may report from several goroutines; a rewriter's state is not shared-safe
			inner = func(e driver.Event) {
				rmu.Lock()
				defer rmu.Unlock()
				rw(e, p.emit)
			}
		}
		d, err := honest(ctx, inner)
		if err != nil {
			return nil, err
		}
		return &mutated{Driver: d, m: m, p: p}, nil
	}
}

// mutated is one driver with its mutation.
type mutated struct {
	driver.Driver
	m Mutation
	p *pipe
}

func (d *mutated) Hello() driver.Hello {
	h := d.Driver.Hello()
	h.SDK += "~mutant:" + d.m.Name
	return h
}

func (d *mutated) Do(ctx context.Context, op driver.Op) (driver.Reply, error) {
	if d.m.Op != nil {
		if rep, ok := d.m.Op(op, d.p.emit); ok {
			return rep, nil
		}
	}
	if d.m.Options != nil && op.Op == driver.OpConnect {
		var co driver.ConnectOptions
		if len(op.Options) > 0 {
			if err := json.Unmarshal(op.Options, &co); err != nil {
				return driver.Reply{}, fmt.Errorf("%w: mutant %s: connect options: %v", driver.ErrDriver, d.m.Name, err)
			}
		}
		d.m.Options(&co)
		op.Options = co.Raw()
	}
	return d.Driver.Do(ctx, op)
}

// Close closes the engine, then delivers what the pipe still holds: a
// delayed event is late, never lost.
func (d *mutated) Close(ctx context.Context) error {
	err := d.Driver.Close(ctx)
	d.p.close()
	return err
}
