package check

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// The contract's terms and the params the checks read, as
// docs/driver-protocol.md ("The SDK contract") lists them. The values a
// check tells apart live beside it.
const (
	termFirstAttempt = "first_attempt" // immediate | after_delay
	termDelayApplies = "delay_applies" // per_attempt | per_pass
	termJitter       = "jitter"        // none | added | symmetric | below
	termReset        = "reset"         // on_success | never | …
	termFailover     = "failover"      // next | top
	termLiveness     = "liveness"      // ping | none
	termLameDuck     = "lame_duck"     // reconnect | notify | none
	termDelivery     = "delivery"      // at_most_once | at_least_once | exactly_once
	termBuffer       = "buffer"        // while_reconnecting | none
	termDiscovery    = "discovery"     // follow | ignore
	termCloseError   = "close_error"   // names_tried | last_error | generic
	termFirstConnect = "first_connect" // cascade | single
	// connect_deadline: how long one connection attempt may take.
	// max_backoff: max(min_connect_timeout_ms, the attempt's current
	// back-off), gRPC's TryConnect(Max(current_deadline, now() +
	// MIN_CONNECT_TIMEOUT)); fixed: min_connect_timeout_ms (else the
	// scenario's connect_timeout) for every attempt.
	termConnectDeadline = "connect_deadline"
	// idle_reconnect: after a loss, with nothing asking it to connect, does
	// the library reconnect by itself (auto) or only when asked (on_demand:
	// gRPC pick_first goes IDLE until an RPC or Connect()).
	termIdleReconnect = "idle_reconnect"

	paramWait       = "reconnect_wait_ms" // a constant wait …
	paramJitterMs   = "jitter_ms"         // … plus U[0, jitter_ms)
	paramInitial    = "initial_ms"        // min(initial·multiplier^n, max) …
	paramMultiplier = "multiplier"
	paramMax        = "max_ms"
	paramJitter     = "jitter"    // … randomised by this fraction, as the jitter term says
	paramDetect     = "detect_ms" // the longest a silent link goes unnoticed
	// first_wait_exact: true: the first wait (sleep 0) is exactly
	// initial_ms, without jitter (grpc-go Exponential.Backoff(0) returns
	// BaseDelay).
	paramFirstWaitExact = "first_wait_exact"
	// min_connect_timeout_ms: the shortest an attempt is given before the
	// library gives up on it (gRPC MIN_CONNECT_TIMEOUT).
	paramMinConnectTimeout = "min_connect_timeout_ms"
	// overlap_ms: a first connect's walk starts the next address this long
	// after the previous one began if that one has not finished (grpc-go
	// pick_first's happy eyeballs, 250 ms).
	paramOverlap = "overlap_ms"
)

// Contract is a real library's effective contract for one connect, as its
// driver gave it in the connect reply (docs/driver-protocol.md, "The SDK
// contract"): what the library promises to do with the options the scenario
// asked for. A check judges a library against it where the library and the
// scenario's model differ, and says so; it is the client's word about
// itself, so a check never takes it as evidence of what happened.
type Contract struct {
	Terms       map[string]Term
	Unsupported []CantExpress
	DriverAdds  []DriverAdd
	Params      map[string]any // the numbers the library runs with (driver-defined keys)
	At          time.Duration  // the reply's stamp
}

// optionJitter is the connect option a driver lists as unsupported when its
// library cannot jitter as asked.
const optionJitter = "reconnect.strategy.jitter"

// CannotExpress reports whether the driver listed option among what the
// library cannot express (Unsupported).
func (c *Contract) CannotExpress(option string) bool {
	if c == nil {
		return false
	}
	for _, u := range c.Unsupported {
		if u.Option == option {
			return true
		}
	}
	return false
}

// Term is one term of a contract: its value and where the library says so.
type Term struct {
	Value string `json:"value"`
	Cite  string `json:"cite"`
}

// CantExpress is an option the library cannot express, with why.
type CantExpress struct {
	Option string `json:"option"`
	Reason string `json:"reason"`
}

// DriverAdd is what the driver adds through the library's public API.
type DriverAdd struct {
	What string `json:"what"`
	Why  string `json:"why"`
}

// Value is a term's value ("" when the contract does not say).
func (c *Contract) Value(term string) string {
	if c == nil {
		return ""
	}
	return c.Terms[term].Value
}

// Param is a numeric param's value (false when the contract has none).
func (c *Contract) Param(name string) (float64, bool) {
	if c == nil {
		return 0, false
	}
	f, ok := c.Params[name].(float64)
	return f, ok
}

// Flag is a boolean param's value (false when the contract has none or it
// is not a boolean).
func (c *Contract) Flag(name string) bool {
	if c == nil {
		return false
	}
	b, _ := c.Params[name].(bool)
	return b
}

// Says renders a term for a detail: `lame_duck: notify (nats.go processInfo(): …)`.
func (c *Contract) Says(term string) string {
	if c == nil {
		return term + ": not declared"
	}
	t, ok := c.Terms[term]
	if !ok {
		return term + ": not declared"
	}
	return term + ": " + t.Value + " (" + t.Cite + ")"
}

// parseContract reads a connect reply's contract attribute.
func parseContract(e history.Event) (*Contract, bool) {
	raw := e.Attr("contract")
	if raw == "" {
		return nil, false
	}
	var all map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &all) != nil {
		return nil, false
	}
	c := &Contract{Terms: map[string]Term{}, At: e.T}
	for k, v := range all {
		switch k {
		case "unsupported":
			_ = json.Unmarshal(v, &c.Unsupported)
		case "driver_adds":
			_ = json.Unmarshal(v, &c.DriverAdds)
		case "params":
			_ = json.Unmarshal(v, &c.Params)
		default:
			var t Term
			if json.Unmarshal(v, &t) == nil && t.Value != "" {
				c.Terms[k] = t
			}
		}
	}
	return c, true
}

// contract is the effective contract of a client's latest connect at or
// before t (nil: its driver declared none: faultline's own protocol). A
// failed connect's reply carries it too (the contract the library tried
// with: what a close after every server failed is judged by, C2).
//
// It is asked once per client and outage, so the contracts are indexed
// once (connectContracts); the answer is the last of the client's that a
// scan of the history in order, stopping at its first event after t,
// would have read. The *Contract is shared: callers must not modify it.
func (v *clientView) contract(c int, t time.Duration) *Contract {
	cs := v.connectContracts()[c]
	end := v.scanEnd(t)
	k := sort.Search(len(cs), func(k int) bool { return cs[k].at >= end })
	if k == 0 {
		return nil
	}
	return cs[k-1].ct
}

// indexedContract is a connect reply's contract and the reply's index in
// the history.
type indexedContract struct {
	at int
	ct *Contract
}

type keyConnectContracts struct{}

// connectContracts is every client's connect replies that carry a
// contract, parsed, in history order.
func (v *clientView) connectContracts() map[int][]indexedContract {
	return derive(v.memo, keyConnectContracts{}, func() map[int][]indexedContract {
		out := map[int][]indexedContract{}
		for i, e := range v.h {
			if e.Kind == history.KindReply && e.Op == driver.OpConnect {
				if k, ok := parseContract(e); ok {
					out[e.Client] = append(out[e.Client], indexedContract{at: i, ct: k})
				}
			}
		}
		return out
	})
}
