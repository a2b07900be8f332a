// Package platform is the protocol between a router (a Connection Server, seed
// 004) and the platform instances it routes ingress messages to: JSON frames,
// one per WebSocket text message. faultline's fake instances (the platform
// pack's kind "instance", packs/platform/instance) speak its server side;
// client/router speaks its client side; any router that wants to be
// certified by faultline speaks it too.
//
// Connection life:
//
//	router                                    instance
//	hello{router}                      ──►
//	                                   ◄──    welcome{instance,ping_ms}
//	req{id,edge,part,parts,data}       ──►    (one part of an ingress message; part 1..parts)
//	                                   ◄──    ack{id,part,status}   (the part was taken; status 200)
//	                                   ◄──    ping{}                every ping_ms (liveness)
//
// Every part is acknowledged on its own; a message is answered (200) once all
// its parts are. A router that hears nothing for 2 × ping_ms declares the
// instance lost. The instance keeps no state across connections: a part whose
// connection is lost is the router's to fail, never to replay.
package platform

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Frame types.
const (
	THello   = "hello"
	TWelcome = "welcome"
	TReq     = "req"
	TAck     = "ack"
	TPing    = "ping"
)

// Frame is every frame's shape; fields not used by a type are omitted.
type Frame struct {
	T        string          `json:"t"`
	Router   string          `json:"router,omitempty"`   // hello: the router's name
	Instance string          `json:"instance,omitempty"` // welcome: the instance's name
	PingMS   int64           `json:"ping_ms,omitempty"`  // welcome: the instance's ping period
	ID       string          `json:"id,omitempty"`       // req, ack: the ingress message's id (the edge's request id)
	Edge     string          `json:"edge,omitempty"`     // req: the edge connection it came in on
	Part     int             `json:"part,omitempty"`     // req, ack: 1..parts
	Parts    int             `json:"parts,omitempty"`    // req: how many parts the message has (1: a single message)
	Status   int             `json:"status,omitempty"`   // ack
	Data     json.RawMessage `json:"data,omitempty"`     // req: the payload
}

// MaxFrame is the largest frame either side accepts.
const MaxFrame = 1 << 20

// ErrFrame wraps every decoding error.
var ErrFrame = errors.New("bad platform frame")

// Decode parses one frame strictly.
func Decode(b []byte) (Frame, error) {
	var f Frame
	if len(b) > MaxFrame {
		return f, fmt.Errorf("%w: %d bytes exceeds %d", ErrFrame, len(b), MaxFrame)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	switch f.T {
	case THello, TWelcome, TPing:
	case TReq:
		if f.ID == "" || f.Parts < 1 || f.Part < 1 || f.Part > f.Parts {
			return Frame{}, fmt.Errorf("%w: req needs id and 1 <= part <= parts (got id %q, part %d of %d)", ErrFrame, f.ID, f.Part, f.Parts)
		}
	case TAck:
		if f.ID == "" || f.Part < 1 {
			return Frame{}, fmt.Errorf("%w: ack needs id and part", ErrFrame)
		}
	default:
		return Frame{}, fmt.Errorf("%w: unknown type %q", ErrFrame, f.T)
	}
	if f.PingMS < 0 || f.Status < 0 {
		return Frame{}, fmt.Errorf("%w: negative number in %s frame", ErrFrame, f.T)
	}
	return f, nil
}

// Encode renders a frame.
func Encode(f Frame) []byte {
	b, err := json.Marshal(f)
	if err != nil { // only RawMessage can fail, and only if it is not JSON
		panic(fmt.Sprintf("platform: encode %s: %v", f.T, err))
	}
	return b
}
