package wire

import (
	"errors"
	"testing"
)

func TestDecodeRoundTrip(t *testing.T) {
	in := Frame{T: THello, Principal: "p", Credentials: "c", Session: "s", Token: "k", Last: map[string]int64{"a": 3}}
	out, err := Decode(Encode(in))
	if err != nil {
		t.Fatal(err)
	}
	if out.Session != "s" || out.Last["a"] != 3 || out.Principal != "p" {
		t.Fatalf("round trip lost fields: %+v", out)
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":      `{`,
		"unknown type":  `{"t":"boom"}`,
		"no type":       `{}`,
		"msg no topic":  `{"t":"msg","seq":1}`,
		"send no n":     `{"t":"send"}`,
		"negative seq":  `{"t":"msg","topic":"a","seq":-1}`,
		"welcome no id": `{"t":"welcome"}`,
		"array":         `[]`,
	} {
		if _, err := Decode([]byte(in)); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: want ErrFrame, got %v", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"t":"hello","principal":"p"}`))
	f.Add([]byte(`{"t":"msg","topic":"x","seq":5,"data":{"a":1}}`))
	f.Add([]byte(`{"t":"resumed","session":"s","received":4}`))
	f.Add([]byte(`{"t":"req","req":3,"rows":500}`))
	f.Add([]byte(`{"t":"row","req":3,"n":17}`))
	f.Add([]byte(`{"t":"done","req":3,"cancelled":true}`))
	f.Add([]byte(`{"t":"attn","req":3}`))
	f.Add([]byte(`{"t":"migrate","mig":"s1-m1","target":"ws://127.0.0.1:9/","state":"REQUESTED"}`))
	f.Add([]byte(`{"t":"migrate","mig":"s1-m1","state":"CANCELLED"}`))
	f.Add([]byte(`{"t":"mig_failed","mig":"s1-m1","reason":"connection cannot migrate"}`))
	f.Add([]byte(`{"t":"hello","session":"s","token":"k","mig":"s1-m1","migration":true,"pending":{"3":120}}`))
	f.Add([]byte(`{"t":"resumed","session":"s","reqs":[3,4]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b)
		if err != nil {
			return
		}
		// whatever decodes must re-encode and decode to the same type
		again, err := Decode(Encode(fr))
		if err != nil || again.T != fr.T {
			t.Fatalf("re-decode of %q: %v", b, err)
		}
	})
}
