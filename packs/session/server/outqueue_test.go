package server

import (
	"testing"

	"github.com/faultline/faultline/wire"
)

// The writer's queue keeps order, refuses past its limit as a full channel
// would, and keeps a ready token exactly while something is queued.
func TestOutQueue(t *testing.T) {
	q := newOutQueue(2)
	for i, want := range []bool{true, true, false} {
		if got := q.push(outItem{f: wire.Frame{Seq: int64(i)}}); got != want {
			t.Fatalf("push %d = %v, want %v", i, got, want)
		}
	}
	for i := 0; i < 2; i++ {
		select {
		case <-q.ready:
		default:
			t.Fatalf("no ready token with %d queued", 2-i)
		}
		it, ok := q.pop()
		if !ok || it.f.Seq != int64(i) {
			t.Fatalf("pop %d = %v %v", i, it.f.Seq, ok)
		}
	}
	select {
	case <-q.ready:
		t.Fatal("ready token left on an empty queue")
	default:
	}
	if _, ok := q.pop(); ok {
		t.Fatal("pop from an empty queue")
	}
	if !q.push(outItem{}) {
		t.Fatal("a drained queue refuses")
	}
}
