package proxy

import "context"

// BlackholeAttrs configures blackhole (it has no attributes).
type BlackholeAttrs struct{}

// blackhole is Toxiproxy's timeout toxic with timeout 0: connections held,
// bytes dropped. Removing it closes the held connections.
type blackhole struct{}

func init() { register("blackhole", blackhole{}) }

func (blackhole) newAttrs() any { return &BlackholeAttrs{} }

func (blackhole) apply(ctx context.Context, c *change, _ any, dir Direction) error {
	return c.addToxics(ctx, "timeout", dir, map[string]any{"timeout": 0})
}
