package wire

import (
	"errors"
	"reflect"
	"testing"
)

// A stream parses the same however the reads split it: at every position
// into two reads, and one byte at a time.
func TestPartialReads(t *testing.T) {
	stream := encodeAll(sampleOps(t))
	want, err := parseAll(Limits{}, stream)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= len(stream); i++ {
		got, err := parseAll(Limits{}, stream[:i], stream[i:])
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("split at %d: %v\n%#v", i, err, got)
		}
	}
	var bytewise [][]byte
	for i := range stream {
		bytewise = append(bytewise, stream[i:i+1])
	}
	if got, err := parseAll(Limits{}, bytewise...); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("byte at a time: %v", err)
	}
}

// Errors, too, are the same (class, op, offset) at every split, and come
// with the ops before them.
func TestPartialReadsErrors(t *testing.T) {
	for _, in := range []string{
		"PING\r\nPUB foo 2\r\nabc\r\n",
		"SUB a 1\r\nPUB foo 99999999\r\n",
		"PONG\r\nHELLO\r\n",
		"PING\r\nSUB " + string(make([]byte, 40)) + "\r\n",
	} {
		lim := Limits{MaxControlLine: 32, MaxPayload: 1000}
		wantOps, wantErr := parseAll(lim, []byte(in))
		if wantErr == nil {
			t.Fatalf("%q parsed", in)
		}
		for i := 0; i <= len(in); i++ {
			ops, err := parseAll(lim, []byte(in[:i]), []byte(in[i:]))
			if !reflect.DeepEqual(ops, wantOps) || !sameError(err, wantErr) {
				t.Fatalf("%q split at %d: %v vs %v", in, i, err, wantErr)
			}
		}
	}
}

func sameError(a, b error) bool {
	var pa, pb *ParseError
	return errors.As(a, &pa) && errors.As(b, &pb) && *pa == *pb
}
