//go:build !linux

package server

import (
	"net"
	"time"
)

// setUserTimeout: grpc-go sets TCP_USER_TIMEOUT on Linux only
// (internal/syscall/syscall_nonlinux.go is a no-op).
func setUserTimeout(net.Conn, time.Duration) {}
