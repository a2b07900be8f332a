// Package wire is the server side of the NATS client protocol: a streaming
// parser of what a client sends (CONNECT, PING, PONG, SUB, UNSUB, PUB, HPUB)
// and encoders of what a server sends (INFO, MSG, HMSG, PING, PONG, +OK,
// -ERR).
//
// The parser follows nats-server where a client library could notice the
// difference: op names are case-insensitive, arguments are separated by any
// run of spaces and tabs, a line may end in CRLF or a bare LF, a payload
// must be followed by exactly CRLF, sizes are 1 to 9 decimal digits, a
// control line may not exceed MaxControlLine bytes nor a payload
// MaxPayload. It is stricter where nats-server is lenient only by
// accident (bytes after PING, a CR inside a line, an op name not followed by
// a space): a fake server is a witness, and a client that sends such bytes
// is worth a precise error rather than silence.
//
// Every error is a *ParseError naming the op, the stream offset of the
// offending byte and what was wrong; errors.Is tells its class
// (ErrUnknownOp, ErrControlLine, ErrMaxPayload, ErrFraming, ErrSyntax), and
// ServerText is the -ERR text nats-server would send for it, if any.
package wire
