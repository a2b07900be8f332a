//go:build unix

package selftest

import (
	"os/exec"
	"syscall"
)

// ownGroup starts the driver as the leader of a process group of its own,
// as the harness does, so that one kill takes its children too (a node
// under a shell launcher).
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
