package proxy

import "context"

// CutAttrs configures cut (it has no attributes).
type CutAttrs struct{}

// cut refuses and drops: the live connections are dropped, and reset_peer on
// both streams makes new ones accepted (the server still sees them) and reset
// once bytes flow. The toxics go in while the link is briefly without a
// listener (change.whileDropped), so a reconnect after the drop meets them.
type cut struct{}

func init() { register("cut", cut{}) }

func (cut) newAttrs() any { return &CutAttrs{} }
func (cut) undirected()   {}

func (cut) apply(ctx context.Context, c *change, _ any, _ Direction) error {
	return c.whileDropped(ctx, func() error {
		return c.addToxics(ctx, "reset_peer", Both, map[string]any{"timeout": 0})
	})
}
