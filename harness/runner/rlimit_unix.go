//go:build linux || darwin

package runner

import "syscall"

// raiseNoFile raises RLIMIT_NOFILE's soft limit to need when it is lower,
// and the hard limit with it when that is lower too (which takes privilege:
// CAP_SYS_RESOURCE on Linux). It returns the limits in force afterwards,
// and the error of a raise that was refused.
func raiseNoFile(need uint64) (soft, hard uint64, err error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, 0, err
	}
	if uint64(r.Cur) >= need {
		return uint64(r.Cur), uint64(r.Max), nil
	}
	want := r
	want.Cur = need
	if uint64(want.Max) < need {
		want.Max = need
	}
	if err = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil && uint64(r.Max) > uint64(r.Cur) {
		// The hard limit stays: take what it allows.
		want.Cur, want.Max = r.Max, r.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
	}
	if gerr := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); gerr != nil {
		return 0, 0, gerr
	}
	return uint64(r.Cur), uint64(r.Max), err
}
