package wire

import "strconv"

// Op is one client op as parsed. Append writes the op back in canonical
// form (upper-case name, single spaces, CRLF): the fuzz test holds the
// parser to accepting whatever it accepted once, re-encoded.
type Op interface {
	// OpName is the op's protocol name in upper case: "CONNECT", "PUB", ...
	OpName() string
	// Append appends the op's wire form, as a client sends it, to b.
	Append(b []byte) []byte
}

// Connect is CONNECT <json>. The fields are those the evidence names,
// decoded with nats-server's defaults (verbose, pedantic and echo are true
// unless the client says otherwise); JSON is the object exactly as sent,
// credentials and all.
type Connect struct {
	Verbose      bool   `json:"verbose"`
	Pedantic     bool   `json:"pedantic"`
	Echo         bool   `json:"echo"`
	Headers      bool   `json:"headers"`
	NoResponders bool   `json:"no_responders"`
	Name         string `json:"name"`
	Lang         string `json:"lang"`
	Version      string `json:"version"`
	Protocol     int    `json:"protocol"`
	JSON         []byte `json:"-"`
}

// Ping is PING.
type Ping struct{}

// Pong is PONG.
type Pong struct{}

// Sub is SUB <subject> [queue] <sid>.
type Sub struct {
	Subject string
	Queue   string // "" when none
	SID     string
}

// Unsub is UNSUB <sid> [max]. Max 0 means none: nats-server treats "UNSUB
// sid 0" as an immediate unsubscribe, the same as no max.
type Unsub struct {
	SID string
	Max int64
}

// Pub is PUB <subject> [reply] <#bytes> followed by the payload.
type Pub struct {
	Subject string
	Reply   string // "" when none
	Payload []byte
}

// HPub is HPUB <subject> [reply] <#header bytes> <#total bytes> followed by
// the headers and the payload.
type HPub struct {
	Subject string
	Reply   string
	Header  []byte
	Payload []byte
}

func (*Connect) OpName() string { return "CONNECT" }
func (*Ping) OpName() string    { return "PING" }
func (*Pong) OpName() string    { return "PONG" }
func (*Sub) OpName() string     { return "SUB" }
func (*Unsub) OpName() string   { return "UNSUB" }
func (*Pub) OpName() string     { return "PUB" }
func (*HPub) OpName() string    { return "HPUB" }

func (o *Connect) Append(b []byte) []byte {
	b = append(b, "CONNECT "...)
	b = append(b, o.JSON...)
	return append(b, crlf...)
}

func (*Ping) Append(b []byte) []byte { return append(b, "PING\r\n"...) }
func (*Pong) Append(b []byte) []byte { return append(b, "PONG\r\n"...) }

func (o *Sub) Append(b []byte) []byte {
	b = append(b, "SUB "...)
	b = append(b, o.Subject...)
	b = appendOpt(b, o.Queue)
	b = append(b, ' ')
	b = append(b, o.SID...)
	return append(b, crlf...)
}

func (o *Unsub) Append(b []byte) []byte {
	b = append(b, "UNSUB "...)
	b = append(b, o.SID...)
	if o.Max > 0 {
		b = append(b, ' ')
		b = strconv.AppendInt(b, o.Max, 10)
	}
	return append(b, crlf...)
}

func (o *Pub) Append(b []byte) []byte {
	b = append(b, "PUB "...)
	b = append(b, o.Subject...)
	b = appendOpt(b, o.Reply)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(o.Payload)), 10)
	b = append(b, crlf...)
	b = append(b, o.Payload...)
	return append(b, crlf...)
}

func (o *HPub) Append(b []byte) []byte {
	b = append(b, "HPUB "...)
	b = append(b, o.Subject...)
	b = appendOpt(b, o.Reply)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(o.Header)), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(o.Header)+len(o.Payload)), 10)
	b = append(b, crlf...)
	b = append(b, o.Header...)
	b = append(b, o.Payload...)
	return append(b, crlf...)
}

const crlf = "\r\n"

// appendOpt appends " s" when the optional argument s is present.
func appendOpt(b []byte, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, ' ')
	return append(b, s...)
}
