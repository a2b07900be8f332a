package faultline

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/driver/stdio"
)

// engine is what Run certifies.
type engine struct {
	name    string // report.json's "driver": "go", the driver command, or "engine"
	factory driver.Factory
	probe   driver.Factory // starts the driver whose hello says what the SDK speaks; nil: hello is known
	hello   driver.Hello
	procs   bool // a process per client (or group of clients): their starts take time
}

// newEngine is the engine the options name: an Engine, a Driver, or by
// default faultline's own Go engine in process.
func newEngine(c config) (*engine, error) {
	switch {
	case c.engine != nil:
		return &engine{name: "engine", factory: c.engine, probe: c.engine}, nil
	case c.driverCmd != "":
		argv, err := splitCommand(c.driverCmd)
		if err != nil {
			return nil, fmt.Errorf("faultline.Driver: %w", err)
		}
		opts := []stdio.Option{stdio.Seed(c.seed), stdio.HelloTimeout(c.opTimeout)}
		// The probe is a factory of its own: the run's numbers its drivers
		// from 1, as `faultline run` does.
		return &engine{name: c.driverCmd, factory: stdio.Factory(argv, opts...), probe: stdio.Factory(argv, opts...), procs: true}, nil
	}
	return &engine{name: "go", factory: godriver.Factory(c.seed), hello: godriver.Hello()}, nil
}

// probeClose bounds the probe's driver's exit once it said hello.
const probeClose = 5 * time.Second

// ProbeHello starts one driver from f, reads its hello and closes it: what
// the SDK says it is, which features it declares and which protocol it
// speaks. ctx bounds it all.
func ProbeHello(ctx context.Context, f driver.Factory) (driver.Hello, error) {
	h, err := driver.Probe(ctx, f, probeClose)
	if err != nil {
		return h, err
	}
	if h.SDK == "" {
		return h, fmt.Errorf("the driver's hello names no sdk")
	}
	return h, nil
}
