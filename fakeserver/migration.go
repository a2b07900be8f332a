package fakeserver

import "time"

// Migration's neutral side (docs/requirements.md, M): what the runner's
// common migrate step and the control API ask of a server whose sessions can
// move to another server, and the context store they share (store.go). The
// session protocol pack's server (packs/session/server) implements it; the
// runner and fakeserver/control use it without knowing that server.

// DefaultMigrationGrace bounds how long a source waits for the client's
// mig_leaving before it seals the context, and how long a target waits for
// that seal before resuming with what the context holds.
const DefaultMigrationGrace = time.Second

// Peers is what a session server needs to migrate sessions: the context
// store every server of the run shares, and the client-facing URL of a
// server by name (its link's address, known once the links are up).
type Peers struct {
	Store   ContextStore
	Resolve func(name string) (url string, ok bool)
}

// Migrator is a server whose sessions can be told to migrate.
type Migrator interface {
	// SetPeers gives the server its context store and name resolution.
	SetPeers(p Peers)
	// Migrate asks every live session to move to server to (or re-targets
	// a migration not yet started); hold is how long the server waits after
	// the client's mig_ready before it starts. It returns how many sessions
	// were asked.
	Migrate(to string, hold time.Duration) (int, error)
	// CancelMigration cancels every migration not yet started (those under
	// way are refused, and recorded so).
	CancelMigration() int
}

// RowPacer is a server whose row pacing the scenario sets.
type RowPacer interface {
	PaceRows(every time.Duration)
}
