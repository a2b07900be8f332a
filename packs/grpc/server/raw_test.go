package server

import (
	"encoding/binary"
	"net"
	"testing"
	"time"
)

// frameBytes is one HTTP/2 frame.
func frameBytes(typ, flags byte, stream uint32, payload []byte) []byte {
	b := make([]byte, frameHeader, frameHeader+len(payload))
	b[0], b[1], b[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	b[3], b[4] = typ, flags
	binary.BigEndian.PutUint32(b[5:], stream)
	return append(b, payload...)
}

func goAwayPayload(last, code uint32, debug string) []byte {
	p := binary.BigEndian.AppendUint32(nil, last)
	p = binary.BigEndian.AppendUint32(p, code)
	return append(p, debug...)
}

// rawH2 is a hand-driven HTTP/2 client: what a real client library never
// does (pinging in bursts, never answering PINGs) on purpose. It reads the
// server's frames with the server's own scanner.
type rawH2 struct {
	c      net.Conn
	frames chan frame
	done   chan struct{}
}

// rawClient connects and sends the preface and an empty SETTINGS.
func rawClient(t *testing.T, addr string) *rawH2 {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &rawH2{c: c, frames: make(chan frame, 1024), done: make(chan struct{})}
	go r.read()
	t.Cleanup(func() {
		_ = c.Close()
		<-r.done
	})
	r.write(t, []byte(clientPreface), frameBytes(frameSettings, 0, 0, nil))
	return r
}

func (r *rawH2) read() {
	defer close(r.done)
	defer close(r.frames)
	sc := newScanner(false)
	buf := make([]byte, 4096)
	for {
		n, err := r.c.Read(buf)
		sc.feed(buf[:n], func(f frame) {
			f.payload = append([]byte(nil), f.payload...)
			select {
			case r.frames <- f:
			default:
			}
		})
		if err != nil {
			return
		}
	}
}

func (r *rawH2) write(t *testing.T, bs ...[]byte) {
	t.Helper()
	for _, b := range bs {
		if _, err := r.c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
}

func (r *rawH2) ping(t *testing.T, data [8]byte) {
	t.Helper()
	r.write(t, frameBytes(framePing, 0, 0, data[:]))
}

// next is the server's next frame of type typ within d; ok false when the
// connection ended or d passed first.
func (r *rawH2) next(typ byte, d time.Duration) (frame, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case f, ok := <-r.frames:
			if !ok {
				return frame{}, false
			}
			if f.typ == typ {
				return f, true
			}
		case <-t.C:
			return frame{}, false
		}
	}
}
