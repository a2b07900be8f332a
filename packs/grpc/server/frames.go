package server

import (
	"encoding/binary"
	"fmt"
)

// HTTP/2 frame types and flags the scanner cares about (RFC 9113 §6).
const (
	frameSettings = 0x4
	framePing     = 0x6
	frameGoAway   = 0x7
	flagAck       = 0x1
	frameHeader   = 9
	maxDebugKept  = 256
)

// clientPreface is the connection preface every HTTP/2 client sends first
// (RFC 9113 §3.4; grpc-go internal/transport/http_util.go clientPreface).
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// grpcGoBDPPing is the data of grpc-go's BDP estimator PINGs
// (internal/transport/bdp_estimator.go bdpPing): flow-control probes, not
// keepalive, so not recorded.
var grpcGoBDPPing = [8]byte{2, 4, 16, 16, 9, 14, 7, 7}

// frame is one scanned frame: its header and the first bytes of its
// payload when kept (PING: 8; GOAWAY: 8 + up to maxDebugKept of debug data).
type frame struct {
	typ, flags byte
	stream     uint32
	length     int
	payload    []byte
}

// scanner follows the frame boundaries of one direction of an HTTP/2
// connection as its bytes go by, in whatever pieces they come. It reads
// only frame headers: a payload is skipped by arithmetic, except the few
// bytes kept for PING and GOAWAY. The client side starts with the 24-byte
// preface, checked byte by byte.
type scanner struct {
	preface int    // preface bytes still to come
	pre     []byte // the preface bytes seen
	bad     bool   // the preface was wrong: nothing after it is a frame
	frames  int    // frames completed

	hdr  [frameHeader]byte
	hn   int // header bytes collected
	cur  frame
	in   bool // inside a frame's payload
	left int  // its payload bytes still to come
	keep int  // how many payload bytes to keep
}

// newScanner scans the client→server direction when client is true (it
// begins with the preface), else server→client.
func newScanner(client bool) *scanner {
	s := &scanner{}
	if client {
		s.preface = len(clientPreface)
	}
	return s
}

// badPreface describes a wrong preface ("" while it is right so far).
func (s *scanner) badPreface() string {
	if !s.bad {
		return ""
	}
	return fmt.Sprintf("bad HTTP/2 preface %q", s.pre)
}

// feed scans p; each frame completed in it is passed to done.
func (s *scanner) feed(p []byte, done func(frame)) {
	for len(p) > 0 {
		if s.preface > 0 {
			// the preface's 24 bytes are kept for a report, all of them
			// even once one was wrong (grpc-go reads 24 before judging)
			n := min(len(p), s.preface)
			off := len(clientPreface) - s.preface
			s.pre = append(s.pre, p[:n]...)
			if string(p[:n]) != clientPreface[off:off+n] {
				s.bad = true
			}
			s.preface -= n
			p = p[n:]
			continue
		}
		if s.bad {
			return
		}
		if !s.in {
			n := copy(s.hdr[s.hn:], p)
			s.hn += n
			p = p[n:]
			if s.hn < frameHeader {
				return
			}
			s.hn = 0
			length := int(s.hdr[0])<<16 | int(s.hdr[1])<<8 | int(s.hdr[2])
			s.cur = frame{typ: s.hdr[3], flags: s.hdr[4], length: length,
				stream: binary.BigEndian.Uint32(s.hdr[5:9]) & 0x7fffffff, payload: s.cur.payload[:0]}
			s.keep = 0
			switch s.cur.typ {
			case framePing:
				s.keep = 8
			case frameGoAway:
				s.keep = 8 + maxDebugKept
			}
			s.left, s.in = length, true
			if length == 0 { // a SETTINGS ACK: complete already, p may be empty
				s.in = false
				s.frames++
				done(s.cur)
				continue
			}
		}
		n := min(len(p), s.left)
		if want := s.keep - len(s.cur.payload); want > 0 {
			s.cur.payload = append(s.cur.payload, p[:min(n, want)]...)
		}
		s.left -= n
		p = p[n:]
		if s.left == 0 {
			s.in = false
			s.frames++
			done(s.cur)
		}
	}
}

// pingData is a PING's 8 bytes (zero when the frame was short).
func (f frame) pingData() (d [8]byte) {
	copy(d[:], f.payload)
	return d
}

// goAway decodes a GOAWAY's payload (RFC 9113 §6.8).
func (f frame) goAway() (lastStream uint32, code uint32, debug string) {
	if len(f.payload) < 8 {
		return 0, 0, ""
	}
	return binary.BigEndian.Uint32(f.payload[0:4]) & 0x7fffffff, binary.BigEndian.Uint32(f.payload[4:8]), string(f.payload[8:])
}

// errCodeName is an HTTP/2 error code's name (RFC 9113 §7).
func errCodeName(code uint32) string {
	names := [...]string{"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
		"STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
		"ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"}
	if int(code) < len(names) {
		return names[code]
	}
	return fmt.Sprintf("0x%x", code)
}

// frameTypeName is an HTTP/2 frame type's name (RFC 9113 §6).
func frameTypeName(t byte) string {
	names := [...]string{"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY",
		"WINDOW_UPDATE", "CONTINUATION"}
	if int(t) < len(names) {
		return names[t]
	}
	return fmt.Sprintf("type 0x%x", t)
}
