package mutant

import (
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// ReviveAfter is how long after its close the revive mutant claims to be
// connected again.
const ReviveAfter = 50 * time.Millisecond

func init() {
	Register(Mutation{
		Name:   "revive",
		Breaks: "U1: a CLOSED_* state is left again (CLOSED_* → CONNECTED_ACTIVE, 50ms after the close)",
		Events: func() Rewriter {
			revived := false
			return func(e driver.Event, emit Emit) {
				emit(e, 0)
				if revived || e.Type != driver.EvState || !driver.IsClosed(e.To) {
					return
				}
				revived = true
				emit(driver.Event{Type: driver.EvState, From: e.To, To: driver.ConnectedActive,
					Server: e.Server, Session: e.Session, Client: e.Client}, ReviveAfter)
			}
		},
	})
}
