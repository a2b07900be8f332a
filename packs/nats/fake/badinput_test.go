package fake

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// Bytes the server cannot follow get nats-server's -ERR (when it has one)
// and a close, with the evidence of both.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		in     string
		errTxt string // "" for no -ERR
		reason string // conn.close reason prefix
	}{
		{"control line too long", Options{}, "SUB " + strings.Repeat("a", 5000) + " 1\r\n",
			"Maximum Control Line Exceeded", "error:SUB at byte 4096: maximum control line exceeded"},
		{"oversize payload", Options{}, "PUB foo 2000000\r\n",
			"Maximum Payload Violation", "error:PUB at byte 8: maximum payload violation"},
		{"payload over configured max", Options{MaxPayload: 8}, "PUB foo 9\r\n123456789\r\n",
			"Maximum Payload Violation", "error:PUB at byte 8: maximum payload violation"},
		{"unknown op", Options{}, "FOO bar\r\n",
			"Unknown Protocol Operation", "error:protocol at byte 0: unknown protocol operation"},
		{"payload without CRLF", Options{}, "PUB foo 1\r\nxyz",
			"Unknown Protocol Operation", "error:PUB at byte 12: payload not terminated by CRLF"},
		{"malformed arguments", Options{}, "SUB foo\r\n",
			"", "error:SUB at byte 3: malformed arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, log := start(t, tt.opts)
			c := dial(t, s)
			c.send(tt.in)
			lines := c.closed()
			if tt.errTxt != "" && (len(lines) != 1 || lines[0] != "-ERR '"+tt.errTxt+"'") {
				t.Fatalf("got %q, want -ERR '%s'", lines, tt.errTxt)
			}
			if tt.errTxt == "" && len(lines) != 0 {
				t.Fatalf("got %q, want nothing", lines)
			}
			cl := waitEvent(t, log, "conn.close", kind(history.KindConnClose, "s1#1"))
			if !strings.HasPrefix(cl.Reason, tt.reason) {
				t.Fatalf("conn.close reason %q, want %q...", cl.Reason, tt.reason)
			}
			errs := log.Events().Kind(KindErr)
			if tt.errTxt != "" && (len(errs) != 1 || errs[0].Reason != tt.errTxt || errs[0].Conn != "s1#1") {
				t.Fatalf("nats.err %v", errs)
			}
			if tt.errTxt == "" && len(errs) != 0 {
				t.Fatalf("nats.err %v", errs)
			}
		})
	}
}
