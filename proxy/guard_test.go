package proxy

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Without the guard, Toxiproxy leaves two goroutines per connection that a
// reset_peer or limit_data closes while its client keeps writing.
func TestClosingToxicsLeaveNoGoroutine(t *testing.T) {
	cases := []struct {
		verb  string
		attrs any
	}{
		{"reset", &ResetAttrs{Timeout: 30 * time.Millisecond}}, // sender writes during the delay
		{"reset", nil},
		{"cut", nil},
		{"limit", &LimitAttrs{Bytes: 16}},
	}
	for _, c := range cases {
		t.Run(c.verb, func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			t.Run("run", func(t *testing.T) {
				l, _, _ := setup(t, newTestEmbedded)
				apply(t, l, c.verb, c.attrs, "")
				var wg sync.WaitGroup
				for range 8 {
					conn := dial(t, l.Addr())
					wg.Go(func() {
						_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
						for range 200 {
							if _, err := conn.Write([]byte("xxxxxxxxxxxxxxxx")); err != nil {
								break
							}
						}
						_, _ = io.Copy(io.Discard, conn) // until the link closes it
					})
				}
				wg.Wait()
			})
			goleak.VerifyNone(t, before)
		})
	}
}

// The guard must never drop data it is not sure the guarded toxic would:
// a stream survives limit faults (with room to spare) coming and going.
func TestGuardKeepsData(t *testing.T) {
	l, _, _ := setup(t, newTestEmbedded)
	conn := dial(t, l.Addr())
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id, err := l.Apply(context.Background(), "limit", &LimitAttrs{Bytes: 1 << 30}, Direction([]string{"both", "upstream", "downstream"}[i%3]))
			if err == nil {
				time.Sleep(time.Duration(i%3) * time.Millisecond)
				err = l.Heal(context.Background(), id)
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	msg := bytes.Repeat([]byte("0123456789abcdef"), 64)
	buf := make([]byte, len(msg))
	deadline := time.Now().Add(300 * time.Millisecond)
	n := 0
	for ; time.Now().Before(deadline); n++ {
		_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := conn.Write(msg); err != nil {
			t.Fatalf("round %d: %v", n, err)
		}
		if _, err := io.ReadFull(conn, buf); err != nil || !bytes.Equal(buf, msg) {
			t.Fatalf("round %d: %v (data intact: %v)", n, err, bytes.Equal(buf, msg))
		}
	}
	close(stop)
	wg.Wait()
	if n < 10 {
		t.Fatalf("only %d rounds", n)
	}
}
