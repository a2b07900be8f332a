package client

import "time"

// WithMigration turns migration on or off (off: the hello does not declare
// it, and servers refuse to migrate the connection).
func WithMigration(on bool) Option { return func(o *Options) { o.Migration = on } }

// WithMigrationTimeout bounds reaching a migration's target.
func WithMigrationTimeout(d time.Duration) Option {
	return func(o *Options) { o.MigrationTimeout = d }
}

// WithOnRow sets the row callback of streaming requests.
func WithOnRow(f func(req, n int64)) Option { return func(o *Options) { o.OnRow = f } }

// WithOnDone sets the final-done callback of streaming requests.
func WithOnDone(f func(req int64, cancelled bool)) Option { return func(o *Options) { o.OnDone = f } }

// WithOnMigration sets the migration callback.
func WithOnMigration(f func(MigrationEvent)) Option { return func(o *Options) { o.OnMigration = f } }
