package mutant

import "github.com/faultline/faultline/harness/driver"

// FakeSession is the session id the fake_connects mutant claims.
const FakeSession = "FAKESESSION"

func init() {
	Register(Mutation{
		Name: "fake_connects",
		Breaks: "every rule: connect never reaches the engine, yet the driver reports CONNECTING → CONNECTED_ACTIVE " +
			"on the first server (a verdict must never rest on the client's word alone)",
		Op: func(op driver.Op, emit Emit) (driver.Reply, bool) {
			if op.Op != driver.OpConnect {
				return driver.Reply{}, false
			}
			var server string
			if len(op.Servers) > 0 {
				server = op.Servers[0]
			}
			emit(driver.Event{Type: driver.EvState, To: driver.Connecting, Server: server, Client: op.Client}, 0)
			emit(driver.Event{Type: driver.EvState, From: driver.Connecting, To: driver.ConnectedActive,
				Server: server, Session: FakeSession, Client: op.Client}, 0)
			return driver.Reply{Re: op.ID, OK: true}, true
		},
	})
}
