//go:build linux

package server

import (
	"net"
	"syscall"
	"time"
)

// tcpUserTimeout is TCP_USER_TIMEOUT (linux/tcp.h), which the syscall
// package does not name.
const tcpUserTimeout = 0x12

// setUserTimeout does for a connection what grpc-go does for every server
// connection whose keepalive Time is not infinite (its default is 2 h):
// TCP_USER_TIMEOUT = keepalive Timeout (internal/transport/http2_server.go
// NewServerTransport → internal/syscall SetTCPUserTimeout). grpc-go does it
// only on a *net.TCPConn, which the wrapped connection it is given is not,
// so the server does it on the raw one before wrapping it.
func setUserTimeout(c net.Conn, d time.Duration) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, int(d/time.Millisecond))
	})
}
