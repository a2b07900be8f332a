package real

import "syscall"

// procAttr: mosquitto leads its own process group (one signal ends it and
// anything it started), and the kernel kills it if the harness dies first
// (the signal is tied to the thread that started it, which the Go runtime
// keeps while the program runs).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
