package driver

import "context"

// Multi-session drivers: one process hosting many clients' sessions, so that
// a scenario with a thousand clients does not need a thousand processes.
// The extension is additive (the protocol is fixed, docs/driver-protocol.md):
//
//	{"sdk":"…","version":"…","features":[…],"sessions":4096}   the hello: up to 4096 sessions per process
//	{"id":7000000001,"op":"connect","client":7,"driver":8,"seed":1,"servers":[…],"options":{…}}
//	{"id":7000000002,"op":"close","client":7}                   closes client 7's session only
//	{"re":7000000001,"ok":true}                                  replies: matched by id, unique per process
//	{"type":"state","client":7,"from":"CONNECTING",…}            every event names its client
//	{"id":9,"op":"exit"}                                         no client: ends the process
//
// A hello without sessions (or sessions 1) is today's driver: one process
// per client, no client fields. A driver that declares sessions and gets an
// op without client serves it as one default session whose events carry no
// client, so an older harness can still run it.
//
// driver and seed on connect are what FAULTLINE_DRIVER and FAULTLINE_SEED
// say to a one-session process: the client's random stream must not depend
// on how clients were packed into processes.

// Host is a Driver whose process can host more sessions than the one it
// was started for: the runner packs clients into it.
type Host interface {
	Driver
	// Sessions is how many sessions the process hosts at most (its hello's).
	Sessions() int
	// Open places the client of ctx's slot (WithSlot) in this process: a
	// Driver that is a view onto it. It sends nothing: the client's session
	// begins with its connect op.
	Open(ctx context.Context, sink Sink) (Driver, error)
}

// SlotOf is the client index WithSlot put in ctx.
func SlotOf(ctx context.Context) (int, bool) {
	s, ok := ctx.Value(slotKey{}).(slot)
	return s.index, ok
}
