package platform

import (
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := Frame{T: TReq, ID: "17", Edge: "e1", Part: 2, Parts: 3, Data: []byte(`"x"`)}
	out, err := Decode(Encode(in))
	if err != nil {
		t.Fatal(err)
	}
	if out.ID != "17" || out.Part != 2 || out.Parts != 3 || out.Edge != "e1" || string(out.Data) != `"x"` {
		t.Fatalf("round trip lost fields: %+v", out)
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":          `{`,
		"unknown type":      `{"t":"msg"}`,
		"req without id":    `{"t":"req","part":1,"parts":1}`,
		"req part too high": `{"t":"req","id":"a","part":3,"parts":2}`,
		"req part zero":     `{"t":"req","id":"a","part":0,"parts":2}`,
		"ack without part":  `{"t":"ack","id":"a"}`,
		"negative ping":     `{"t":"welcome","ping_ms":-1}`,
	} {
		if _, err := Decode([]byte(in)); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: want ErrFrame, got %v", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"t":"req","id":"1","part":1,"parts":1,"data":"x"}`))
	f.Add([]byte(`{"t":"welcome","instance":"s1","ping_ms":100}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b)
		if err != nil {
			return
		}
		if again, err := Decode(Encode(fr)); err != nil || again.T != fr.T {
			t.Fatalf("re-decode of %q: %v", b, err)
		}
	})
}
