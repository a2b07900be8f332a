package wire

import (
	"fmt"
	"strconv"
)

// checkRequests validates the request and migration fields of a decoded frame.
func checkRequests(f Frame) error {
	for id, n := range f.Pending {
		if v, err := strconv.ParseInt(id, 10, 64); err != nil || v <= 0 || strconv.FormatInt(v, 10) != id {
			return fmt.Errorf("%w: pending request id %q is not a positive integer", ErrFrame, id)
		}
		if n < 0 {
			return fmt.Errorf("%w: negative row in pending", ErrFrame)
		}
	}
	for _, id := range f.Reqs {
		if id <= 0 {
			return fmt.Errorf("%w: request id %d in reqs is not positive", ErrFrame, id)
		}
	}
	switch f.T {
	case TReq:
		if f.Req == 0 || f.Rows == 0 {
			return fmt.Errorf("%w: req frame needs req and rows", ErrFrame)
		}
	case TRow:
		if f.Req == 0 || f.N == 0 {
			return fmt.Errorf("%w: row frame needs req and n", ErrFrame)
		}
	case TDone, TAttn:
		if f.Req == 0 {
			return fmt.Errorf("%w: %s frame without req", ErrFrame, f.T)
		}
	case TMigrate:
		switch {
		case f.Mig == "":
			return fmt.Errorf("%w: migrate frame without mig", ErrFrame)
		case f.State != MigRequested && f.State != MigMigrating && f.State != MigCancelled:
			return fmt.Errorf("%w: migrate frame with state %q (REQUESTED, MIGRATING, CANCELLED)", ErrFrame, f.State)
		case f.State != MigCancelled && f.Target == "":
			return fmt.Errorf("%w: migrate %s frame without target", ErrFrame, f.State)
		}
	case TMigReady, TMigFailed, TMigLeaving:
		if f.Mig == "" {
			return fmt.Errorf("%w: %s frame without mig", ErrFrame, f.T)
		}
	}
	return nil
}

// PendingKey is the key of a request id in a hello's pending map.
func PendingKey(id int64) string { return strconv.FormatInt(id, 10) }
