package mutant

import "github.com/faultline/faultline/harness/driver"

func init() {
	Register(Mutation{
		Name: "never_connects",
		Breaks: "every rule: connect replies ok but never reaches the engine (no connection is made; " +
			"later ops are refused as not connected)",
		Op: func(op driver.Op, _ Emit) (driver.Reply, bool) {
			if op.Op == driver.OpConnect {
				return driver.Reply{Re: op.ID, OK: true}, true
			}
			return driver.Reply{}, false
		},
	})
}
