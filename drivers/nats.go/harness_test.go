package main

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit/kittest"
	"github.com/nats-io/nats-server/v2/server"
)

// wait bounds every wait of the tests.
const wait = 10 * time.Second

// runServer starts an embedded nats-server on a free port (port 0) or on
// the given one (a restart).
func runServer(t *testing.T, port int) *server.Server {
	t.Helper()
	if port == 0 {
		port = -1
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(wait) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}

func urlOf(s *server.Server) string {
	return fmt.Sprintf("nats://127.0.0.1:%d", s.Addr().(*net.TCPAddr).Port)
}

func portOf(s *server.Server) int { return s.Addr().(*net.TCPAddr).Port }

// deadURL is a URL nobody listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "nats://" + l.Addr().String()
	l.Close()
	return u
}

type line = kittest.Line

// newRig runs a Driver on pipes and records every line it writes.
func newRig(t *testing.T) *kittest.Rig {
	t.Helper()
	return kittest.NewRig(t, wait, func(in io.Reader, out io.Writer) {
		New(out, func(string) string { return "" }).Serve(in)
	})
}

// options is a scenario client block as the harness renders it.
func options(mod func(map[string]any)) map[string]any { return kittest.Options(50, mod) }
