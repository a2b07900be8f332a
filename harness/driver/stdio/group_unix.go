//go:build unix

package stdio

import (
	"os/exec"
	"syscall"
)

// ownGroup starts the program as the leader of a new process group, so that
// one signal to the group reaches whatever it started (a `node` under an
// `npm`, a shell's children).
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// alive reports whether a process with this pid exists (for tests and
// evidence): signal 0 checks without sending.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
