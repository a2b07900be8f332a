package proxy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Link is one named link in front of a server. Its methods are safe for
// concurrent use: faults are applied and healed from timer goroutines.
type Link struct {
	name string
	addr string
	ops  linkOps
	rec  history.Recorder
	ids  *atomic.Uint64 // shared by the Toxiproxy's links: ids unique across them

	mu     sync.Mutex // serialises faults on this link (and guards below)
	faults map[FaultID]*fault
	downs  int // faults holding the link disabled
	closed bool
}

type fault struct {
	verb string
	c    *change
}

func newLink(name, addr string, ops linkOps, rec history.Recorder, ids *atomic.Uint64) *Link {
	if rec == nil {
		rec = history.Nop{}
	}
	return &Link{name: name, addr: addr, ops: ops, rec: rec, ids: ids, faults: map[FaultID]*fault{}}
}

// Name is the link's name (a server's name in a scenario).
func (l *Link) Name() string { return l.name }

// Addr is the address clients dial ("host:port"); it never changes.
func (l *Link) Addr() string { return l.addr }

// Apply puts a fault in force and records fault.on into the history once it
// is. attrs is nil (the verb's defaults) or what NewAttrs(verb) returned.
// dir "" means both; cut and down ignore it.
func (l *Link) Apply(ctx context.Context, verb string, attrs any, dir Direction) (FaultID, error) {
	v, err := lookup(verb)
	if err != nil {
		return 0, err
	}
	if attrs, err = checkAttrs(verb, v, attrs); err != nil {
		return 0, err
	}
	if _, ok := v.(undirected); ok || dir == "" {
		dir = Both
	}
	if _, err := dir.streams(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	id := FaultID(l.ids.Add(1))
	c := newChange(l, verb, id)
	began := time.Now()
	if err := v.apply(ctx, c, attrs, dir); err != nil {
		// A half-applied fault must not linger; a cancelled ctx must not stop the undo.
		if uerr := c.undo(context.WithoutCancel(ctx)); uerr != nil {
			err = errors.Join(err, fmt.Errorf("undo: %w", uerr))
		}
		return 0, fmt.Errorf("proxy: %s on %s: %w", verb, l.name, err)
	}
	l.faults[id] = &fault{verb: verb, c: c}

	// apply_ms: a fault acts while it is being applied (a cut drops 1,000
	// connections over tens of ms), so checkers look for its effects from
	// T − apply_ms, not from T.
	ev := map[string]string{"direction": string(dir), "id": idString(id),
		"apply_ms": strconv.FormatFloat(float64(time.Since(began))/float64(time.Millisecond), 'f', 3, 64)}
	renderAttrs(attrs, ev)
	// Recorded under the lock so that a concurrent heal's fault.off follows it.
	l.rec.Record(history.Event{Source: history.SrcLink, Kind: history.KindFaultOn, Link: l.name, Verb: verb, Attrs: ev})
	return id, nil
}

// Heal removes one fault and records fault.off once it is removed.
func (l *Link) Heal(ctx context.Context, id FaultID) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return l.heal(ctx, id)
}

// HealAll heals every fault still in force, oldest first.
func (l *Link) HealAll(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return l.healAll(ctx)
}

// Active lists the faults in force, oldest first.
func (l *Link) Active() []FaultID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.active()
}

func (l *Link) active() []FaultID {
	ids := make([]FaultID, 0, len(l.faults))
	for id := range l.faults {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func (l *Link) heal(ctx context.Context, id FaultID) error {
	f, ok := l.faults[id]
	if !ok {
		return fmt.Errorf("%w: %d on %s", ErrUnknownFault, id, l.name)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.c.undo(ctx); err != nil {
		// Kept in force (and unrecorded) so that a later heal retries the rest.
		return fmt.Errorf("proxy: heal %s %d on %s: %w", f.verb, id, l.name, err)
	}
	delete(l.faults, id)
	l.rec.Record(history.Event{Source: history.SrcLink, Kind: history.KindFaultOff, Link: l.name, Verb: f.verb,
		Attrs: map[string]string{"id": idString(id)}})
	return nil
}

func (l *Link) healAll(ctx context.Context) error {
	var errs []error
	for _, id := range l.active() {
		if err := l.heal(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// shutdown heals what is in force, removes the link and refuses further use.
func (l *Link) shutdown(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	err := l.healAll(ctx)
	if rerr := l.ops.remove(ctx); rerr != nil {
		err = errors.Join(err, fmt.Errorf("proxy: remove link %s: %w", l.name, rerr))
	}
	return err
}

func idString(id FaultID) string { return strconv.FormatUint(uint64(id), 10) }
