package proxy

import (
	"context"
	"errors"
)

// ThrottleAttrs configures throttle.
type ThrottleAttrs struct {
	Rate int64 `yaml:"rate" json:"rate"` // KB/s (1 KB = 1000 bytes), required > 0
}

// Validate requires a rate: Toxiproxy reads 0 as unlimited.
func (a *ThrottleAttrs) Validate() error {
	if a.Rate <= 0 {
		return errors.New("rate (KB/s) must be greater than 0")
	}
	return nil
}

// throttle is Toxiproxy's bandwidth toxic.
type throttle struct{}

func init() { register("throttle", throttle{}) }

func (throttle) newAttrs() any { return &ThrottleAttrs{} }

func (throttle) apply(ctx context.Context, c *change, attrs any, dir Direction) error {
	return c.addToxics(ctx, "bandwidth", dir, map[string]any{"rate": attrs.(*ThrottleAttrs).Rate})
}
