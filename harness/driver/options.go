package driver

import (
	"encoding/json"
	"time"

	"github.com/faultline/faultline/harness/scenario"
)

// ConnectOptions is the JSON shape of a connect op's options: the scenario's
// client block with every duration as whole milliseconds (key suffix _ms), so
// that a driver in any language reads it without a Go duration parser.
type ConnectOptions struct {
	Principal        string            `json:"principal,omitempty"`
	Credentials      string            `json:"credentials,omitempty"`
	Reconnect        ReconnectOptions  `json:"reconnect"`
	Failover         FailoverOptions   `json:"failover"`
	LivenessMS       int64             `json:"liveness_ms,omitempty"`
	ConnectTimeoutMS int64             `json:"connect_timeout_ms,omitempty"`
	Router           *RouterOptions    `json:"router,omitempty"`    // routing.go
	Migration        *MigrationOptions `json:"migration,omitempty"` // migration.go
	KeepSession      bool              `json:"keep_session,omitempty"`
	Delivery         string            `json:"delivery,omitempty"`
	// Library is client.library: by protocol, options for that protocol's
	// drivers; each driver reads its own protocol's.
	Library map[string]map[string]any `json:"library,omitempty"`
}

// ReconnectOptions mirrors scenario.Reconnect.
type ReconnectOptions struct {
	Enabled     bool            `json:"enabled"`
	TimeoutMS   int64           `json:"timeout_ms"`
	RetentionMS int64           `json:"retention_ms"`
	Buffer      int             `json:"buffer,omitempty"`
	Strategy    StrategyOptions `json:"strategy"`
}

// StrategyOptions mirrors scenario.Strategy.
type StrategyOptions struct {
	Backoff    string  `json:"backoff"`
	InitialMS  float64 `json:"initial_ms"`
	Multiplier float64 `json:"multiplier,omitempty"`
	MaxMS      float64 `json:"max_ms,omitempty"`
	Attempts   int     `json:"attempts,omitempty"`
	Jitter     float64 `json:"jitter,omitempty"`
}

// FailoverOptions mirrors scenario.Failover.
type FailoverOptions struct {
	Auto          bool `json:"auto"`
	LoadBalancing bool `json:"load_balancing"`
	Cascading     bool `json:"cascading"`
}

func ms(d time.Duration) int64 { return int64(d / time.Millisecond) }

func fms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Dur converts milliseconds back to a duration.
func Dur(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// OptionsFor renders a scenario's client block for the connect op, with the
// harness's defaults filled in so every SDK sees the same numbers.
func OptionsFor(c scenario.Client) ConnectOptions {
	st := c.Reconnect.Strategy
	return ConnectOptions{
		Principal:   c.Principal,
		Credentials: c.Credentials,
		Reconnect: ReconnectOptions{
			Enabled:     c.Reconnect.Enabled,
			TimeoutMS:   ms(c.ReconnectTimeout()),
			RetentionMS: ms(c.RequestedRetention()),
			Buffer:      c.Reconnect.Buffer,
			Strategy: StrategyOptions{
				Backoff: st.Backoff, InitialMS: fms(st.Initial), Multiplier: st.Multiplier,
				MaxMS: fms(st.Max), Attempts: st.Attempts, Jitter: st.Jitter,
			},
		},
		Failover:         FailoverOptions(c.Failover),
		LivenessMS:       ms(c.Liveness),
		ConnectTimeoutMS: ms(c.ConnectTimeout),
		Router:           routerOptionsFor(c),
		Migration:        migrationOptionsFor(c),
		KeepSession:      c.KeepSession,
		Delivery:         c.Delivery,
		Library:          c.Library,
	}
}

// Raw renders the options as the op's JSON.
func (o ConnectOptions) Raw() json.RawMessage {
	b, _ := json.Marshal(o) // plain data: cannot fail
	return b
}
