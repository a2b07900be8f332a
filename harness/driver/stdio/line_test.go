package stdio

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/driver"
)

func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		in        string
		wantHello bool
		kind      kind
		err       string
	}{
		{`{"sdk":"x","version":"1","features":["reconnect"],"extra":{"a":1}}`, true, kindHello, ""},
		{`{"sdk":""}`, true, 0, "empty"},
		{`{"type":"state"}`, true, 0, "must be the hello"},
		{`{"re":1,"ok":true}`, false, kindReply, ""},
		{`{"re":1,"ok":false,"error":"no","later":[1,2]}`, false, kindReply, ""},
		{`{"re":1}`, false, 0, `without "ok"`},
		{`{"re":null,"ok":true}`, false, 0, `null "re"`},
		{`{"re":"1","ok":true}`, false, 0, "bad field"},
		{`{"re":1.5,"ok":true}`, false, 0, "bad field"},
		{`{"type":"message","topic":"p","seq":3,"unknown":true}`, false, kindEvent, ""},
		{`{"type":""}`, false, 0, "empty"},
		{`{"type":"state","re":1,"ok":true}`, false, 0, "both"},
		{`{"sdk":"again"}`, false, 0, "second hello"},
		{`{}`, false, 0, "neither"},
		{`[1,2]`, false, 0, "not a JSON object"},
		{`null`, false, 0, "not a JSON object"},
		{`{"re":1,"ok":true`, false, 0, "invalid JSON"},
		{`{"re":1,"ok":true} trailing`, false, 0, "invalid JSON"},
		{"   \t", false, kindBlank, ""},
		{` {"re":2,"ok":true}` + "\r", false, kindReply, ""},
	} {
		l, err := parseLine([]byte(c.in), c.wantHello)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: want error containing %q, got %v", c.in, c.err, err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.in, err)
		case c.err == "" && l.kind != c.kind:
			t.Errorf("%s: kind %d, want %d", c.in, l.kind, c.kind)
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
