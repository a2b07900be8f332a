package server

import (
	"reflect"
	"testing"
)

type seen struct {
	typ, flags byte
	stream     uint32
	length     int
	payload    string
}

func scanAll(sc *scanner, pieces ...[]byte) []seen {
	var out []seen
	for _, p := range pieces {
		sc.feed(p, func(f frame) {
			out = append(out, seen{f.typ, f.flags, f.stream, f.length, string(f.payload)})
		})
	}
	return out
}

// The scanner finds the same frames however the bytes are cut: at every
// split point, and one byte at a time.
func TestScannerAnySplit(t *testing.T) {
	long := make([]byte, 1000)
	debug := string(make([]byte, 300)) // kept up to maxDebugKept
	var stream []byte
	stream = append(stream, clientPreface...)
	stream = append(stream, frameBytes(frameSettings, 0, 0, []byte{0, 4, 0, 0, 0xff, 0xff})...)
	stream = append(stream, frameBytes(frameSettings, flagAck, 0, nil)...)
	stream = append(stream, frameBytes(framePing, 0, 0, []byte("12345678"))...)
	stream = append(stream, frameBytes(0x0, 0x1, 3, long)...) // DATA, payload not kept
	stream = append(stream, frameBytes(frameGoAway, 0, 0, goAwayPayload(7, 0xb, "too_many_pings"))...)
	stream = append(stream, frameBytes(frameGoAway, 0, 0, goAwayPayload(1, 0, debug))...)
	stream = append(stream, frameBytes(framePing, flagAck, 0, []byte("abcdefgh"))...)
	want := []seen{
		{frameSettings, 0, 0, 6, ""},
		{frameSettings, flagAck, 0, 0, ""},
		{framePing, 0, 0, 8, "12345678"},
		{0x0, 0x1, 3, 1000, ""},
		{frameGoAway, 0, 0, 22, string(goAwayPayload(7, 0xb, "too_many_pings"))},
		{frameGoAway, 0, 0, 308, string(goAwayPayload(1, 0, debug))[:8+maxDebugKept]},
		{framePing, flagAck, 0, 8, "abcdefgh"},
	}
	for i := 0; i <= len(stream); i++ {
		sc := newScanner(true)
		if got := scanAll(sc, stream[:i], stream[i:]); !reflect.DeepEqual(got, want) {
			t.Fatalf("split at %d: %+v", i, got)
		}
		if sc.badPreface() != "" {
			t.Fatalf("split at %d: %s", i, sc.badPreface())
		}
	}
	sc := newScanner(true)
	var bytes [][]byte
	for i := range stream {
		bytes = append(bytes, stream[i:i+1])
	}
	if got := scanAll(sc, bytes...); !reflect.DeepEqual(got, want) {
		t.Fatalf("byte by byte: %+v", got)
	}
	f := frame{typ: frameGoAway, payload: goAwayPayload(1<<31|5, 0xb, "x")}
	if last, code, d := f.goAway(); last != 5 || code != 0xb || d != "x" {
		t.Fatalf("goAway %d %d %q", last, code, d)
	}
}

// A wrong preface is found at its first wrong byte, and nothing after it
// is taken for a frame; these must fail to scan.
func TestScannerBadPreface(t *testing.T) {
	for _, in := range []string{"GET / HTTP/1.1\r\n\r\n", "PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n" + "\x00\x00\x00\x04\x00\x00\x00\x00\x00", "\x16\x03\x01"} {
		sc := newScanner(true)
		if got := scanAll(sc, []byte(in)); len(got) != 0 || sc.badPreface() == "" {
			t.Errorf("%q: frames %v, bad %q", in, got, sc.badPreface())
		}
	}
	sc := newScanner(true)
	scanAll(sc, []byte("GET"), []byte(" / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if want := `bad HTTP/2 preface "GET / HTTP/1.1\r\nHost: x\r"`; sc.badPreface() != want {
		t.Fatalf("report %s, want the first 24 bytes: %s", sc.badPreface(), want)
	}
	sc = newScanner(true)
	scanAll(sc, []byte("PRI * HTTP/2.0\r\n"))
	if sc.badPreface() != "" {
		t.Fatalf("a right preface so far is bad: %s", sc.badPreface())
	}
}

func TestNames(t *testing.T) {
	if errCodeName(0xb) != "ENHANCE_YOUR_CALM" || errCodeName(0x99) != "0x99" || frameTypeName(6) != "PING" || frameTypeName(0x20) != "type 0x20" {
		t.Fatal("names")
	}
}
