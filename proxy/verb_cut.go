package proxy

import "context"

// CutAttrs configures cut (it has no attributes).
type CutAttrs struct{}

// cut refuses and drops: reset_peer on both streams so that new connections
// are accepted (the server still sees them) and reset once bytes flow, then a
// drop of the live ones. Toxics first, so that a reconnect racing the drop
// already meets them.
type cut struct{}

func init() { register("cut", cut{}) }

func (cut) newAttrs() any { return &CutAttrs{} }
func (cut) undirected()   {}

func (cut) apply(ctx context.Context, c *change, _ any, _ Direction) error {
	if err := c.addToxics(ctx, "reset_peer", Both, map[string]any{"timeout": 0}); err != nil {
		return err
	}
	return c.dropConns(ctx)
}
