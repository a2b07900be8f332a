package client

import (
	"errors"
	"fmt"
	"math/rand"
	"time"
)

// Options configures a session. The zero value is usable (with Servers set)
// but has reconnection off; DefaultOptions turns it on.
type Options struct {
	Servers          []string      // ws URLs, in order: Servers[0] first; the others for cascading and failover
	Principal        string        // default "faultline"
	Credentials      string        // default "faultline"
	Reconnect        bool          // reconnect after an unexpected loss
	ReconnectTimeout time.Duration // one overall timer from the first loss (default 60s)
	Retention        time.Duration // asked of the server in hello.retention_ms (default ReconnectTimeout)
	Strategy         Strategy      // default DefaultStrategy(); a *Backoff is copied per session
	RecoveryBuffer   int           // sends kept until acked (default 1024)
	Liveness         time.Duration // idle bound; 0: 2 × the server's ping_ms (none if it announced none)
	ConnectTimeout   time.Duration // bound on one attempt: dial + upgrade + hello/answer (default 2s)

	// Moving across Servers (see the package doc): three independent switches.
	Failover      bool       // autofailover: after losing an established session, a new one on the next server
	LoadBalancing bool       // failover candidates are shuffled (uniformly) before the next server is chosen
	Cascading     bool       // the first connection walks Servers in order until one answers
	Rand          *rand.Rand // shuffle source, for runs reproducible from a seed; each session forks its own

	// Callbacks run in order on one goroutine, never concurrently. They may
	// call the Session's methods, but must not wait on Done.
	OnState   func(StateChange)
	OnMessage func(topic string, seq int64, data []byte)
	OnError   func(error) // diagnostics: failed attempts, losses, protocol oddities

	// Streaming requests and migration (Open Server's; request.go, migrate.go).
	Migration        bool          // follow servers' migration requests (declared in the hello); off: servers refuse to migrate the connection
	MigrationTimeout time.Duration // bound on reaching a migration's target (default ConnectTimeout)
	OnRow            func(req, n int64)
	OnDone           func(req int64, cancelled bool)
	OnMigration      func(MigrationEvent)
}

// Defaults.
const (
	DefaultPrincipal        = "faultline"
	DefaultCredentials      = "faultline"
	DefaultReconnectTimeout = 60 * time.Second
	DefaultRecoveryBuffer   = 1024
	DefaultConnectTimeout   = 2 * time.Second
)

// DefaultOptions has reconnection on and every default filled in.
func DefaultOptions() Options {
	return Options{
		Principal:        DefaultPrincipal,
		Credentials:      DefaultCredentials,
		Reconnect:        true,
		ReconnectTimeout: DefaultReconnectTimeout,
		Strategy:         DefaultStrategy(),
		RecoveryBuffer:   DefaultRecoveryBuffer,
		ConnectTimeout:   DefaultConnectTimeout,
		Migration:        true,
	}
}

// resolve validates o and fills in defaults for zero fields.
func (o Options) resolve() (Options, error) {
	if len(o.Servers) == 0 {
		return o, ErrNoServers
	}
	o.Servers = append([]string(nil), o.Servers...)
	if o.ReconnectTimeout < 0 || o.Retention < 0 || o.Liveness < 0 || o.ConnectTimeout < 0 || o.RecoveryBuffer < 0 || o.MigrationTimeout < 0 {
		return o, errors.New("client: negative option")
	}
	if o.Principal == "" {
		o.Principal = DefaultPrincipal
	}
	if o.Credentials == "" {
		o.Credentials = DefaultCredentials
	}
	if o.ReconnectTimeout == 0 {
		o.ReconnectTimeout = DefaultReconnectTimeout
	}
	if o.Retention == 0 {
		o.Retention = o.ReconnectTimeout
	}
	if o.RecoveryBuffer == 0 {
		o.RecoveryBuffer = DefaultRecoveryBuffer
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.Strategy == nil {
		o.Strategy = DefaultStrategy()
	}
	if b, ok := o.Strategy.(*Backoff); ok {
		if err := b.validate(); err != nil {
			return o, fmt.Errorf("client: strategy: %w", err)
		}
	}
	// A strategy that keeps state must not be shared by sessions built
	// from the same Options.
	if c, ok := o.Strategy.(interface{ clone() Strategy }); ok {
		o.Strategy = c.clone()
	}
	// Nor a shuffle source (rand.Rand is not goroutine-safe): fork one the
	// session owns, drawn here, on the caller's goroutine.
	if o.Rand != nil {
		o.Rand = rand.New(rand.NewSource(o.Rand.Int63()))
	}
	return o, nil
}
