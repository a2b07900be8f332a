package proxy

import (
	"context"
	"errors"
	"time"
)

// SlowAttrs configures slow.
type SlowAttrs struct {
	Latency time.Duration `yaml:"latency" json:"latency"` // required, >= 1ms
	Jitter  time.Duration `yaml:"jitter" json:"jitter"`   // delay is latency ± jitter
}

// Validate requires a latency Toxiproxy can express (it works in ms).
func (a *SlowAttrs) Validate() error {
	if a.Latency < time.Millisecond {
		return errors.New("latency must be at least 1ms")
	}
	if a.Jitter < 0 {
		return errors.New("jitter must not be negative")
	}
	return nil
}

// slow is Toxiproxy's latency toxic.
type slow struct{}

func init() { register("slow", slow{}) }

func (slow) newAttrs() any { return &SlowAttrs{} }

func (slow) apply(ctx context.Context, c *change, attrs any, dir Direction) error {
	a := attrs.(*SlowAttrs)
	return c.addToxics(ctx, "latency", dir, map[string]any{"latency": ms(a.Latency), "jitter": ms(a.Jitter)})
}
