// Package driver is the harness's side of the driver protocol
// (docs/driver-protocol.md, fixed): the operations the harness sends to a
// client engine and the events the engine reports. The runner only ever talks
// to a Driver, whether the engine is the in-process Go engine or another
// SDK's program over stdio.
package driver

import (
	"context"
	"encoding/json"
	"errors"
)

// Features an SDK may declare in its hello.
const (
	FeatReconnect     = "reconnect"
	FeatFailover      = "failover"
	FeatLoadBalancing = "load_balancing"
	FeatCascading     = "cascading"
	FeatMigration     = "migration"
	FeatRouting       = "routing"
)

// Op names.
const (
	OpConnect   = "connect"
	OpSubscribe = "subscribe"
	OpSend      = "send"
	OpRequest   = "request"
	OpCancel    = "cancel"
	OpClose     = "close"
	OpExit      = "exit"
)

// Event types.
const (
	EvState     = "state"
	EvMessage   = "message"
	EvRow       = "row"
	EvDone      = "done"
	EvMigration = "migration"
	EvResponse  = "response"
	EvError     = "error"
	// EvDial: the library started a TCP dial to Server, or (with Text) one
	// failed: attempt evidence from the client's side of the link.
	EvDial = "dial"
)

// Neutral phases (docs/driver-protocol.md): what a real library's own
// states map onto, one to one with the session states below. A state event
// may carry its phase beside them, and the library's own name in native.
var Phases = map[string]string{
	"connecting":       Connecting,
	"connected":        ConnectedActive,
	"recovering":       RecoveringReconnect,
	"closed_by_client": ClosedByClient,
	"closed_by_server": ClosedByServer,
	"closed_failed":    ClosedFailed,
}

// Session states (Diffusion's; docs/driver-protocol.md), and the lifecycle
// rule U1 every engine keeps, judged in every scenario by the universal check
// "lifecycle" (harness/check/lifecycle.go):
//
//   - a session's first state event has no "from" and goes into CONNECTING;
//     only a connect op starts a session;
//   - every later event's "from" is the previous event's "to";
//   - only these transitions occur:
//     CONNECTING → CONNECTED_ACTIVE | CLOSED_*;
//     CONNECTED_ACTIVE → RECOVERING_RECONNECT | CONNECTING (a failover) | CLOSED_*;
//     RECOVERING_RECONNECT → CONNECTED_ACTIVE | CONNECTING (a failover) | CLOSED_*;
//   - a closed session stays closed: after CLOSED_* nothing follows for that
//     client but a new session, after a new connect op.
//
// The stdio driver only checks that a state is one of these names (a typo is
// a broken line); a breach of the rule is a verdict naming every offending
// event and the one before it, not a killed driver.
const (
	Connecting          = "CONNECTING"
	ConnectedActive     = "CONNECTED_ACTIVE"
	RecoveringReconnect = "RECOVERING_RECONNECT"
	ClosedByClient      = "CLOSED_BY_CLIENT"
	ClosedByServer      = "CLOSED_BY_SERVER"
	ClosedFailed        = "CLOSED_FAILED"
)

// IsClosed reports whether a state is terminal.
func IsClosed(state string) bool {
	return state == ClosedByClient || state == ClosedByServer || state == ClosedFailed
}

// Close reasons carried by a state event into a CLOSED_* state.
const (
	ReasonClosedByClient   = "closed_by_client"
	ReasonClosedByServer   = "closed_by_server"
	ReasonReconnectAborted = "reconnect_aborted"
	ReasonReconnectTimeout = "reconnect_timeout"
	ReasonConnectionError  = "connection_error" // the first connection could not be made
	ReasonConnectionLost   = "connection_lost"  // lost with reconnection off
	ReasonHandshake        = "handshake_rejected"
	ReasonAccessDenied     = "access_denied"
	ReasonUnknownSession   = "unknown_session" // lost/expired session
	ReasonLostMessages     = "lost_messages"
)

// Hello is the driver's first line.
type Hello struct {
	SDK      string   `json:"sdk"`
	Version  string   `json:"version"`
	Features []string `json:"features"`
	// Sessions is how many client sessions one process of this driver can
	// host (sessions.go); 0 (absent) means 1, one process per client.
	Sessions int `json:"sessions,omitempty"`
	// Protocol is the wire protocol the library speaks ("nats"; absent:
	// faultline's own session protocol).
	Protocol string `json:"protocol,omitempty"`
	// Contract is the library's built-in connection-management contract:
	// terms, each with its value and a citation (docs/driver-protocol.md).
	Contract json.RawMessage `json:"contract,omitempty"`
}

// Has reports whether the hello declares a feature.
func (h Hello) Has(feature string) bool {
	for _, f := range h.Features {
		if f == feature {
			return true
		}
	}
	return false
}

// Op is one harness → driver line.
type Op struct {
	ID      int64           `json:"id"`
	Op      string          `json:"op"`
	Servers []string        `json:"servers,omitempty"` // connect: ordered URLs
	Options json.RawMessage `json:"options,omitempty"` // connect: the scenario's client options (durations in ms)
	Topic   string          `json:"topic,omitempty"`   // subscribe
	Payload json.RawMessage `json:"payload,omitempty"` // send
	Chunks  int             `json:"chunks,omitempty"`  // send: multi-part
	Rows    int             `json:"rows,omitempty"`    // request
	Request int64           `json:"request,omitempty"` // cancel
	// Routing (routing.go): the edge connection of edge and send ops, and for
	// a multi-part send the part (1..chunks) and, from part 2 on, the id of
	// the op that carried part 1 (the message's id).
	Edge    string `json:"edge,omitempty"`
	Part    int    `json:"part,omitempty"`
	Message int64  `json:"message,omitempty"`
	// Multi-session drivers (sessions.go): the run's client index the op is
	// for, and on connect that client's driver number and the run's seed.
	Client *int   `json:"client,omitempty"`
	Driver int64  `json:"driver,omitempty"`
	Seed   *int64 `json:"seed,omitempty"`
}

// Reply is the driver's answer to one op.
type Reply struct {
	Re    int64  `json:"re"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Contract, on a connect reply: the effective contract for the options
	// asked (terms, params, unsupported options, what the driver adds).
	Contract json.RawMessage `json:"contract,omitempty"`
}

// Event is one driver → harness event line.
type Event struct {
	Type      string `json:"type"`
	From      string `json:"from,omitempty"`
	To        string `json:"to,omitempty"`
	Server    string `json:"server,omitempty"` // URL of the server concerned
	Session   string `json:"session,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Topic     string `json:"topic,omitempty"`
	Seq       int64  `json:"seq,omitempty"`
	Request   int64  `json:"request,omitempty"`
	N         int64  `json:"n,omitempty"`
	State     string `json:"state,omitempty"`
	Target    string `json:"target,omitempty"`
	ID        int64  `json:"id,omitempty"`
	Status    int    `json:"status,omitempty"`
	Text      string `json:"text,omitempty"`
	Cancelled bool   `json:"cancelled,omitempty"`
	// Tried is on a state event into CLOSED_* that ended a cascade or a
	// failover: every server URL tried in it, in order (C2).
	Tried []string `json:"tried,omitempty"`
	// Phase and Native, on a state event of a real library's driver: the
	// neutral phase (Phases) and the library's own state or callback name.
	Phase  string `json:"phase,omitempty"`
	Native string `json:"native,omitempty"`
	// Routing events (routing.go): the edge, the part and parts of a route,
	// the write buffer's bytes of an instance event.
	Edge  string `json:"edge,omitempty"`
	Part  int    `json:"part,omitempty"`
	Parts int    `json:"parts,omitempty"`
	Bytes int64  `json:"bytes,omitempty"`
	// Client is the session's client index, on every event of a
	// multi-session driver (sessions.go).
	Client *int `json:"client,omitempty"`
}

// Sink receives events as they happen. It must not block for long: the harness
// stamps and records them.
type Sink func(Event)

// Driver is one client engine instance under test.
type Driver interface {
	// Hello is what the driver declared when it started.
	Hello() Hello
	// Do sends one op and waits for its reply until ctx ends. An error means
	// the driver itself failed (died, hung, spoke garbage), not that the op was
	// refused: a refusal is a Reply with OK false.
	Do(ctx context.Context, op Op) (Reply, error)
	// Close ends the driver (exit op, then kill at ctx's deadline) and releases
	// everything it holds. Safe to call more than once.
	Close(ctx context.Context) error
}

// Factory starts one driver whose events go to sink. The runner starts one per
// client of a scenario, or, when the driver is a Host (sessions.go), one per
// process it packs clients into.
type Factory func(ctx context.Context, sink Sink) (Driver, error)

// ErrDriver marks a failure of the driver itself.
var ErrDriver = errors.New("driver failed")
