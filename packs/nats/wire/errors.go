package wire

import (
	"errors"
	"fmt"
)

// Error classes; a *ParseError wraps exactly one of them.
var (
	// ErrUnknownOp: the bytes do not start a known client op.
	ErrUnknownOp = errors.New("unknown protocol operation")
	// ErrControlLine: a control line is longer than MaxControlLine.
	ErrControlLine = errors.New("maximum control line exceeded")
	// ErrMaxPayload: a PUB/HPUB announced more than MaxPayload bytes.
	ErrMaxPayload = errors.New("maximum payload violation")
	// ErrFraming: a payload was not followed by CRLF.
	ErrFraming = errors.New("payload not terminated by CRLF")
	// ErrSyntax: an op's arguments are malformed (count, size, JSON, stray
	// bytes).
	ErrSyntax = errors.New("malformed arguments")
)

// ParseError is what the parser reports: which op, where, what.
type ParseError struct {
	Op     string // upper-case op name, or "" when no op could be named
	Offset int64  // stream offset of the offending byte (0 = first byte fed)
	Err    error  // the class: ErrUnknownOp, ErrControlLine, ...
	Detail string // what exactly was wrong
}

func (e *ParseError) Error() string {
	op := e.Op
	if op == "" {
		op = "protocol"
	}
	return fmt.Sprintf("%s at byte %d: %s: %s", op, e.Offset, e.Err, e.Detail)
}

// Unwrap returns the class, for errors.Is.
func (e *ParseError) Unwrap() error { return e.Err }

// ServerText is the text nats-server sends in -ERR for this error, or ""
// when it closes the connection without one: it answers a state-machine
// failure with 'Unknown Protocol Operation' but drops a client whose
// arguments do not parse silently, and a client library reacts to the two
// differently (nats.go closes for good on an unknown -ERR, and reconnects
// after a plain close).
func (e *ParseError) ServerText() string {
	switch e.Err {
	case ErrUnknownOp, ErrFraming:
		return "Unknown Protocol Operation"
	case ErrControlLine:
		return "Maximum Control Line Exceeded"
	case ErrMaxPayload:
		return "Maximum Payload Violation"
	}
	return ""
}
