package faultline_test

import (
	"testing"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/harness/driver/godriver"
)

// An SDK's conformance test: its engine behind the driver interface
// (godriver.Factory stands in for the SDK's own adapter here), the built-in
// reconnect scenarios without the slow ones, reports where CI keeps them.
func conformance(t *testing.T) {
	rep := faultline.Run(t,
		faultline.Engine(godriver.Factory(1)),
		faultline.Scenarios("scenarios/reconnect"),
		faultline.Label("!slow"),
		faultline.OpTimeout(5*time.Second),
		faultline.ReportDir("faultline-report"),
	)
	t.Logf("%d results, report in %s", len(rep.Results), rep.Dir)
}

// A driver program in any language instead of an in-process adapter: one
// process per client, speaking the stdio driver protocol.
func conformanceOverStdio(t *testing.T) {
	faultline.Run(t, faultline.Driver("node sdk/node/driver.js"), faultline.Label("reconnect"), faultline.Seed(7))
}

func ExampleRun() {
	// In the SDK's own package, as func TestConformance(t *testing.T):
	_ = conformance
	_ = conformanceOverStdio
}
