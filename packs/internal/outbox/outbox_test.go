package outbox

import (
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func TestQueueBoundsAndCloses(t *testing.T) {
	q := New(10)
	if r := q.Push(Item{Data: []byte("12345678")}); r != Pushed {
		t.Fatalf("first push: %v", r)
	}
	if r := q.Push(Item{Data: []byte("abc")}); r != Full {
		t.Fatalf("past the bound: %v, want Full", r)
	}
	if !q.Terminate("refused", []byte("bye")) || q.Terminate("other", nil) {
		t.Fatal("the first Terminate takes, a second does not")
	}
	if r := q.Push(Item{Data: []byte("x")}); r != Closing || !q.Closing() {
		t.Fatalf("after Terminate: %v, closing %v", r, q.Closing())
	}
	if got := q.Close(); got != "refused" {
		t.Fatalf("Close gives the Terminate's reason, got %q", got)
	}
}

// Write records each frame's event and marks it written before the
// frame reaches the socket, writes the batch in order, and says when the
// Terminate's frame went.
func TestWriteRecordsThenWrites(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	q := New(1 << 10)
	var marked atomic.Bool
	q.Push(Item{Data: []byte("one,"), Event: &history.Event{Kind: "deliver", Seq: 1}, Written: &marked})
	q.Terminate("done", []byte("two"))
	var recorded []history.Event
	got := make(chan string, 1)
	go func() { all, _ := io.ReadAll(b); got <- string(all) }()
	_, last, failed := q.Write(a, time.Second, func(e history.Event) {
		if !marked.Load() {
			t.Error("the event was recorded before Written was marked")
		}
		recorded = append(recorded, e)
	}, nil)
	a.Close()
	if failed != "" || !last {
		t.Fatalf("last %v, failed %q", last, failed)
	}
	if s := <-got; s != "one,two" {
		t.Fatalf("wrote %q", s)
	}
	if len(recorded) != 1 || recorded[0].Seq != 1 {
		t.Fatalf("recorded %+v", recorded)
	}
}

// A write into a closed connection is the client gone (eof); one that
// outlives its deadline is a client that stopped reading.
func TestWriteReasons(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a.Close() // a connection already closed under the writer (net.ErrClosed)
	q := New(1 << 10)
	q.Push(Item{Data: []byte("x")})
	if _, _, failed := q.Write(a, time.Second, func(history.Event) {}, nil); failed != ReasonEOF {
		t.Fatalf("closed connection: %q, want eof", failed)
	}
	c, d := net.Pipe()
	defer c.Close()
	defer d.Close()
	q.Push(Item{Data: []byte("never read")})
	if _, _, failed := q.Write(c, 20*time.Millisecond, func(history.Event) {}, nil); !strings.HasPrefix(failed, ReasonErrorPrefix+"write timeout after 20ms") {
		t.Fatalf("unread: %q", failed)
	}
}
