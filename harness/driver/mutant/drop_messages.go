package mutant

import "github.com/faultline/faultline/harness/driver"

// DropEvery is the drop_messages mutant's period: every DropEvery-th message
// event is never reported.
const DropEvery = 5

func init() {
	Register(Mutation{
		Name:   "drop_messages",
		Breaks: "R3: every 5th delivered message is silently lost (a control: existing checks catch it)",
		Events: func() Rewriter {
			n := 0
			return func(e driver.Event, emit Emit) {
				if e.Type == driver.EvMessage {
					n++
					if n%DropEvery == 0 {
						return
					}
				}
				emit(e, 0)
			}
		},
	})
}
