package driver

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrProbeClose marks a probe whose driver said hello but did not close
// cleanly within the probe's bound: the hello stands.
var ErrProbeClose = errors.New("closing the driver after its hello")

// Probe starts one driver from f, reads its hello and closes it, the close
// bounded by closeWithin even once ctx is done: what the SDK says it is,
// which features it declares and which protocol it speaks, before anything
// runs. A driver that cannot start or says no hello is err; one that said
// hello and then did not close cleanly returns its hello with an error
// wrapping ErrProbeClose.
func Probe(ctx context.Context, f Factory, closeWithin time.Duration) (Hello, error) {
	d, err := f(ctx, func(Event) {}) // the hello only: no op, so no event is expected
	if err != nil {
		return Hello{}, err
	}
	h := d.Hello()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeWithin)
	defer cancel()
	if err := d.Close(cctx); err != nil {
		return h, fmt.Errorf("%w: %w", ErrProbeClose, err)
	}
	return h, nil
}
