package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// MaxRemaining is the largest remaining length MQTT can encode (four
// bytes of seven bits).
const MaxRemaining = 268435455

// DefaultMaxPacket is Limits.MaxPacket's default: 1 MiB of remaining
// length, far above what a scenario sends and far below what a hostile
// peer could make the broker allocate.
const DefaultMaxPacket = 1 << 20

// Limits bound what Read accepts.
type Limits struct {
	// MaxPacket is the largest remaining length accepted (the packet after
	// its fixed header); 0 means DefaultMaxPacket.
	MaxPacket int
}

func (l Limits) max() int {
	switch {
	case l.MaxPacket <= 0:
		return DefaultMaxPacket
	case l.MaxPacket > MaxRemaining:
		return MaxRemaining
	}
	return l.MaxPacket
}

// Error is a malformed packet: Packet is its type's name (CONNECT,
// PUBLISH, …, or "packet" before the type is known), Text what was wrong.
type Error struct {
	Packet string
	Text   string
}

func (e *Error) Error() string { return e.Packet + ": " + e.Text }

func errf(packet, format string, args ...any) *Error {
	return &Error{Packet: packet, Text: fmt.Sprintf(format, args...)}
}

// Name is a packet type's name ("type 15" for the reserved ones).
func Name(typ byte) string {
	if n, ok := packets.PacketNames[typ]; ok {
		return n
	}
	return fmt.Sprintf("type %d", typ)
}

// PacketName is a decoded packet's type name (every paho packet is a
// pointer to a struct that embeds its FixedHeader).
func PacketName(cp packets.ControlPacket) string {
	v := reflect.ValueOf(cp)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return "packet"
	}
	fh, ok := v.Elem().FieldByName("FixedHeader").Interface().(packets.FixedHeader)
	if !ok {
		return "packet"
	}
	return Name(fh.MessageType)
}

// Read reads one packet from r. It returns io.EOF when r ends between
// packets, io.ErrUnexpectedEOF when it ends inside one, *Error when the
// bytes are not a well-formed MQTT 3.1.1 packet, and r's own error
// otherwise (a read deadline, a reset).
func Read(r *bufio.Reader, lim Limits) (packets.ControlPacket, error) {
	b0, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	name := Name(b0 >> 4)
	n, err := readLength(r, name)
	if err != nil {
		return nil, err
	}
	if err := checkHeader(b0); err != nil {
		return nil, err
	}
	if max := lim.max(); n > max {
		return nil, errf(name, "remaining length %d over the maximum packet size %d", n, max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, unexpected(err)
	}
	return Decode(b0, body)
}

// readLength reads the remaining length: at most four bytes, each giving
// seven bits, the high bit saying another follows.
func readLength(r io.ByteReader, name string) (int, error) {
	n, shift := 0, 0
	for i := 0; i < 4; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, unexpected(err)
		}
		n |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			return n, nil
		}
		shift += 7
	}
	return 0, errf(name, "remaining length longer than 4 bytes")
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Decode decodes one packet from its first byte and the bytes after its
// remaining length (exactly that many), with paho's decoders, and checks
// its form.
func Decode(b0 byte, body []byte) (packets.ControlPacket, error) {
	typ := b0 >> 4
	name := Name(typ)
	if err := checkHeader(b0); err != nil {
		return nil, err
	}
	fh := packets.FixedHeader{MessageType: typ, Dup: b0&0x08 != 0, Qos: (b0 >> 1) & 0x03, Retain: b0&0x01 != 0,
		RemainingLength: len(body)}
	cp, err := packets.NewControlPacketWithHeader(fh)
	if err != nil {
		return nil, errf(name, "%v", err)
	}
	rd := &exact{b: body}
	err = cp.Unpack(rd)
	switch {
	case rd.short > 0: // paho may go on past a failed read (its UNSUBSCRIBE does)
		return nil, errf(name, "truncated: a field of %d bytes runs past the remaining length %d", rd.short, len(body))
	case err == nil:
	case errors.Is(err, io.EOF) && typ == packets.Unsubscribe:
		// Paho's UNSUBSCRIBE reads topics until a read fails: io.EOF at
		// the exact end is how a well-formed one ends.
	case errors.Is(err, io.EOF):
		return nil, errf(name, "truncated: the remaining length %d ends before the packet's fields", len(body))
	default:
		return nil, errf(name, "%v", err)
	}
	if len(rd.b) > 0 {
		return nil, errf(name, "%d bytes left over after the packet's fields (remaining length %d)", len(rd.b), len(body))
	}
	if err := check(cp); err != nil {
		return nil, err
	}
	return cp, nil
}

// exact is the reader handed to paho's Unpack: a Read it cannot fill fails
// (paho's field decoders take a short read as a whole field).
type exact struct {
	b     []byte
	short int // the size of the read that failed, if one did
}

func (e *exact) Read(p []byte) (int, error) {
	switch {
	case len(p) == 0:
		return 0, nil
	case len(e.b) == 0:
		return 0, io.EOF
	case len(p) > len(e.b):
		e.short = len(p)
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, e.b)
	e.b = e.b[n:]
	return n, nil
}
