package proxy

import "context"

// CutAttrs configures cut (it has no attributes).
type CutAttrs struct{}

// cut resets and drops: reset_peer on both streams, so that new connections
// are accepted (the server still sees every attempt) and reset once bytes
// flow, then a drop of the live ones. Toxics first: dropping first would
// leave the link without a listener while the toxics go in, and an attempt
// in that gap is refused unseen by any server (seen: a failover's last
// attempt missing from the evidence). Handing the toxics to many live
// connections takes a while (about 0.2s at 1,000); fault.on's apply_ms
// records it, and the loss checks judge from the start of the apply.
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
