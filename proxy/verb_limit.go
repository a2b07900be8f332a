package proxy

import (
	"context"
	"errors"
)

// LimitAttrs configures limit.
type LimitAttrs struct {
	Bytes int64 `yaml:"bytes" json:"bytes"` // required > 0
}

// Validate requires a positive limit.
func (a *LimitAttrs) Validate() error {
	if a.Bytes <= 0 {
		return errors.New("bytes must be greater than 0")
	}
	return nil
}

// limit is Toxiproxy's limit_data toxic: the connection closes once that many
// bytes have passed on the stream since the fault began.
type limit struct{}

func init() { register("limit", limit{}) }

func (limit) newAttrs() any { return &LimitAttrs{} }

func (limit) apply(ctx context.Context, c *change, attrs any, dir Direction) error {
	return c.addToxics(ctx, "limit_data", dir, map[string]any{"bytes": attrs.(*LimitAttrs).Bytes})
}
