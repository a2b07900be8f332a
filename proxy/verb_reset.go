package proxy

import (
	"context"
	"errors"
	"time"
)

// ResetAttrs configures reset.
type ResetAttrs struct {
	// Timeout delays the reset after the first bytes flow (default 0: at once).
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
}

// Validate rejects a negative timeout.
func (a *ResetAttrs) Validate() error {
	if a.Timeout < 0 {
		return errors.New("timeout must not be negative")
	}
	return nil
}

// reset is Toxiproxy's reset_peer: it fires when bytes flow, not on idle links.
type reset struct{}

func init() { register("reset", reset{}) }

func (reset) newAttrs() any { return &ResetAttrs{} }

func (reset) apply(ctx context.Context, c *change, attrs any, dir Direction) error {
	a := attrs.(*ResetAttrs)
	return c.addToxics(ctx, "reset_peer", dir, map[string]any{"timeout": ms(a.Timeout)})
}
