package stdio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/faultline/faultline/harness/driver"
)

// kind says what a driver's stdout line is.
type kind int

const (
	kindBlank kind = iota // only white space: tolerated and skipped
	kindHello
	kindReply
	kindEvent
)

// line is one parsed driver → harness line.
type line struct {
	kind  kind
	hello driver.Hello
	reply driver.Reply
	event driver.Event
	// client is an event's "client" as written (nil: absent), judged only
	// for a multi-session driver (sessions.go): to a one-session driver it
	// is an unknown field, ignored as ever.
	client json.RawMessage
}

// wire is every field a driver line may carry. One decode serves all three
// shapes; pointers tell a field that is absent from a zero value. Unknown
// fields are ignored (the protocol's rule).
type wire struct {
	driver.Event
	Re       *int64          `json:"re"`
	OK       *bool           `json:"ok"`
	Error    string          `json:"error"`
	SDK      *string         `json:"sdk"`
	Version  string          `json:"version"`
	Features []string        `json:"features"`
	Sessions *int            `json:"sessions"`
	Protocol string          `json:"protocol"`
	Contract json.RawMessage `json:"contract"`
	// Shadows driver.Event's Client: decoded only when it matters.
	Client json.RawMessage `json:"client"`
}

// parseLine parses one line of a driver's stdout. wantHello is true until the
// hello has been read: the first line must be the hello, and no later line
// may be one. The error says what is wrong in words fit for evidence.
func parseLine(b []byte, wantHello bool) (line, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return line{kind: kindBlank}, nil
	}
	if b[0] != '{' {
		return line{}, errors.New("not a JSON object")
	}
	// Probe which keys are present: "type": null or "re": null must not pass
	// for an absent key silently, and the shape decides the kind.
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return line{}, fmt.Errorf("invalid JSON: %v", err)
	}
	if err := checkText(b); err != nil { // lineval.go
		return line{}, err
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return line{}, fieldError(err) // lineval.go
	}
	// A contract is evidence kept as JSON: compact, and absent when null.
	if string(w.Contract) == "null" {
		w.Contract = nil
	} else if len(w.Contract) > 0 {
		var c bytes.Buffer
		if err := json.Compact(&c, w.Contract); err == nil {
			w.Contract = c.Bytes()
		}
	}
	_, hasRe := keys["re"]
	_, hasType := keys["type"]
	switch {
	case hasRe && hasType:
		return line{}, errors.New(`both "re" and "type": neither a reply nor an event`)
	case wantHello:
		if hasRe || hasType || w.SDK == nil {
			return line{}, errors.New(`the first line must be the hello ({"sdk": …, "version": …, "features": […]})`)
		}
		if *w.SDK == "" {
			return line{}, errors.New(`hello with an empty "sdk"`)
		}
		if err := checkHello(keys); err != nil { // lineval.go
			return line{}, err
		}
		h := driver.Hello{SDK: *w.SDK, Version: w.Version, Features: w.Features, Protocol: w.Protocol, Contract: w.Contract}
		if w.Sessions != nil {
			if *w.Sessions < 1 {
				return line{}, fmt.Errorf(`hello with "sessions": %d, want an integer ≥ 1`, *w.Sessions)
			}
			h.Sessions = *w.Sessions
		}
		return line{kind: kindHello, hello: h}, nil
	case hasRe:
		if w.Re == nil {
			return line{}, errors.New(`reply with a null "re"`)
		}
		if w.OK == nil {
			return line{}, errors.New(`reply without "ok"`)
		}
		return line{kind: kindReply, reply: driver.Reply{Re: *w.Re, OK: *w.OK, Error: w.Error, Contract: w.Contract}}, nil
	case hasType:
		if w.Type == "" {
			return line{}, errors.New(`event with an empty "type"`)
		}
		if err := checkEvent(w.Event); err != nil { // lineval.go
			return line{}, err
		}
		return line{kind: kindEvent, event: w.Event, client: w.Client}, nil
	case w.SDK != nil:
		return line{}, errors.New("a second hello")
	}
	return line{}, errors.New(`neither a reply ("re") nor an event ("type")`)
}

// maxQuoted bounds how much of an offending line goes into evidence.
const maxQuoted = 200

// quote renders a line for evidence: Go-quoted (control characters and
// invalid UTF-8 visible, one line) and truncated.
func quote(b []byte) string {
	if len(b) > maxQuoted {
		return strconv.Quote(string(b[:maxQuoted])) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return strconv.Quote(string(b))
}
