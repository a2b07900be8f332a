package proxy

import (
	"context"
	"errors"
	"time"
)

// SliceAttrs configures slice.
type SliceAttrs struct {
	AverageSize   int           `yaml:"average_size" json:"average_size"`     // bytes per chunk, required > 0
	SizeVariation int           `yaml:"size_variation" json:"size_variation"` // ± bytes, < average_size
	Delay         time.Duration `yaml:"delay" json:"delay"`                   // between chunks (µs resolution)
}

// Validate enforces the slicer's own bounds: with average_size 0 or a
// variation not below it, Toxiproxy's chunking does not terminate.
func (a *SliceAttrs) Validate() error {
	switch {
	case a.AverageSize <= 0:
		return errors.New("average_size must be greater than 0")
	case a.SizeVariation < 0 || a.SizeVariation >= a.AverageSize:
		return errors.New("size_variation must be at least 0 and less than average_size")
	case a.Delay < 0:
		return errors.New("delay must not be negative")
	}
	return nil
}

// slice is Toxiproxy's slicer toxic.
type slice struct{}

func init() { register("slice", slice{}) }

func (slice) newAttrs() any { return &SliceAttrs{} }

func (slice) apply(ctx context.Context, c *change, attrs any, dir Direction) error {
	a := attrs.(*SliceAttrs)
	return c.addToxics(ctx, "slicer", dir, map[string]any{
		"average_size": a.AverageSize, "size_variation": a.SizeVariation, "delay": a.Delay.Microseconds(),
	})
}
