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
}

// MaxFrame is the largest frame either side accepts.
const MaxFrame = 1 << 20

// ErrFrame wraps every decoding error.
var ErrFrame = errors.New("bad frame")

var known = map[string]bool{THello: true, TWelcome: true, TResumed: true, TRefused: true, TSub: true,
	TMsg: true, TSend: true, TAck: true, TPing: true, TPong: true, TClose: true, TClosed: true}

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
	if f.Seq < 0 || f.N < 0 || f.RetentionMS < 0 || f.PingMS < 0 || f.Received < 0 {
		return Frame{}, fmt.Errorf("%w: negative number in %s frame", ErrFrame, f.T)
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
