package mutant

import (
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// LateClaimBy is how late the late_claim mutant reports a recovery.
const LateClaimBy = 200 * time.Millisecond

func init() {
	Register(Mutation{
		Name: "late_claim",
		Breaks: "R4: every RECOVERING_RECONNECT → CONNECTED_ACTIVE reaches the harness 200ms after it happened " +
			"(everything behind it waits too), so the client's word and the server's resume disagree",
		Events: func() Rewriter {
			return func(e driver.Event, emit Emit) {
				if e.Type == driver.EvState && e.From == driver.RecoveringReconnect && e.To == driver.ConnectedActive {
					emit(e, LateClaimBy)
					return
				}
				emit(e, 0)
			}
		},
	})
}
