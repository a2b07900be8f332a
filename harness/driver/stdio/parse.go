package stdio

import (
	"encoding/json"

	"github.com/faultline/faultline/harness/driver"
)

// MaxLine bounds one line of a driver's stdout (1 MiB), as the host reads it.
const MaxLine = maxLine

// Line is one driver → harness line as the host parses it, for tools that
// judge a driver's output outside a run (`faultline driver-test`): one of
// Hello, Reply and Event is set, or none for a blank line (skipped).
type Line struct {
	Hello *driver.Hello
	Reply *driver.Reply
	Event *driver.Event
	// Client is an event's "client" as written (nil: absent); the host
	// judges it only for a multi-session driver (host.go).
	Client json.RawMessage
}

// ParseLine parses one line of a driver's stdout by the host's own rules
// (every rule of docs/driver-protocol.md "When a driver is failed" that one
// line can break). wantHello is true for the first line. The error says
// what is wrong in the words of the host's evidence.
func ParseLine(b []byte, wantHello bool) (Line, error) {
	l, err := parseLine(b, wantHello)
	if err != nil {
		return Line{}, err
	}
	out := Line{Client: l.client}
	switch l.kind {
	case kindHello:
		out.Hello = &l.hello
	case kindReply:
		out.Reply = &l.reply
	case kindEvent:
		out.Event = &l.event
	}
	return out, nil
}

// Quote renders a line for evidence as the host does: Go-quoted (control
// characters and invalid UTF-8 visible, one line) and truncated.
func Quote(b []byte) string { return quote(b) }
