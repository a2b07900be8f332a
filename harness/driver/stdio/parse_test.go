package stdio

import (
	"strings"
	"testing"
)

// ParseLine is parseLine for tools outside the host: the same kinds, the
// same errors.
func TestParseLineIsTheHostsParser(t *testing.T) {
	for _, tc := range []struct {
		in        string
		wantHello bool
		kind      string // hello, reply, event, blank; "" when it is an error
		err       string
	}{
		{`{"sdk":"x","version":"1","features":[],"sessions":4}`, true, "hello", ""},
		{`{"re":3,"ok":false,"error":"no"}`, false, "reply", ""},
		{`{"type":"state","to":"CONNECTING","client":2}`, false, "event", ""},
		{`   `, false, "blank", ""},
		{`{"type":"state","to":"CONNECTED"}`, false, "", `state event with an unknown state in "to": "CONNECTED"`},
		{`{"type":"state","to":"CONNECTING"}`, true, "", "the first line must be the hello"},
		{`{"re":1,"re":2,"ok":true}`, false, "", `key "re" given twice`},
	} {
		l, err := ParseLine([]byte(tc.in), tc.wantHello)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		got := "blank"
		switch {
		case l.Hello != nil:
			got = "hello"
		case l.Reply != nil:
			got = "reply"
		case l.Event != nil:
			got = "event"
		}
		if got != tc.kind {
			t.Errorf("%s: parsed as %s, want %s", tc.in, got, tc.kind)
		}
	}
	l, _ := ParseLine([]byte(`{"type":"error","text":"x","client":2}`), false)
	if string(l.Client) != "2" || l.Event.Client != nil {
		t.Errorf("an event's client is kept as written (%s), not decoded (%v)", l.Client, l.Event.Client)
	}
	l, _ = ParseLine([]byte(`{"sdk":"x","version":"1","features":[],"sessions":4}`), true)
	if l.Hello.Sessions != 4 {
		t.Errorf("hello = %+v", l.Hello)
	}
	if Quote([]byte("a\nb")) != quote([]byte("a\nb")) {
		t.Errorf("Quote is not the host's quote")
	}
}
