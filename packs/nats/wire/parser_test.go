package wire

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	connect := func(js string, c Connect) *Connect { c.JSON = []byte(js); return &c }
	tests := []struct {
		name string
		in   string
		want []Op
	}{
		{"ping", "PING\r\n", []Op{&Ping{}}},
		{"pong bare LF", "PONG\n", []Op{&Pong{}}},
		{"lower case", "ping\r\npong\r\n", []Op{&Ping{}, &Pong{}}},
		{"mixed case and trailing blanks", "PiNg \t\r\n", []Op{&Ping{}}},
		{"connect", `CONNECT {"verbose":false,"pedantic":false,"name":"c1","lang":"go","version":"1.56.0","protocol":1,"headers":true,"no_responders":true,"echo":false}` + "\r\n",
			[]Op{connect(`{"verbose":false,"pedantic":false,"name":"c1","lang":"go","version":"1.56.0","protocol":1,"headers":true,"no_responders":true,"echo":false}`,
				Connect{Name: "c1", Lang: "go", Version: "1.56.0", Protocol: 1, Headers: true, NoResponders: true})}},
		{"connect defaults", "connect\t {}\r\n", []Op{connect(`{}`, Connect{Verbose: true, Pedantic: true, Echo: true})}},
		{"connect keeps unknown fields", `CONNECT {"user":"u","pass":"p","verbose":false}` + "\n",
			[]Op{connect(`{"user":"u","pass":"p","verbose":false}`, Connect{Pedantic: true, Echo: true})}},
		{"sub", "SUB foo.bar 1\r\n", []Op{&Sub{Subject: "foo.bar", SID: "1"}}},
		{"sub queue, tabs and runs", "sub\tfoo  q1 \t 22\r\n", []Op{&Sub{Subject: "foo", Queue: "q1", SID: "22"}}},
		{"sub wildcard", "SUB foo.*.> 3\r\n", []Op{&Sub{Subject: "foo.*.>", SID: "3"}}},
		{"unsub", "UNSUB 1\r\n", []Op{&Unsub{SID: "1"}}},
		{"unsub max", "UNSUB 1 5\r\n", []Op{&Unsub{SID: "1", Max: 5}}},
		{"unsub max 0 is none", "UNSUB 1 0\r\n", []Op{&Unsub{SID: "1"}}},
		{"pub", "PUB foo 5\r\nhello\r\n", []Op{&Pub{Subject: "foo", Payload: []byte("hello")}}},
		{"pub reply", "pub foo _INBOX.x 2\r\nhi\r\n", []Op{&Pub{Subject: "foo", Reply: "_INBOX.x", Payload: []byte("hi")}}},
		{"pub empty", "PUB foo 0\r\n\r\n", []Op{&Pub{Subject: "foo"}}},
		{"pub leading zeros", "PUB foo 002\r\nhi\r\n", []Op{&Pub{Subject: "foo", Payload: []byte("hi")}}},
		{"pub payload holds CRLF", "PUB foo 4\r\n\r\n\r\n\r\n", []Op{&Pub{Subject: "foo", Payload: []byte("\r\n\r\n")}}},
		{"hpub", "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
			[]Op{&HPub{Subject: "foo", Header: []byte("NATS/1.0\r\n\r\n"), Payload: []byte("hi")}}},
		{"hpub reply", "hpub foo r 12 12\r\nNATS/1.0\r\n\r\n\r\n",
			[]Op{&HPub{Subject: "foo", Reply: "r", Header: []byte("NATS/1.0\r\n\r\n")}}},
		{"sequence", "CONNECT {}\r\nPING\r\nSUB a 1\r\nPUB a 1\r\nx\r\nUNSUB 1\r\n",
			[]Op{connect(`{}`, Connect{Verbose: true, Pedantic: true, Echo: true}), &Ping{}, &Sub{Subject: "a", SID: "1"},
				&Pub{Subject: "a", Payload: []byte("x")}, &Unsub{SID: "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAll(Limits{}, []byte(tt.in))
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	long := "SUB " + strings.Repeat("a", 4100) + " 1\r\n"
	tests := []struct {
		name   string
		lim    Limits
		in     string
		class  error
		op     string
		offset int64
		server string // -ERR text
	}{
		{"unknown op", Limits{}, "FOO\r\n", ErrUnknownOp, "", 0, "Unknown Protocol Operation"},
		{"unknown op after valid", Limits{}, "PING\r\nPINX\r\n", ErrUnknownOp, "", 9, "Unknown Protocol Operation"},
		{"op prefix only", Limits{}, "PIN\r\n", ErrUnknownOp, "", 3, "Unknown Protocol Operation"},
		{"op name too long", Limits{}, "PINGS\r\n", ErrUnknownOp, "", 4, "Unknown Protocol Operation"},
		{"no space after name", Limits{}, "CONNECT{}\r\n", ErrUnknownOp, "", 7, "Unknown Protocol Operation"},
		{"empty line", Limits{}, "\r\n", ErrUnknownOp, "", 0, "Unknown Protocol Operation"},
		{"leading space", Limits{}, " PING\r\n", ErrUnknownOp, "", 0, "Unknown Protocol Operation"},
		{"server op from client", Limits{}, "MSG a 1 0\r\n\r\n", ErrUnknownOp, "", 0, "Unknown Protocol Operation"},
		{"junk after ping", Limits{}, "PING x\r\n", ErrSyntax, "PING", 5, ""},
		{"CR inside line", Limits{}, "SUB a\r1\r\n", ErrSyntax, "SUB", 5, ""},
		{"control line too long", Limits{}, long, ErrControlLine, "SUB", 4096, "Maximum Control Line Exceeded"},
		{"control line limit configurable", Limits{MaxControlLine: 10}, "SUB abcdefgh 1\r\n", ErrControlLine, "SUB", 10, "Maximum Control Line Exceeded"},
		{"connect without json", Limits{}, "CONNECT \r\n", ErrSyntax, "CONNECT", 7, ""},
		{"connect not an object", Limits{}, "CONNECT [1]\r\n", ErrSyntax, "CONNECT", 8, ""},
		{"connect bad json", Limits{}, `CONNECT {"a":}` + "\r\n", ErrSyntax, "CONNECT", 13, ""},
		{"connect wrong type", Limits{}, `CONNECT {"verbose":"yes"}` + "\r\n", ErrSyntax, "CONNECT", 8, ""},
		{"sub too few", Limits{}, "SUB foo\r\n", ErrSyntax, "SUB", 3, ""},
		{"sub too many", Limits{}, "SUB a b c d\r\n", ErrSyntax, "SUB", 3, ""},
		{"sub no args", Limits{}, "SUB\r\n", ErrSyntax, "SUB", 3, ""},
		{"unsub bad max", Limits{}, "UNSUB 1 x\r\n", ErrSyntax, "UNSUB", 8, ""},
		{"pub bad size", Limits{}, "PUB foo 1x\r\n", ErrSyntax, "PUB", 8, ""},
		{"pub negative size", Limits{}, "PUB foo -1\r\n", ErrSyntax, "PUB", 8, ""},
		{"pub size 10 digits", Limits{}, "PUB foo 1000000000\r\n", ErrSyntax, "PUB", 8, ""},
		{"pub oversize", Limits{}, "PUB foo 1048577\r\n", ErrMaxPayload, "PUB", 8, "Maximum Payload Violation"},
		{"pub payload limit configurable", Limits{MaxPayload: 4}, "PUB foo r 5\r\n", ErrMaxPayload, "PUB", 10, "Maximum Payload Violation"},
		{"pub payload too long", Limits{}, "PUB foo 2\r\nabc\r\n", ErrFraming, "PUB", 13, "Unknown Protocol Operation"},
		{"pub payload CR without LF", Limits{}, "PUB foo 2\r\nab\rX", ErrFraming, "PUB", 14, "Unknown Protocol Operation"},
		{"hpub header over total", Limits{}, "HPUB foo 5 4\r\n", ErrSyntax, "HPUB", 9, ""},
		{"hpub oversize", Limits{MaxPayload: 10}, "HPUB foo 2 11\r\n", ErrMaxPayload, "HPUB", 11, "Maximum Payload Violation"},
		{"hpub too few", Limits{}, "HPUB foo 2\r\n", ErrSyntax, "HPUB", 4, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAll(tt.lim, []byte(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("want a *ParseError, got %v", err)
			}
			if !errors.Is(err, tt.class) || pe.Op != tt.op || pe.Offset != tt.offset || pe.ServerText() != tt.server {
				t.Fatalf("got %v (op %q, offset %d, -ERR %q), want class %v op %q offset %d -ERR %q",
					err, pe.Op, pe.Offset, pe.ServerText(), tt.class, tt.op, tt.offset, tt.server)
			}
		})
	}
}

// An error is final: later bytes are ignored and Next repeats it.
func TestParseErrorIsSticky(t *testing.T) {
	p := NewParser(Limits{})
	p.Feed([]byte("XX\r\n"))
	_, err1 := p.Next()
	p.Feed([]byte("PING\r\n"))
	op, err2 := p.Next()
	if err1 == nil || err2 != err1 || op != nil || p.Buffered() != 0 {
		t.Fatalf("got %v, %v, %v, buffered %d", err1, op, err2, p.Buffered())
	}
}

// Garbage is refused at its first byte, not after MaxControlLine bytes: a
// client speaking another protocol gets its answer at once.
func TestUnknownOpDetectedEarly(t *testing.T) {
	p := NewParser(Limits{})
	p.Feed([]byte("GET / HTTP/1.1")) // no line end yet
	_, err := p.Next()
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Offset != 0 || !errors.Is(err, ErrUnknownOp) {
		t.Fatalf("got %v", err)
	}
}

// A control line without a line end is refused once it passes the limit,
// without waiting for the rest, and the parser holds no more than that.
func TestControlLineLimitWithoutLineEnd(t *testing.T) {
	p := NewParser(Limits{MaxControlLine: 16})
	p.Feed([]byte("SUB " + strings.Repeat("x", 12))) // 16 bytes: still legal
	if op, err := p.Next(); op != nil || err != nil {
		t.Fatalf("at the limit: %v %v", op, err)
	}
	p.Feed([]byte("\r")) // the CR of a legal line end
	if op, err := p.Next(); op != nil || err != nil {
		t.Fatalf("limit plus CR: %v %v", op, err)
	}
	p.Feed([]byte("y"))
	if _, err := p.Next(); !errors.Is(err, ErrControlLine) {
		t.Fatalf("over the limit: %v", err)
	}
}

func TestMaxControlLineExactlyAllowed(t *testing.T) {
	line := "SUB " + strings.Repeat("s", DefaultMaxControlLine-6) + " 1" // exactly 4096 bytes
	if len(line) != DefaultMaxControlLine {
		t.Fatal(len(line))
	}
	ops, err := parseAll(Limits{}, []byte(line+"\r\n"))
	if err != nil || len(ops) != 1 {
		t.Fatalf("%v %v", ops, err)
	}
	if _, err := parseAll(Limits{}, []byte("SUB s"+line[4:]+"\r\n")); !errors.Is(err, ErrControlLine) {
		t.Fatalf("4097 bytes: %v", err)
	}
}

func TestErrorMessageNamesOpOffsetAndCause(t *testing.T) {
	_, err := parseAll(Limits{}, []byte("PING\r\nPUB foo 2000000\r\n"))
	want := "PUB at byte 14: maximum payload violation: payload of 2000000 bytes, limit 1048576"
	if err == nil || err.Error() != want {
		t.Fatalf("got %q\nwant %q", err, want)
	}
}

// A drained parser does not keep a big message's buffer.
func TestParserReleasesLargeBuffer(t *testing.T) {
	p := NewParser(Limits{})
	msg := (&Pub{Subject: "a", Payload: make([]byte, 512<<10)}).Append(nil)
	p.Feed(msg)
	if op, err := p.Next(); op == nil || err != nil {
		t.Fatal(op, err)
	}
	p.Feed([]byte("PI"))
	if cap(p.buf) > retainCap {
		t.Fatalf("kept %d bytes", cap(p.buf))
	}
}
