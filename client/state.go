package client

import (
	"errors"
	"fmt"
	"strings"
)

// State is a session state (Diffusion's reconnection docs). The strings are
// those of the driver protocol (harness/driver); they are repeated here
// rather than imported so that a driver may import this package without a
// cycle.
type State string

// Session states.
const (
	Connecting          State = "CONNECTING"
	ConnectedActive     State = "CONNECTED_ACTIVE"
	RecoveringReconnect State = "RECOVERING_RECONNECT"
	ClosedByClient      State = "CLOSED_BY_CLIENT"
	ClosedByServer      State = "CLOSED_BY_SERVER"
	ClosedFailed        State = "CLOSED_FAILED"
)

// Closed reports whether s is terminal.
func (s State) Closed() bool {
	return s == ClosedByClient || s == ClosedByServer || s == ClosedFailed
}

// Close reasons carried by a change into a CLOSED_* state (the driver's).
const (
	ReasonClosedByClient   = "closed_by_client"
	ReasonClosedByServer   = "closed_by_server"
	ReasonReconnectAborted = "reconnect_aborted"
	ReasonReconnectTimeout = "reconnect_timeout"
	ReasonConnectionError  = "connection_error"
	ReasonConnectionLost   = "connection_lost"
	ReasonHandshake        = "handshake_rejected"
	ReasonAccessDenied     = "access_denied"
	ReasonUnknownSession   = "unknown_session"
	ReasonLostMessages     = "lost_messages"
)

// StateChange is one transition. The first one has From "" and To CONNECTING.
//
// A failover is CONNECTED_ACTIVE (or RECOVERING_RECONNECT) → CONNECTING: that
// change names the server and session that were given up, and its Reason says
// why (connection_lost, reconnect_timeout, reconnect_aborted, unknown_session,
// lost_messages). The CONNECTED_ACTIVE that ends it names the new server and
// the new session.
type StateChange struct {
	From, To State
	Server   string   // URL of the server concerned
	Session  string   // session id ("" until the server issued one)
	Reason   string   // into CLOSED_*: why it closed; into CONNECTING on failover: why the old session was given up
	Tried    []string // into CLOSED_* during a cascade or failover: every server URL tried in it, in order
}

// Errors.
var (
	ErrClosed       = errors.New("client: session closed")
	ErrBufferFull   = errors.New("client: recovery buffer full")
	ErrNoServers    = errors.New("client: no servers")
	ErrIdle         = errors.New("client: connection idle")
	ErrAborted      = errors.New("client: reconnection aborted by the strategy")
	ErrTimeout      = errors.New("client: reconnection timed out")
	ErrCloseTimeout = errors.New("client: close did not finish in time")
	ErrProtocol     = errors.New("client: protocol error")
	ErrDiscarded    = errors.New("client: unacknowledged sends discarded by failover")
)

// AttemptError is one failed connection attempt of a cascade or failover,
// reported through OnError before the next server is tried.
type AttemptError struct {
	Server string // URL
	Err    error
}

func (e *AttemptError) Error() string {
	return fmt.Sprintf("client: attempt on %s failed: %v", e.Server, e.Err)
}

func (e *AttemptError) Unwrap() error { return e.Err }

// CloseError says why a session closed: what Connect returns when the first
// connection fails, and what Session.Err returns once closed.
type CloseError struct {
	State   State
	Reason  string
	Server  string
	Session string
	Tried   []string // closed during a cascade or failover: every server URL tried, in order
	Err     error    // the cause, when there is one
}

func (e *CloseError) Error() string {
	s := fmt.Sprintf("client: session %s (%s) at %s", e.State, e.Reason, e.Server)
	if len(e.Tried) > 0 {
		s += fmt.Sprintf(" after trying %d server(s): %s", len(e.Tried), strings.Join(e.Tried, ", "))
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *CloseError) Unwrap() error { return e.Err }
