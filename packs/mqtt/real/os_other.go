//go:build !linux

package real

import "syscall"

// procAttr: no parent-death signal outside Linux; the server's Close and
// Kill end the process.
func procAttr() *syscall.SysProcAttr { return nil }

// killGroup: the caller kills the process itself.
func killGroup(int) {}
