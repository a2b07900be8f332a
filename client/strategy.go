package client

import "time"

// Strategy is Diffusion's reconnection strategy. PerformReconnection is
// called each time an attempt is wanted (on entering RECOVERING_RECONNECT and
// after each failed attempt); it must eventually call a.Start() or a.Abort(),
// possibly later from a timer. It is called from the session's event loop, so
// it must not block: schedule, don't sleep.
type Strategy interface{ PerformReconnection(a Attempt) }

// Attempt is one reconnection attempt offered to a Strategy. Only the first
// call of Start or Abort counts; calls made after the session left
// RECOVERING_RECONNECT (timed out, closed, reconnected) are ignored. Both
// return at once.
type Attempt interface {
	Start()
	Abort()
}

// Resetter is an optional capability: strategies that keep state are told of
// a successful reconnection so they start again from their first delay (R9).
type Resetter interface{ Reset() }

// DefaultStrategy is exponential back-off 100ms, 200ms, … capped at 5s.
func DefaultStrategy() *Backoff {
	return &Backoff{Initial: 100 * time.Millisecond, Multiplier: 2, Max: 5 * time.Second}
}
