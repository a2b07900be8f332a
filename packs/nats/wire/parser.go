package wire

import (
	"bytes"
	"fmt"
)

// Defaults of Limits, nats-server's.
const (
	DefaultMaxControlLine = 4096
	DefaultMaxPayload     = 1 << 20
)

// retainCap is the largest buffer a parser keeps once drained: one big PUB
// must not pin a megabyte per idle connection.
const retainCap = 64 << 10

// Limits bounds what one op may hold. Zero values mean the defaults.
type Limits struct {
	MaxControlLine int // bytes of a control line, its line end excluded
	MaxPayload     int // bytes of a PUB payload, or of an HPUB's headers and payload
}

func (l Limits) withDefaults() Limits {
	if l.MaxControlLine <= 0 {
		l.MaxControlLine = DefaultMaxControlLine
	}
	if l.MaxPayload <= 0 {
		l.MaxPayload = DefaultMaxPayload
	}
	return l
}

// Parser is a streaming parser of the client side of one connection: Feed
// it what was read, then call Next until it returns no op. It holds at most
// the bytes of one incomplete op beyond what was fed since the last Next,
// so its memory is bounded by the limits. The first error is final: a NATS
// server drops a connection whose stream it cannot follow.
type Parser struct {
	lim Limits
	buf []byte
	r   int   // bytes of buf consumed
	off int64 // stream offset of buf[r]
	err error
}

// NewParser returns a parser enforcing lim.
func NewParser(lim Limits) *Parser { return &Parser{lim: lim.withDefaults()} }

// Limits returns the limits in force (defaults filled in).
func (p *Parser) Limits() Limits { return p.lim }

// Feed appends data read from the connection. After an error it is ignored.
func (p *Parser) Feed(data []byte) {
	if p.err != nil {
		return
	}
	switch {
	case p.r == len(p.buf):
		p.r = 0
		if cap(p.buf) > retainCap {
			p.buf = nil
		} else {
			p.buf = p.buf[:0]
		}
	case p.r > 0: // keep the incomplete op at the front, so the buffer never grows past one op plus a read
		n := copy(p.buf, p.buf[p.r:])
		p.buf, p.r = p.buf[:n], 0
	}
	p.buf = append(p.buf, data...)
}

// Buffered is the number of bytes fed and not yet returned as ops.
func (p *Parser) Buffered() int { return len(p.buf) - p.r }

// Offset is the stream offset of the next byte to parse.
func (p *Parser) Offset() int64 { return p.off }

// Next returns the next complete op, or (nil, nil) when more bytes are
// needed, or (nil, err) once the stream is broken (every later call returns
// the same error). Returned ops own their memory.
func (p *Parser) Next() (Op, error) {
	if p.err != nil {
		return nil, p.err
	}
	op, n, err := p.parse(p.buf[p.r:])
	if err != nil {
		p.err, p.buf, p.r = err, nil, 0
		return nil, err
	}
	if op == nil {
		return nil, nil
	}
	p.r += n
	p.off += int64(n)
	return op, nil
}

// parse parses one op from the front of b: the op and the bytes it took,
// or nil and 0 when b holds only part of it.
func (p *Parser) parse(b []byte) (Op, int, error) {
	name, i, err := p.opName(b)
	if name == "" || err != nil {
		return nil, 0, err
	}
	nl, line, err := p.controlLine(b, name)
	if nl < 0 || err != nil {
		return nil, 0, err
	}
	args := line[i:]
	var op Op
	size, hdr := -1, 0 // bytes that follow the control line (PUB, HPUB)
	switch name {
	case "PING", "PONG":
		if j := firstNonSpace(args); j >= 0 {
			return nil, 0, p.errAt(name, i+j, ErrSyntax, fmt.Sprintf("unexpected %s after %s", quote(args[j:]), name))
		}
		if name == "PING" {
			op = &Ping{}
		} else {
			op = &Pong{}
		}
	case "CONNECT":
		op, err = p.connect(args, i)
	case "SUB":
		op, err = p.sub(args, i)
	case "UNSUB":
		op, err = p.unsub(args, i)
	case "PUB":
		op, size, err = p.pub(args, i)
	case "HPUB":
		op, hdr, size, err = p.hpub(args, i)
	}
	if err != nil {
		return nil, 0, err
	}
	if size < 0 {
		return op, nl + 1, nil
	}
	return p.payload(b, nl+1, name, op, hdr, size)
}

// opName reads the op name at the front of b: as soon as the bytes cannot
// begin a client op it says so, rather than waiting for a line end that a
// stray binary stream may never send. An empty name with no error means
// more bytes are needed.
func (p *Parser) opName(b []byte) (string, int, error) {
	i := 0
	for ; i < len(b); i++ {
		c := b[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
		if !isOpPrefix(b[:i+1]) {
			return "", 0, p.errAt("", i, ErrUnknownOp, fmt.Sprintf("%s does not begin a client op", quote(b[:i+1])))
		}
	}
	if i == len(b) {
		return "", 0, nil
	}
	if i == 0 {
		return "", 0, p.errAt("", 0, ErrUnknownOp, fmt.Sprintf("op expected, found %s", quote(b[:1])))
	}
	name := upper(b[:i])
	if !isOp(name) {
		return "", 0, p.errAt("", i, ErrUnknownOp, fmt.Sprintf("%s is not a client op", quote(b[:i])))
	}
	return name, i, nil
}

// controlLine finds the end of the control line at the front of b: the
// index of its LF (-1 when not yet read) and the line without its line end.
func (p *Parser) controlLine(b []byte, name string) (int, []byte, error) {
	limit := p.lim.MaxControlLine
	window := b
	if len(window) > limit+2 { // enough for limit bytes and CRLF: never scan (or hold) more
		window = window[:limit+2]
	}
	nl := bytes.IndexByte(window, '\n')
	if nl < 0 {
		if len(b) > limit+1 || (len(b) == limit+1 && b[limit] != '\r') {
			return -1, nil, p.errAt(name, limit, ErrControlLine, tooLong(limit))
		}
		return -1, nil, nil
	}
	line := b[:nl]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > limit {
		return -1, nil, p.errAt(name, limit, ErrControlLine, tooLong(limit))
	}
	if j := bytes.IndexByte(line, '\r'); j >= 0 {
		return -1, nil, p.errAt(name, j, ErrSyntax, "CR inside the control line")
	}
	return nl, line, nil
}

// tooLong is the same whether the line end has arrived yet or not: an
// error must not depend on how the reads split the stream.
func tooLong(limit int) string { return fmt.Sprintf("no line end within %d bytes", limit) }

// payload takes the size bytes after the control line (which ends at
// start) and their CRLF, and fills them into op.
func (p *Parser) payload(b []byte, start int, name string, op Op, hdr, size int) (Op, int, error) {
	end := start + size
	if len(b) > end && b[end] != '\r' {
		return nil, 0, p.errAt(name, end, ErrFraming, fmt.Sprintf("%s after the %d-byte payload, CRLF expected", quote(b[end:end+1]), size))
	}
	if len(b) > end+1 && b[end+1] != '\n' {
		return nil, 0, p.errAt(name, end+1, ErrFraming, fmt.Sprintf("%s after the payload's CR, LF expected", quote(b[end+1:end+2])))
	}
	if len(b) < end+2 {
		return nil, 0, nil
	}
	switch o := op.(type) {
	case *Pub:
		o.Payload = clone(b[start:end])
	case *HPub:
		o.Header = clone(b[start : start+hdr])
		o.Payload = clone(b[start+hdr : end])
	}
	return op, end + 2, nil
}

// errAt builds the error for the byte at index i of the unparsed bytes.
func (p *Parser) errAt(op string, i int, class error, detail string) error {
	return &ParseError{Op: op, Offset: p.off + int64(i), Err: class, Detail: detail}
}

var opNames = [...]string{"CONNECT", "PING", "PONG", "SUB", "UNSUB", "PUB", "HPUB"}

func isOp(name string) bool {
	for _, n := range opNames {
		if n == name {
			return true
		}
	}
	return false
}

// isOpPrefix says whether b begins some op name, in any case.
func isOpPrefix(b []byte) bool {
	for _, n := range opNames {
		if len(b) <= len(n) && upper(b) == n[:len(b)] {
			return true
		}
	}
	return false
}

func upper(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// quote renders bytes for an error message, cut short: errors end up in
// events, and a client's garbage must not flood the history.
func quote(b []byte) string {
	const max = 16
	if len(b) > max {
		return fmt.Sprintf("%q...", b[:max])
	}
	return fmt.Sprintf("%q", b)
}
