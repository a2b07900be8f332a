package proxy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// linkOps are the primitives a backend provides for one link. Verbs are
// written against them (through change), never against a backend.
type linkOps interface {
	addToxic(ctx context.Context, t toxic) error
	removeToxic(ctx context.Context, name string) error // nil if already gone
	setEnabled(ctx context.Context, on bool) error      // off: listener closed, live connections dropped
	remove(ctx context.Context) error                   // delete the link for good
}

// toxic is one Toxiproxy toxic as both backends send it.
type toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// change is one fault being put in force on a link: it applies primitives and
// remembers what it did so that heal (or a failed apply) can undo exactly that.
// It runs under the link's lock.
type change struct {
	l      *Link
	prefix string   // "<verb>-<id>": toxic names unique per fault
	toxics []string // added and not yet removed
	down   bool     // holds the link disabled
}

func newChange(l *Link, verb string, id FaultID) *change {
	return &change{l: l, prefix: verb + "-" + strconv.FormatUint(uint64(id), 10)}
}

// addToxics adds one toxic of typ on each stream of dir, always at toxicity 1
// (the Go client sends 0 as "never").
func (c *change) addToxics(ctx context.Context, typ string, dir Direction, attrs map[string]any) error {
	streams, err := dir.streams()
	if err != nil {
		return err
	}
	for _, s := range streams {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := toxic{Name: c.prefix + "-" + s, Type: typ, Stream: s, Toxicity: 1, Attributes: attrs}
		if err := c.l.ops.addToxic(ctx, t); err != nil {
			return fmt.Errorf("add %s toxic on %s: %w", typ, s, err)
		}
		c.toxics = append(c.toxics, t.Name)
	}
	return nil
}

// disable takes the link down; it stays down until every fault holding it
// down is undone.
func (c *change) disable(ctx context.Context) error {
	if c.l.downs == 0 {
		if err := c.l.ops.setEnabled(ctx, false); err != nil {
			return fmt.Errorf("disable: %w", err)
		}
	}
	c.l.downs++
	c.down = true
	return nil
}

// dropConns drops every live connection and listens again on the same
// address. A link that is down has none, and must stay down.
func (c *change) dropConns(ctx context.Context) error {
	if c.l.downs > 0 {
		return nil
	}
	if err := c.l.ops.setEnabled(ctx, false); err != nil {
		return fmt.Errorf("drop connections: %w", err)
	}
	if err := c.l.ops.setEnabled(ctx, true); err != nil {
		return fmt.Errorf("drop connections: listen again: %w", err)
	}
	return nil
}

// undo reverses the change, newest first. What succeeded is forgotten, so
// after an error a later undo retries only the rest.
func (c *change) undo(ctx context.Context) error {
	var errs []error
	for i := len(c.toxics) - 1; i >= 0; i-- {
		if err := c.l.ops.removeToxic(ctx, c.toxics[i]); err != nil {
			errs = append(errs, fmt.Errorf("remove toxic %s: %w", c.toxics[i], err))
			continue
		}
		c.toxics = append(c.toxics[:i], c.toxics[i+1:]...)
	}
	if c.down {
		if c.l.downs == 1 {
			if err := c.l.ops.setEnabled(ctx, true); err != nil {
				return errors.Join(append(errs, fmt.Errorf("enable: %w", err))...)
			}
		}
		c.l.downs--
		c.down = false
	}
	return errors.Join(errs...)
}
