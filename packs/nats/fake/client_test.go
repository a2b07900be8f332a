package fake

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/nats/wire"
)

// wait bounds every wait of the tests.
const wait = 3 * time.Second

// start starts a server recording into a fresh log, closed with the test.
func start(t *testing.T, opts Options) (*Server, *history.Log) {
	t.Helper()
	log := history.NewLog(history.NewClock())
	s, err := Start("s1", log, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, log
}

// client is a NATS client spoken by hand over a raw TCP connection.
type client struct {
	t    *testing.T
	nc   net.Conn
	r    *bufio.Reader
	info wire.Info
}

func dial(t *testing.T, s *Server) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.Addr(), wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	c := &client{t: t, nc: nc, r: bufio.NewReader(nc)}
	c.info = c.readInfo()
	return c
}

func (c *client) send(s string) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// line reads one line (without CRLF), failing the test after wait.
func (c *client) line() string {
	c.t.Helper()
	l, err := c.tryLine(wait)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return l
}

func (c *client) tryLine(d time.Duration) (string, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	l, err := c.r.ReadString('\n')
	return strings.TrimRight(l, "\r\n"), err
}

func (c *client) expect(want string) {
	c.t.Helper()
	if got := c.line(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

func (c *client) readInfo() wire.Info {
	c.t.Helper()
	l := c.line()
	js, ok := strings.CutPrefix(l, "INFO ")
	if !ok {
		c.t.Fatalf("want INFO, got %q", l)
	}
	var in wire.Info
	if err := json.Unmarshal([]byte(js), &in); err != nil {
		c.t.Fatalf("INFO %s: %v", js, err)
	}
	return in
}

// handshake sends CONNECT (protocol 1, headers, not verbose) and PING, and
// waits for the PONG.
func (c *client) handshake(name string) {
	c.t.Helper()
	c.send(`CONNECT {"verbose":false,"pedantic":false,"name":"` + name + `","lang":"raw","version":"0","protocol":1,"headers":true}` + "\r\nPING\r\n")
	c.expect("PONG")
}

// msg reads a MSG: its subject, sid and payload.
func (c *client) msg() (string, string, string) {
	c.t.Helper()
	l := c.line()
	f := strings.Fields(l)
	if len(f) < 4 || f[0] != "MSG" {
		c.t.Fatalf("want MSG, got %q", l)
	}
	n, _ := strconv.Atoi(f[len(f)-1])
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(c.r, buf); err != nil {
		c.t.Fatalf("MSG payload: %v", err)
	}
	return f[1], f[2], string(buf[:n])
}

// closed reads until the server closes the connection, and returns what
// came before.
func (c *client) closed() []string {
	c.t.Helper()
	var lines []string
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		l, err := c.tryLine(time.Until(deadline))
		if err != nil {
			if errors.Is(err, io.EOF) || isReset(err) {
				return lines
			}
			c.t.Fatalf("waiting for close: %v (read %q)", err, lines)
		}
		lines = append(lines, l)
	}
	c.t.Fatalf("not closed within %v (read %q)", wait, lines)
	return nil
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

// silent checks that nothing arrives for d.
func (c *client) silent(d time.Duration) {
	c.t.Helper()
	if l, err := c.tryLine(d); err == nil {
		c.t.Fatalf("got %q, want nothing", l)
	}
}

// waitEvent waits for an event that match accepts, and returns it.
func waitEvent(t *testing.T, log *history.Log, what string, match func(history.Event) bool) history.Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		for _, e := range log.Events() {
			if match(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v; history:\n%s", what, wait, log.Events())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kind matches events of one kind on one connection ("" any).
func kind(k, conn string) func(history.Event) bool {
	return func(e history.Event) bool {
		return e.Kind == k && (conn == "" || e.Conn == conn) && e.Source == history.SrcServer && e.Server == "s1"
	}
}
