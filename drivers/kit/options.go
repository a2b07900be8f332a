package kit

import (
	"encoding/json"
	"fmt"
	"math"
)

// ConnectOptions is the connect op's options (docs/driver-protocol.md, "The
// connect op's options"): the scenario's client block with the harness's
// defaults filled in and every duration in whole milliseconds. Pointers tell
// an absent block from a zero one where that matters: a driver leaves its
// library's default for an absent block. What each key means for a library
// is its driver's mapping, not kit's.
type ConnectOptions struct {
	Principal        string            `json:"principal"`
	Credentials      string            `json:"credentials"`
	Reconnect        *ReconnectOptions `json:"reconnect"`
	Failover         *FailoverOptions  `json:"failover"`
	LivenessMS       int64             `json:"liveness_ms"`
	ConnectTimeoutMS int64             `json:"connect_timeout_ms"`
	Router           json.RawMessage   `json:"router"` // present only for a router scenario
	Migration        *MigrationOptions `json:"migration"`
	KeepSession      bool              `json:"keep_session"`
	Delivery         string            `json:"delivery"` // at_most_once, at_least_once
	// Library is client.library: by protocol, options of that protocol's
	// drivers that the block has no key for (LibraryOptions).
	Library map[string]json.RawMessage `json:"library"`
}

// ReconnectOptions is the reconnect block.
type ReconnectOptions struct {
	Enabled     *bool            `json:"enabled"`
	TimeoutMS   int64            `json:"timeout_ms"`
	RetentionMS int64            `json:"retention_ms"`
	Buffer      int              `json:"buffer"`
	Strategy    *StrategyOptions `json:"strategy"`
}

// StrategyOptions is the reconnection strategy: delay n (from 0) is
// min(initial · multiplier^n, max), or always initial for "fixed", scaled by
// a uniform factor in [1 − jitter, 1].
type StrategyOptions struct {
	Backoff    string  `json:"backoff"` // exponential (also when empty), fixed
	InitialMS  float64 `json:"initial_ms"`
	Multiplier float64 `json:"multiplier"` // 0: DefaultMultiplier
	MaxMS      float64 `json:"max_ms"`     // 0: no cap
	Attempts   int     `json:"attempts"`   // 0: no limit
	Jitter     float64 `json:"jitter"`
}

// FailoverOptions is the failover block.
type FailoverOptions struct {
	Auto          bool `json:"auto"`
	LoadBalancing bool `json:"load_balancing"`
	Cascading     bool `json:"cascading"`
}

// MigrationOptions is the migration block.
type MigrationOptions struct {
	Enabled   bool  `json:"enabled"`
	TimeoutMS int64 `json:"timeout_ms"`
}

// DefaultMultiplier is the harness's multiplier when a strategy gives none.
const DefaultMultiplier = 2

// ParseConnectOptions reads a connect op's options; absent or null is the
// zero value (every library default). The error refuses the connect.
func ParseConnectOptions(raw json.RawMessage) (ConnectOptions, error) {
	var co ConnectOptions
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &co); err != nil {
			return ConnectOptions{}, fmt.Errorf("bad options: %v", err)
		}
	}
	return co, nil
}

// ReconnectOff says whether the scenario turned reconnection off
// (reconnect.enabled given and false); absent means on.
func (co ConnectOptions) ReconnectOff() bool {
	r := co.Reconnect
	return r != nil && r.Enabled != nil && !*r.Enabled
}

// Strategy is reconnect.strategy, nil when absent.
func (co ConnectOptions) Strategy() *StrategyOptions {
	if co.Reconnect == nil {
		return nil
	}
	return co.Reconnect.Strategy
}

// MigrationOn says whether the scenario asks for migration support.
func (co ConnectOptions) MigrationOn() bool { return co.Migration != nil && co.Migration.Enabled }

// IsRouter says whether the scenario's client is a router (router given).
func (co ConnectOptions) IsRouter() bool { return len(co.Router) > 0 && string(co.Router) != "null" }

// LibraryOptions decodes client.library.<protocol> into v (a pointer); v is
// left as it is when the scenario gives none.
func (co ConnectOptions) LibraryOptions(protocol string, v any) error {
	raw, ok := co.Library[protocol]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("bad options: library.%s: %v", protocol, err)
	}
	return nil
}

// EffectiveMultiplier is the multiplier, DefaultMultiplier when 0.
func (st *StrategyOptions) EffectiveMultiplier() float64 {
	if st.Multiplier == 0 {
		return DefaultMultiplier
	}
	return st.Multiplier
}

// DelayMS is the scenario's delay n (from 0) in milliseconds, before
// jitter: initial for "fixed", else min(initial · multiplier^n, max), +Inf
// when it grows past float64 with no max.
func (st *StrategyOptions) DelayMS(n int) float64 {
	if st.Backoff == "fixed" {
		return st.InitialMS
	}
	d := st.InitialMS * math.Pow(st.EffectiveMultiplier(), float64(n))
	if st.MaxMS > 0 && d > st.MaxMS {
		d = st.MaxMS
	}
	return d
}
