// Package wire is the session protocol spoken between faultline's fake session
// servers and client engines: JSON frames, one per WebSocket text message.
// Any SDK that wants to be certified by faultline speaks this protocol.
//
// Connection life:
//
//	client                                   server
//	hello{principal,credentials,...}  ──►
//	                                  ◄──    welcome{session,token,ping_ms,retention_ms}   (new session)
//	                                  ◄──    resumed{session,received}  + replayed msg frames (recovery)
//	                                  ◄──    refused{reason}, then close    (bad credentials, unknown session, lost messages)
//	sub{topic}                        ──►
//	                                  ◄──    msg{topic,seq,data}
//	send{n,payload}                   ──►    (n counts the client's sends from 1; the server acks)
//	                                  ◄──    ack{n}
//	                                  ◄──    ping{}          every ping_ms
//	pong{}                            ──►
//	ack{topic,seq}                    ──►    (optional: lets the server trim its recovery buffer)
//	close{}                           ──►    (client closes the session deliberately)
//	                                  ◄──    closed{reason}  (server closes the session deliberately)
//
// The hello of a recovering client carries session, token, and last: the last
// seq it received per topic; the server answers resumed with received (the
// last client send n it got), then replays every buffered msg after last, in
// order; the client resends its own sends after received. If either side
// cannot cover the gap the session is closed with reason lost_messages.
//
// Streaming requests and attention (Open Server's):
//
//	req{req,rows}                     ──►    (req: the client's id for it, unique in the session, > 0)
//	                                  ◄──    row{req,n}  n = 1..rows, paced by the server
//	                                  ◄──    done{req}   the final done: nothing of req follows it
//	attn{req}                         ──►    (attention: cancel req)
//	                                  ◄──    done{req,cancelled:true}   the attention's acknowledgment
//	                                         (nothing, when req had already ended: its done was sent)
//
// A hello that resumes a session (reconnect or migration) carries pending:
// every request the client still awaits, id → the last row n it received.
// The server answers resumed with reqs: the pending ids it knows; for each it
// sends the rows after n, then done (or done{cancelled} if it was cancelled).
// The client sends req again for pending ids the server does not know (they
// never reached a server), and attn again for those it had cancelled.
//
// Migration (Open Server's states NONE, REQUESTED, READY, MIGRATING,
// CANCELLED, FAILED). A client that can migrate says so in its hello
// (migration:true); the server refuses to migrate any other connection
// ("connection cannot migrate") and sends it nothing.
//
//	                                  ◄──    migrate{mig,target,state:REQUESTED}   (target: the URL to move to;
//	                                         sent again with the same mig and a new target before MIGRATING:
//	                                         a re-target; the client answers mig_ready again)
//	mig_ready{mig}                    ──►    the client holds new commands from here
//	                                  ◄──    migrate{mig,state:CANCELLED}   (only before MIGRATING) the client
//	                                         sends what it held to this server and goes on here
//	                                  ◄──    migrate{mig,target,state:MIGRATING}   the server stopped serving
//	                                         the session (results are postponed) and shared its context
//	mig_leaving{mig}                  ──►    the client's last command frame on this connection; it now
//	                                         dials the target, keeping this connection open
//	  … hello{session,token,mig,pending,migration:true} to the target ──►  ◄── resumed{session,received,reqs}
//	                                  ◄──    (on the target's resume) the source closes the WebSocket with
//	                                         reason "migrated": not a loss, not a close of the session
//	mig_failed{mig,reason}            ──►    the target could not be reached in time: the source takes
//	                                         the session back and goes on serving it (rows resume)
//
// Commands the source reads after MIGRATING and before mig_leaving (sent
// just before the client saw MIGRATING) are not lost: the source forwards
// them into the shared context and the target runs them on resume. A client
// that receives migrate while it cannot migrate answers mig_failed with
// reason "connection cannot migrate".
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Frame types.
const (
	THello   = "hello"
	TWelcome = "welcome"
	TResumed = "resumed"
	TRefused = "refused"
	TSub     = "sub"
	TMsg     = "msg"
	TSend    = "send"
	TAck     = "ack"
	TPing    = "ping"
	TPong    = "pong"
	TClose   = "close"
	TClosed  = "closed"

	// Streaming requests and migration (Open Server's).
	TReq        = "req"
	TRow        = "row"
	TDone       = "done"
	TAttn       = "attn"
	TMigrate    = "migrate"
	TMigReady   = "mig_ready"
	TMigFailed  = "mig_failed"
	TMigLeaving = "mig_leaving"
)

// Migration states (Open Server's SRV_MIG_* names). migrate frames carry
// REQUESTED, MIGRATING or CANCELLED.
const (
	MigNone      = "NONE"
	MigRequested = "REQUESTED"
	MigReady     = "READY"
	MigMigrating = "MIGRATING"
	MigCancelled = "CANCELLED"
	MigFailed    = "FAILED"
)

// Migration reasons.
const (
	ReasonCannotMigrate = "connection cannot migrate" // the client did not declare migration
	ReasonMigrated      = "migrated"                  // the source's close after the target resumed the session
)

// Refusal and close reasons (in the spirit of Diffusion's close reasons).
const (
	ReasonAccessDenied   = "access_denied"   // bad principal/credentials
	ReasonUnknownSession = "unknown_session" // resume of a session the server no longer has
	ReasonLostMessages   = "lost_messages"   // a recovery buffer could not cover the gap
	ReasonBadHandshake   = "handshake_rejected"
	ReasonByServer       = "closed_by_server"
	ReasonByClient       = "closed_by_client"
)

// Frame is every frame's shape; fields not used by a type are omitted.
type Frame struct {
	T           string           `json:"t"`
	Principal   string           `json:"principal,omitempty"`
	Credentials string           `json:"credentials,omitempty"`
	Session     string           `json:"session,omitempty"`
	Token       string           `json:"token,omitempty"`
	RetentionMS int64            `json:"retention_ms,omitempty"` // hello: requested; welcome: granted
	NoReconnect bool             `json:"no_reconnect,omitempty"` // hello: the client opted out (server retains nothing)
	Last        map[string]int64 `json:"last,omitempty"`         // hello (resume): last seq received per topic
	Received    int64            `json:"received,omitempty"`     // resumed: last client send n the server received
	PingMS      int64            `json:"ping_ms,omitempty"`      // welcome/resumed: server ping period
	Reason      string           `json:"reason,omitempty"`
	Topic       string           `json:"topic,omitempty"`
	Seq         int64            `json:"seq,omitempty"`
	N           int64            `json:"n,omitempty"`
	Data        json.RawMessage  `json:"data,omitempty"`

	// Streaming requests and migration (additive).
	Req       int64            `json:"req,omitempty"`       // req, row, done, attn: the request's id
	Rows      int64            `json:"rows,omitempty"`      // req: how many rows
	Cancelled bool             `json:"cancelled,omitempty"` // done: ended by an attention
	Pending   map[string]int64 `json:"pending,omitempty"`   // hello (resume): awaited request id → last row received
	Reqs      []int64          `json:"reqs,omitempty"`      // resumed: the pending requests this server will finish
	Migration bool             `json:"migration,omitempty"` // hello: the client can migrate
	Mig       string           `json:"mig,omitempty"`       // migrate, mig_*, hello (to the target): the migration's id
	Target    string           `json:"target,omitempty"`    // migrate: the URL to move to
	State     string           `json:"state,omitempty"`     // migrate: REQUESTED | MIGRATING | CANCELLED
}

// MaxFrame is the largest frame either side accepts.
const MaxFrame = 1 << 20

// ErrFrame wraps every decoding error.
var ErrFrame = errors.New("bad frame")

var known = map[string]bool{THello: true, TWelcome: true, TResumed: true, TRefused: true, TSub: true,
	TMsg: true, TSend: true, TAck: true, TPing: true, TPong: true, TClose: true, TClosed: true,
	TReq: true, TRow: true, TDone: true, TAttn: true, TMigrate: true, TMigReady: true, TMigFailed: true, TMigLeaving: true}

// Decode parses one frame strictly: valid JSON object, known type, sane fields.
func Decode(b []byte) (Frame, error) {
	var f Frame
	if len(b) > MaxFrame {
		return f, fmt.Errorf("%w: %d bytes exceeds %d", ErrFrame, len(b), MaxFrame)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	if !known[f.T] {
		return Frame{}, fmt.Errorf("%w: unknown type %q", ErrFrame, f.T)
	}
	if f.Seq < 0 || f.N < 0 || f.RetentionMS < 0 || f.PingMS < 0 || f.Received < 0 || f.Req < 0 || f.Rows < 0 {
		return Frame{}, fmt.Errorf("%w: negative number in %s frame", ErrFrame, f.T)
	}
	if err := checkRequests(f); err != nil {
		return Frame{}, err
	}
	switch f.T {
	case TSub, TMsg:
		if f.Topic == "" {
			return Frame{}, fmt.Errorf("%w: %s frame without topic", ErrFrame, f.T)
		}
	case TSend:
		if f.N == 0 {
			return Frame{}, fmt.Errorf("%w: send frame without n", ErrFrame)
		}
	case TWelcome, TResumed:
		if f.Session == "" {
			return Frame{}, fmt.Errorf("%w: %s frame without session", ErrFrame, f.T)
		}
	}
	return f, nil
}

// Encode renders a frame.
func Encode(f Frame) []byte {
	b, err := json.Marshal(f)
	if err != nil { // only RawMessage can fail, and only if it is not JSON
		panic(fmt.Sprintf("wire: encode %s: %v", f.T, err))
	}
	return b
}
