package proxy

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// echo is a tiny TCP echo upstream that counts the connections it accepts
// (the server-side evidence a link must preserve).
type echo struct {
	ln      net.Listener
	accepts atomic.Int64
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]bool
}

func newEcho(t *testing.T) *echo {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echo{ln: ln, conns: map[net.Conn]bool{}}
	e.wg.Add(1)
	go e.serve()
	t.Cleanup(e.close)
	return e
}

func (e *echo) addr() string { return e.ln.Addr().String() }

func (e *echo) serve() {
	defer e.wg.Done()
	for {
		c, err := e.ln.Accept()
		if err != nil {
			return
		}
		e.accepts.Add(1)
		e.mu.Lock()
		e.conns[c] = true
		e.mu.Unlock()
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			_, _ = io.Copy(c, c)
			c.Close()
			e.mu.Lock()
			delete(e.conns, c)
			e.mu.Unlock()
		}()
	}
}

func (e *echo) close() {
	e.ln.Close()
	e.mu.Lock()
	for c := range e.conns {
		c.Close()
	}
	e.mu.Unlock()
	e.wg.Wait()
}

// waitAccepts waits (bounded) until the upstream has accepted n connections.
func (e *echo) waitAccepts(t *testing.T, n int64) {
	t.Helper()
	eventually(t, time.Second, func() bool { return e.accepts.Load() >= n }, "upstream accepts >= %d (got %d)", n, e.accepts.Load())
}

func eventually(t *testing.T, within time.Duration, ok func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: "+msg, args...)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads it back within d, returning the elapsed time.
func roundTrip(c net.Conn, msg string, d time.Duration) (time.Duration, error) {
	start := time.Now()
	_ = c.SetDeadline(start.Add(d))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte(msg)); err != nil {
		return 0, err
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		return 0, err
	}
	if string(buf) != msg {
		return 0, errors.New("echo mismatch: " + string(buf))
	}
	return time.Since(start), nil
}

func mustEcho(t *testing.T, c net.Conn) time.Duration {
	t.Helper()
	rtt, err := roundTrip(c, "ping", 2*time.Second)
	if err != nil {
		t.Fatalf("echo through link: %v", err)
	}
	return rtt
}

// readClosed asserts that c is closed by its peer (EOF or reset, not a
// timeout) within d, and returns how long that took.
func readClosed(t *testing.T, c net.Conn, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(d))
	buf := make([]byte, 64)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue // leftovers; the close comes after them
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection still open after %v", d)
		}
		return time.Since(start)
	}
}

// readNothing asserts that nothing arrives on c within d and it stays open.
func readNothing(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	n, err := c.Read(make([]byte, 64))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want silence for %v, got %d bytes, err %v", d, n, err)
	}
}

func newLog() *history.Log { return history.NewLog(history.NewClock()) }

// faultEvents returns the link's fault.on and fault.off events.
func faultEvents(l *history.Log) (on, off history.History) {
	h := l.Events()
	return h.Kind(history.KindFaultOn), h.Kind(history.KindFaultOff)
}
