package proxy

import "context"

// DownAttrs configures down (it has no attributes).
type DownAttrs struct{}

// down disables the link: listener closed (dials refused, so only the client
// can report its attempts) and live connections dropped.
type down struct{}

func init() { register("down", down{}) }

func (down) newAttrs() any { return &DownAttrs{} }
func (down) undirected()   {}

func (down) apply(ctx context.Context, c *change, _ any, _ Direction) error {
	return c.disable(ctx)
}
