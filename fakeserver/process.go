package fakeserver

import "context"

// Killer is a server that can be killed as a process fault: its listener and
// every connection go at once, and whatever it held (sessions, topics,
// sequence numbers) is lost with it. Embedded servers are closed in place;
// servers in containers have their container stopped.
type Killer interface {
	Kill(ctx context.Context) error
}

// Restarter is a server that can be started again after a kill: fresh (no
// sessions), on the same address, so that its link need not change.
type Restarter interface {
	Restart(ctx context.Context) error
}
