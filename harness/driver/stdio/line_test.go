package stdio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// hint is the hello's shape, as every hello error ends.
const hint = ` (the hello is {"sdk": …, "version": …, "features": […]})`

// The catalogue of driver lines: each kind of mistake a driver can make on
// one line, with the exact error that becomes its evidence, next to the good
// lines each kind is a mistake of. Mistakes the read loop sees across lines
// (a reply to an id nobody asked about, a line too long to read) are in
// TestReadLoopMistakes.
var lineCases = []struct {
	kind      string
	in        string
	wantHello bool
	ok        kind // the good lines' kind
	err       string
}{
	// good lines, with what the protocol lets vary
	{"hello", `{"sdk":"x","version":"1","features":["reconnect"],"extra":{"a":1}}`, true, kindHello, ""},
	{"hello with no features", `{"sdk":"x","version":"","features":[]}`, true, kindHello, ""},
	{"reply", `{"re":1,"ok":true}`, false, kindReply, ""},
	{"refusal, unknown fields", `{"re":1,"ok":false,"error":"no","later":[1,2]}`, false, kindReply, ""},
	{"event, unknown field", `{"type":"message","topic":"p","seq":3,"unknown":true}`, false, kindEvent, ""},
	{"first state event", `{"type":"state","to":"CONNECTING"}`, false, kindEvent, ""},
	{"routing event", `{"type":"instance","server":"ws://x/","state":"unwritable","bytes":17408}`, false, kindEvent, ""},
	{"blank", "   \t", false, kindBlank, ""},
	{"padded, CRLF", ` {"re":2,"ok":true}` + "\r", false, kindReply, ""},

	// not JSON, or not one JSON object
	{"not JSON", `ok`, false, 0, "not a JSON object"},
	{"a list", `[1,2]`, false, 0, "not a JSON object"},
	{"null", `null`, false, 0, "not a JSON object"},
	{"a string", `"hello"`, false, 0, "not a JSON object"},
	{"truncated", `{"re":1,"ok":true`, false, 0, "invalid JSON: unexpected end of JSON input"},
	{"trailing text", `{"re":1,"ok":true} trailing`, false, 0, "invalid JSON: invalid character 't' after top-level value"},
	{"two objects on a line", `{"re":1,"ok":true}{"re":2,"ok":true}`, false, 0, "invalid JSON: invalid character '{' after top-level value"},
	{"not UTF-8", "{\"type\":\"error\",\"text\":\"\xff\"}", false, 0, "not UTF-8"},
	{"a key twice", `{"re":1,"re":2,"ok":true}`, false, 0, `key "re" given twice`},

	// neither a reply nor an event
	{"empty object", `{}`, false, 0, `neither a reply ("re") nor an event ("type")`},
	{"both re and type", `{"type":"state","re":1,"ok":true}`, false, 0, `both "re" and "type": neither a reply nor an event`},

	// the hello
	{"no hello first", `{"type":"state","to":"CONNECTING"}`, true, 0, `the first line must be the hello ({"sdk": …, "version": …, "features": […]})`},
	{"a reply first", `{"re":1,"ok":true}`, true, 0, `the first line must be the hello ({"sdk": …, "version": …, "features": […]})`},
	{"hello with an empty sdk", `{"sdk":"","version":"1","features":[]}`, true, 0, `hello with an empty "sdk"`},
	{"hello without version", `{"sdk":"x","features":[]}`, true, 0, `hello without "version"` + hint},
	{"hello without features", `{"sdk":"x","version":"1"}`, true, 0, `hello without "features"` + hint},
	{"hello with null features", `{"sdk":"x","version":"1","features":null}`, true, 0, `hello without "features"` + hint},
	{"hello with sessions", `{"sdk":"x","version":"1","features":[],"sessions":4096}`, true, kindHello, ""},
	{"hello with sessions 0", `{"sdk":"x","version":"1","features":[],"sessions":0}`, true, 0, `hello with "sessions": 0, want an integer ≥ 1`},
	{"hello with sessions as text", `{"sdk":"x","version":"1","features":[],"sessions":"many"}`, true, 0, `field "sessions" is a string, want an integer`},
	{"a second hello", `{"sdk":"again","version":"1","features":[]}`, false, 0, "a second hello"},

	// replies
	{"reply without ok", `{"re":1}`, false, 0, `reply without "ok"`},
	{"reply with null re", `{"re":null,"ok":true}`, false, 0, `reply with a null "re"`},

	// events
	{"empty event type", `{"type":""}`, false, 0, `event with an empty "type"`},
	{"unknown event type", `{"type":"stats"}`, false, 0,
		`unknown event type "stats" (state, message, row, done, migration, response, error, route, instance, edge, dial)`},
	{"event type in the wrong case", `{"type":"State","to":"CONNECTING"}`, false, 0,
		`unknown event type "State" (state, message, row, done, migration, response, error, route, instance, edge, dial)`},
	{"state event without to", `{"type":"state","from":"CONNECTING"}`, false, 0, `state event without "to"`},
	{"bad state name", `{"type":"state","from":"CONNECTING","to":"CONNECTED"}`, false, 0,
		`state event with an unknown state in "to": "CONNECTED" (CONNECTING, CONNECTED_ACTIVE, RECOVERING_RECONNECT, CLOSED_BY_CLIENT, CLOSED_BY_SERVER, CLOSED_FAILED)`},
	{"bad from state", `{"type":"state","from":"connecting","to":"CONNECTED_ACTIVE"}`, false, 0,
		`state event with an unknown state in "from": "connecting" (CONNECTING, CONNECTED_ACTIVE, RECOVERING_RECONNECT, CLOSED_BY_CLIENT, CLOSED_BY_SERVER, CLOSED_FAILED)`},

	// a field of the wrong type
	{"re as a string", `{"re":"1","ok":true}`, false, 0, `field "re" is a string, want an integer`},
	{"re as a fraction", `{"re":1.5,"ok":true}`, false, 0, `field "re" is the number 1.5, want an integer`},
	{"ok as a string", `{"re":1,"ok":"yes"}`, false, 0, `field "ok" is a string, want true or false`},
	{"error as a number", `{"re":1,"ok":false,"error":7}`, false, 0, `field "error" is a number, want a string`},
	{"type as a number", `{"type":7}`, false, 0, `field "type" is a number, want a string`},
	{"seq as a string", `{"type":"message","topic":"p","seq":"3"}`, false, 0, `field "seq" is a string, want an integer`},
	{"sdk as a number", `{"sdk":7,"version":"1","features":[]}`, true, 0, `field "sdk" is a number, want a string`},
	{"features as a string", `{"sdk":"x","version":"1","features":"reconnect"}`, true, 0, `field "features" is a string, want a list of strings`},
}

func TestParseLine(t *testing.T) {
	for _, c := range lineCases {
		l, err := parseLine([]byte(c.in), c.wantHello)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s: %s:\n got %v\nwant %s", c.kind, c.in, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %s: %v", c.kind, c.in, err)
		case c.err == "" && l.kind != c.ok:
			t.Errorf("%s: %s: kind %d, want %d", c.kind, c.in, l.kind, c.ok)
		}
	}
	l, _ := parseLine([]byte(`{"type":"state","from":"CONNECTING","to":"CONNECTED_ACTIVE","server":"ws://x/","tried":["a","b"]}`), false)
	if l.event.To != driver.ConnectedActive || len(l.event.Tried) != 2 {
		t.Errorf("event fields lost: %+v", l.event)
	}
}

func TestQuoteTruncates(t *testing.T) {
	q := quote([]byte(strings.Repeat("a", 1000)))
	if len(q) > maxQuoted+40 || !strings.Contains(q, "(1000 bytes)") {
		t.Errorf("quote = %s", q)
	}
	if q := quote([]byte("a\x00\xff")); q != `"a\x00\xff"` {
		t.Errorf("control bytes must show: %s", q)
	}
}

// FuzzParseLine: the parser never panics, and whatever it accepts survives a
// round trip through the protocol's own encoding with its kind and values.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		`{"sdk":"x","version":"1","features":["reconnect"]}`,
		`{"re":1,"ok":true}`, `{"re":-3,"ok":false,"error":"e"}`,
		`{"type":"state","from":"A","to":"B","tried":["u"]}`,
		`{"type":"row","request":2,"n":5,"cancelled":true}`,
		`{"re":1,"type":"x"}`, `[]`, `{`, "", "\xff",
		// the catalogue's kinds: closed sets, duplicate keys, bytes
		`{"type":"state","from":"CONNECTING","to":"CLOSED_FAILED","reason":"r"}`, `{"type":"stats"}`,
		`{"re":1,"re":2,"ok":true}`, "{\"type\":\"error\",\"text\":\"\xc3\"}", `{"sdk":"x","version":"1","features":null}`,
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, wantHello bool) {
		l, err := parseLine(b, wantHello)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without words is no evidence")
			}
			return
		}
		var v any
		switch l.kind {
		case kindBlank:
			if strings.TrimSpace(string(b)) != "" {
				t.Fatalf("blank kind for %q", b)
			}
			return
		case kindHello:
			if !wantHello || l.hello.SDK == "" {
				t.Fatalf("hello accepted out of place or nameless: %q", b)
			}
			v = l.hello
		case kindReply:
			v = l.reply
		case kindEvent:
			if l.event.Type == "" {
				t.Fatalf("event without type: %q", b)
			}
			v = l.event
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		l2, err := parseLine(enc, wantHello)
		if err != nil || l2.kind != l.kind {
			t.Fatalf("round trip of %q → %s: %v (kind %d → %d)", b, enc, err, l.kind, l2.kind)
		}
		if !reflect.DeepEqual(norm(l2), norm(l)) {
			t.Fatalf("round trip changed %q:\n%+v\n%+v", b, l, l2)
		}
	})
}

// norm makes empty and nil lists equal (omitempty drops them).
func norm(l line) line {
	if len(l.hello.Features) == 0 {
		l.hello.Features = nil
	}
	if len(l.event.Tried) == 0 {
		l.event.Tried = nil
	}
	return l
}

// The read loop's mistakes, across lines, through a real program (sh): each
// fails the driver with exactly this evidence, whether it surfaces from the
// factory or from the next op.
func TestReadLoopMistakes(t *testing.T) {
	const hello = `{"sdk":"sh","version":"1","features":[]}`
	long := `head -c 1100000 /dev/zero | tr '\0' a; echo`
	for _, c := range []struct {
		kind, script, want string
	}{
		{"a malformed line after the hello", `echo '` + hello + `'; echo '{"type":"stats"}'`,
			`malformed line 2 on stdout (unknown event type "stats" (state, message, row, done, migration, response, error, route, instance, edge, dial)): "{\"type\":\"stats\"}"`},
		{"a reply to an unknown id", `echo '` + hello + `'; echo '{"re":99,"ok":true}'`,
			`reply to unknown id 99 on line 2 (no op with that id is waiting): "{\"re\":99,\"ok\":true}"`},
		{"an oversized line", `echo '` + hello + `'; ` + long,
			fmt.Sprintf("line 2 on stdout is longer than %d bytes", maxLine)},
		{"a hello missing a field", `echo '{"sdk":"sh","version":"1"}'`,
			`malformed line 1 on stdout (hello without "features"` + hint + `): "{\"sdk\":\"sh\",\"version\":\"1\"}"`},
		{"a line before the hello", `echo '{"re":1,"ok":true}'`,
			`malformed line 1 on stdout (the first line must be the hello ({"sdk": …, "version": …, "features": […]})): "{\"re\":1,\"ok\":true}"`},
	} {
		t.Run(c.kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d, err := Factory([]string{"sh", "-c", c.script + "; exec sleep 10"})(ctx, func(driver.Event) {})
			if err == nil {
				_, err = d.Do(ctx, driver.Op{ID: 1, Op: driver.OpSubscribe, Topic: "t"})
				_ = d.Close(ctx)
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("want an *Error, got %v", err)
			}
			if de.What != c.want {
				t.Errorf("\n got %s\nwant %s", de.What, c.want)
			}
		})
	}
}
