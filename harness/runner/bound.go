package runner

import (
	"time"

	"github.com/faultline/faultline/harness/scenario"
)

// teardown is what a scenario's bound allows past its timeline: drivers'
// closes, the servers' and links' teardown, judging.
const teardown = 30 * time.Second

// procStart is what one driver process adds to a scenario's bound: a driver
// process per client, and 300 of them take seconds to start.
const procStart = 200 * time.Millisecond

// Bound is how long one scenario's run may take in all: its timeline plus
// teardown, plus each client's process start when the SDK's drivers are
// processes (a stdio driver command, not an in-process engine). The CLI, the
// Go API and the Ginkgo suite bound each scenario by it.
func Bound(sc *scenario.Scenario, procs bool) time.Duration {
	b := sc.End() + teardown
	if procs {
		b += time.Duration(sc.Clients) * procStart
	}
	return b
}
