package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/stdio"
)

// probeClose bounds the probe driver's exit: its hello is all it was for,
// and a driver that ignores the exit op is killed (its scenarios will say
// so about their own drivers).
const probeClose = 2 * time.Second

// helloExample is what a driver's first line looks like, for the message of
// a driver that did not write one.
const helloExample = `{"sdk":"my-sdk","version":"1.0","features":["reconnect"]}`

// findDriver checks that a driver command's program can be started at all:
// a missing or non-executable file is bad input, said at once with its path.
func findDriver(argv []string) error {
	if _, err := exec.LookPath(argv[0]); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			err = ee.Err
		}
		return fmt.Errorf("cannot run %q: %w", argv[0], err)
	}
	return nil
}

// probeDriver starts the driver once, before any scenario runs, and returns
// its hello: a driver that cannot start or says no hello within helloTimeout
// is bad input, found in seconds and not once per scenario. Its own factory,
// so the run's drivers are numbered (FAULTLINE_DRIVER) as without the probe.
// The error carries the driver's stderr tail (stdio.Error).
func probeDriver(ctx context.Context, argv []string, seed int64, helloTimeout time.Duration) (driver.Hello, error) {
	h, err := driver.Probe(ctx, stdio.Factory(argv, stdio.Seed(seed), stdio.HelloTimeout(helloTimeout)), probeClose)
	if errors.Is(err, driver.ErrProbeClose) { // it said hello: a slow exit is the scenarios' to report
		err = nil
	}
	return h, err
}

// probeAdvice is what a driver that failed the probe was expected to do.
func probeAdvice(helloTimeout time.Duration) string {
	return fmt.Sprintf("a driver's first line on stdout is its hello, written at once, e.g. %s, within --hello-timeout (%v) of its start (docs/driver-protocol.md)",
		helloExample, helloTimeout)
}
