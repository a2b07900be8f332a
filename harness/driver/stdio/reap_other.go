//go:build !linux

package stdio

import "errors"

// waitExited is Linux-only (waitid with WNOWAIT); elsewhere the leader is
// reaped first and its leftover children are not killed by group.
func waitExited(int) error { return errors.New("waitid WNOWAIT: not on this system") }
