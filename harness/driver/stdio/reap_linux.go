//go:build linux

package stdio

import (
	"syscall"
	"unsafe"
)

// waitExited blocks until the process has exited but leaves it unreaped (a
// zombie): its pid, and so its process-group id, cannot be reused while we
// kill the group's leftover members. waitid(P_PID, pid, WEXITED|WNOWAIT).
func waitExited(pid int) error {
	const (
		pPID    = 1
		wExited = 0x4
		wNoWait = 0x1000000
	)
	var info [128]byte // siginfo_t
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid), uintptr(unsafe.Pointer(&info[0])), wExited|wNoWait, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}
