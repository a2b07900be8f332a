//go:build !unix

package router

// setSndbuf is a no-op where the socket option is not reachable this way.
func setSndbuf(uintptr, int) error { return nil }
