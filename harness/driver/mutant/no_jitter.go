package mutant

import "github.com/faultline/faultline/harness/driver"

func init() {
	Register(Mutation{
		Name:   "no_jitter",
		Breaks: "R2: the strategy's jitter is ignored (the engine is given jitter 0 whatever the scenario declares)",
		Options: func(o *driver.ConnectOptions) {
			o.Reconnect.Strategy.Jitter = 0
		},
	})
}
