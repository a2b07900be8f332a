package containers

import (
	"context"

	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
)

var _ topology.Refuser = (*Topology)(nil)

// Refuses a scenario that judges back-pressure when the links are reached
// through the ports Docker publishes (mapped reach): Docker's userland
// proxy buffers what a throttled link holds back (topology.BackPressureReason).
// How the links are reached is known once the network and the links container
// are up, so a scenario that needs to know brings them up here (Up would
// next); if that fails, Up says why.
func (t *Topology) Refuses(sc *scenario.Scenario) string {
	if !topology.NeedsBackPressure(sc) {
		return ""
	}
	if t.opts.Reach != ReachMapped {
		t.upMu.Lock()
		err := t.base(context.Background())
		t.upMu.Unlock()
		if err != nil {
			return ""
		}
	}
	if t.Reach() == ReachMapped {
		return topology.BackPressureReason + "; this run reaches the containers at their published ports (" + ReachEnv + "=mapped, or the auto probe fell back)"
	}
	return ""
}
