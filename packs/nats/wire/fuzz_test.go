package wire

import (
	"reflect"
	"testing"
)

// Small limits, so that the fuzzer reaches them.
var fuzzLimits = Limits{MaxControlLine: 64, MaxPayload: 64}

// FuzzParse holds the parser to four properties on any input: it does not
// panic; it parses the same however reads split the input; it never holds
// more than one incomplete op; and whatever op it accepts, re-encoded,
// parses back to the same op.
func FuzzParse(f *testing.F) {
	for _, op := range []Op{
		&Connect{JSON: []byte(`{"verbose":false,"name":"x","protocol":1}`)}, &Ping{}, &Pong{},
		&Sub{Subject: "a.*", SID: "1"}, &Sub{Subject: "a", Queue: "q", SID: "2"}, &Unsub{SID: "1", Max: 3},
		&Pub{Subject: "a", Reply: "r", Payload: []byte(`{"n":1}`)}, &HPub{Subject: "h", Header: []byte("NATS/1.0\r\n\r\n"), Payload: []byte("p")},
	} {
		f.Add(op.Append(nil), uint8(3))
	}
	for _, s := range []string{"ping\npong\r\n", "PUB a 2\r\nabc\r\n", "HPUB a 3 2\r\n", "CONNECT {\"a\":}\r\n",
		"SUB a\rb 1\r\n", "UNSUB 1 999999999\r\n", "PUB a 65\r\n", "sUb a b c d\r\n", "\r\n", "PINGPONG\r\n"} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		whole, wholeErr := parseAll(fuzzLimits, data)

		// Chunked, checking the memory bound after every drain.
		step := int(chunk%16) + 1
		p := NewParser(fuzzLimits)
		var chunked []Op
		var chunkedErr error
		bound := fuzzLimits.MaxControlLine + 2 + fuzzLimits.MaxPayload + 2
	feed:
		for i := 0; i < len(data); i += step {
			p.Feed(data[i:min(i+step, len(data))])
			for {
				op, err := p.Next()
				if err != nil {
					chunkedErr = err
					break feed
				}
				if op == nil {
					break
				}
				chunked = append(chunked, op)
			}
			if p.Buffered() >= bound {
				t.Fatalf("holds %d bytes after a drain, an op is at most %d", p.Buffered(), bound-1)
			}
			if cap(p.buf) > 4*(bound+step)+512 {
				t.Fatalf("buffer capacity %d", cap(p.buf))
			}
		}
		if !reflect.DeepEqual(whole, chunked) || !sameErrOrNil(wholeErr, chunkedErr) {
			t.Fatalf("chunks of %d differ:\n%#v %v\n%#v %v", step, whole, wholeErr, chunked, chunkedErr)
		}

		for _, op := range whole {
			enc := op.Append(nil)
			again, err := parseAll(fuzzLimits, enc)
			if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0], op) {
				t.Fatalf("%#v re-encoded as %q parses as %#v, %v", op, enc, again, err)
			}
		}
	})
}

func sameErrOrNil(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return sameError(a, b)
}
