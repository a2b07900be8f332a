package fakeserver

// The capabilities: actions a server has by what it can do (Publisher,
// SessionCloser, Migrator, RowPacer) rather than by its kind. They share
// one action namespace with the kinds' own actions (a server's actions
// travel through one control endpoint, fakeserver/control), so no kind may
// register an action under these names.
const (
	CapPublish       = "publish"
	CapCloseSessions = "close_sessions"
	CapPeers         = "peers"
	CapMigrate       = "migrate"
	CapCancelMigrate = "migrate_cancel"
	CapPaceRows      = "pace_rows"
)

// Capabilities are the capabilities' action names.
var Capabilities = []string{CapPublish, CapCloseSessions, CapPeers, CapMigrate, CapCancelMigrate, CapPaceRows}
