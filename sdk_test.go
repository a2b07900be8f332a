package faultline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/driver/stdio"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// FAULTLINE_SDK picks the SDK the conformance suite certifies, as
// FAULTLINE_MODE picks where its servers run:
//
//	unset or go   faultline's Go engine, in this process (the default)
//	nats.go, paho.mqtt.golang, mqtt.js, paho-mqtt-python, grpc-go, grpcio-python
//	              that library's driver, bin/drivers/<name> (make drivers)
//	anything else a driver command, split as faultline run --sdk splits it
//
// The suite keeps the scenarios the SDK speaks (the protocol of its hello,
// read once from a driver started for it), e.g.
// FAULTLINE_SDK="node sdk/node/driver.js" go test -run TestConformance -ginkgo.label-filter=reconnect .
const sdkEnv = "FAULTLINE_SDK"

// libraries are the real libraries whose drivers make drivers builds.
var libraries = []string{"nats.go", "paho.mqtt.golang", "mqtt.js", "paho-mqtt-python", "grpc-go", "grpcio-python"}

// sdk is the suite's SDK.
type sdk struct {
	name  string // for the suite's title
	own   bool   // faultline's Go engine: it declares every feature
	procs bool   // a driver process per client (or group): their starts take time
	// factory is a fresh factory for each scenario: each numbers its
	// drivers from 1, as the suite always has.
	factory func() driver.Factory
	hello   driver.Hello
	err     error // the SDK could not be started: BeforeSuite fails with it
}

var suiteSDK = pickSDK(os.Getenv(sdkEnv))

func pickSDK(v string) sdk {
	if v == "" || v == "go" {
		return sdk{name: "Go engine", own: true, factory: func() driver.Factory { return godriver.Factory(1) }, hello: godriver.Hello()}
	}
	s := sdk{name: v, procs: true}
	var argv []string
	if slices.Contains(libraries, v) {
		bin, err := filepath.Abs(filepath.Join("bin", "drivers", v))
		if err == nil {
			_, err = os.Stat(bin)
		}
		if err != nil {
			s.err = fmt.Errorf("%s=%s: its driver %s is not built: run make drivers (%v)", sdkEnv, v, filepath.Join("bin", "drivers", v), err)
			return s
		}
		argv = []string{bin}
	} else {
		var err error
		if argv, err = faultline.SplitCommand(v); err != nil {
			s.err = fmt.Errorf("%s=%q: %v", sdkEnv, v, err)
			return s
		}
	}
	s.factory = func() driver.Factory { return stdio.Factory(argv, stdio.Seed(1)) }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if s.hello, s.err = faultline.ProbeHello(ctx, s.factory()); s.err != nil {
		s.err = fmt.Errorf("%s=%q: the driver did not say hello: %v", sdkEnv, v, s.err)
	} else {
		s.name = s.hello.SDK + " " + s.hello.Version
	}
	return s
}

// bound is how long one scenario may take with the suite's SDK: its
// timeline plus generous teardown, plus the driver processes' starts.
func (s sdk) bound(sc *scenario.Scenario) time.Duration { return runner.Bound(sc, s.procs) }
