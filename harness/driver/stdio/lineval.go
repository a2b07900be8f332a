package stdio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/faultline/faultline/harness/driver"
)

// The driver protocol's closed sets. A line outside them is a broken driver,
// not an extension: the runner records event types as history kinds and
// state names as the states checkers judge, so a typo ("CONNECTED") would
// pass for a state the servers never saw and be judged as a real one.
var (
	eventTypes = []string{driver.EvState, driver.EvMessage, driver.EvRow, driver.EvDone, driver.EvMigration,
		driver.EvResponse, driver.EvError, driver.EvRoute, driver.EvInstance, driver.EvEdge, driver.EvDial}
	sessionStates = []string{driver.Connecting, driver.ConnectedActive, driver.RecoveringReconnect,
		driver.ClosedByClient, driver.ClosedByServer, driver.ClosedFailed}
)

// checkHello: the hello names its sdk, version and features (a list,
// possibly empty): a hello without features would make every requirement
// UNIMPLEMENTED without a word.
func checkHello(keys map[string]json.RawMessage) error {
	for _, k := range []string{"version", "features"} {
		if v, ok := keys[k]; !ok || string(v) == "null" {
			return fmt.Errorf(`hello without %q (the hello is {"sdk": …, "version": …, "features": […]})`, k)
		}
	}
	return nil
}

// checkEvent: a known type, and a state event between known states ("from"
// is empty on the first).
func checkEvent(e driver.Event) error {
	if !oneOf(e.Type, eventTypes) {
		return fmt.Errorf("unknown event type %q (%s)", e.Type, strings.Join(eventTypes, ", "))
	}
	if e.Type != driver.EvState {
		return nil
	}
	if e.To == "" {
		return fmt.Errorf(`state event without "to"`)
	}
	if e.Phase != "" && driver.Phases[e.Phase] != e.To {
		return fmt.Errorf("state event whose phase %q is not its \"to\" %q (phases: connecting, connected, recovering, closed_by_client, closed_by_server, closed_failed)", e.Phase, e.To)
	}
	for _, f := range []struct{ key, v string }{{"to", e.To}, {"from", e.From}} {
		if f.v != "" && !oneOf(f.v, sessionStates) {
			return fmt.Errorf("state event with an unknown state in %q: %q (%s)", f.key, f.v, strings.Join(sessionStates, ", "))
		}
	}
	return nil
}

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// checkText: JSON text is UTF-8 (RFC 8259), and a key given twice is
// ambiguous ({"re":1,"re":2}: which op is answered?). Go's decoder would
// take the bytes as U+FFFD and the last key silently.
func checkText(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("not UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if _, err := d.Token(); err != nil { // {
		return nil // parseLine's own decode says what is wrong
	}
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil
		}
		k, _ := t.(string)
		if seen[k] {
			return fmt.Errorf("key %q given twice", k)
		}
		seen[k] = true
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}

// fieldError words a field of the wrong type for evidence: the field as
// the driver wrote it, what it held, what the protocol wants.
func fieldError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("bad field: %v", err)
	}
	name := te.Field
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:] // wire.Event.seq → seq
	}
	want := te.Type.String()
	switch te.Type.Kind().String() {
	case "int64", "int":
		want = "an integer"
	case "string":
		want = "a string"
	case "bool":
		want = "true or false"
	case "slice":
		want = "a list of strings"
	}
	return fmt.Errorf("field %q is %s, want %s", name, article(te.Value), want)
}

// article: "string" → "a string", "number 1.5" → "the number 1.5".
func article(v string) string {
	switch {
	case strings.HasPrefix(v, "number "):
		return "the " + v
	case v == "array" || v == "object":
		return "an " + v
	}
	return "a " + v
}
