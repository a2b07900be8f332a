package router

import (
	"syscall"
)

// sendBuffer returns a dialer Control that sets SO_SNDBUF to n bytes (nil
// when n is 0: the OS default).
func sendBuffer(n int) func(network, address string, c syscall.RawConn) error {
	if n <= 0 {
		return nil
	}
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = setSndbuf(fd, n)
		})
		if err != nil {
			return err
		}
		return serr
	}
}
