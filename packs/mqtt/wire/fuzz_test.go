package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// FuzzDecode feeds arbitrary bytes to Read, as a client's stream: it must
// never panic or allocate past the limit, must end in io.EOF,
// io.ErrUnexpectedEOF or an *Error, and every packet it accepts must
// re-encode (paho's encoder) to bytes it reads back the same.
func FuzzDecode(f *testing.F) {
	seeds := [][]byte{
		Encode(connect()),
		Publish("a/b", []byte(`{"n":1}`), 1, true, 7),
		Publish("a", nil, 0, false, 0),
		{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, '#', 0x01},
		{0xa2, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'},
		{0xc0, 0x00, 0xe0, 0x00},
		{0x40, 0x02, 0x00, 0x01},
		{0x30, 0xff, 0xff, 0xff, 0x7f},
		{0x10, 0x06, 0x00, 0x04, 'M', 'Q', 'T', 'T'},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	lim := Limits{MaxPacket: 4096}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for {
			cp, err := Read(r, lim)
			if err != nil {
				var we *Error
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.As(err, &we) {
					t.Fatalf("error of type %T: %v", err, err)
				}
				return
			}
			roundTrip(t, cp)
		}
	})
}

func roundTrip(t *testing.T, cp packets.ControlPacket) {
	t.Helper()
	enc := Encode(cp)
	again, err := Read(bufio.NewReader(bytes.NewReader(enc)), Limits{MaxPacket: MaxRemaining})
	if err != nil {
		t.Fatalf("%s re-encoded as % x does not read back: %v", cp, enc, err)
	}
	if enc2 := Encode(again); !bytes.Equal(enc, enc2) {
		t.Fatalf("%s: re-encoded % x, read back and encoded % x", cp, enc, enc2)
	}
}
