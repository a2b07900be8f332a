package driver

import "github.com/faultline/faultline/harness/scenario"

// Streaming requests and migration (Open Server's, M1–M6) over the driver
// protocol:
//
//	{"id":7,"op":"request","rows":500}        a streaming request; its id is the op's id (drivers use it
//	                                           as the request's id on the wire, so the harness can match
//	                                           what the servers saw)
//	{"id":9,"op":"cancel","request":7}        an attention for request 7
//
// Events:
//
//	{"type":"row","request":7,"n":1}          each row once, in order
//	{"type":"done","request":7,"cancelled":true}   the final done (cancelled: ended by the attention)
//	{"type":"migration","state":"REQUESTED","target":"ws://…/"}
//	                                           the engine's view of a migration: REQUESTED, READY,
//	                                           MIGRATING, then RESUMED (on the target), CANCELLED or
//	                                           FAILED (reason: why)
//
// A driver declares the "migration" feature when it can do all of this;
// options.migration.enabled false asks it to connect without migration
// support (its hello does not declare it, so servers refuse to migrate it).

// MigrationOptions is the connect op's options.migration.
type MigrationOptions struct {
	Enabled   bool  `json:"enabled"`
	TimeoutMS int64 `json:"timeout_ms,omitempty"` // bound on reaching the target; 0: the connect timeout
}

func migrationOptionsFor(c scenario.Client) *MigrationOptions {
	return &MigrationOptions{Enabled: c.MigrationOn(), TimeoutMS: ms(c.Migration.Timeout)}
}
