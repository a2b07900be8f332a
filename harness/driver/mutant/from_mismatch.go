package mutant

import "github.com/faultline/faultline/harness/driver"

func init() {
	Register(Mutation{
		Name: "from_mismatch",
		Breaks: "U1: a state event's from is not the previous event's to " +
			"(the first CONNECTED_ACTIVE → CLOSED_* is reported from RECOVERING_RECONNECT, itself a legal edge)",
		Events: func() Rewriter {
			done := false
			return func(e driver.Event, emit Emit) {
				if !done && e.Type == driver.EvState && e.From == driver.ConnectedActive && driver.IsClosed(e.To) {
					done = true
					e.From = driver.RecoveringReconnect
				}
				emit(e, 0)
			}
		},
	})
}
