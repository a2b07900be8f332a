package stdio

import (
	"strconv"

	"github.com/faultline/faultline/harness/driver"
)

// Error is a driver program's failure with its evidence. It wraps
// driver.ErrDriver (the runner's mark of a failed driver) and, for an op that
// ran out of time or was abandoned, the context's error too, so the runner
// can tell a hang from the end of a run.
type Error struct {
	// What went wrong, with the offending line quoted where there is one.
	What string
	// Stderr is the tail of the program's stderr when the error was made.
	Stderr string
	// Dropped is true when Stderr is only the tail (earlier bytes dropped).
	Dropped bool
	cause   error
}

func (e *Error) Error() string {
	s := driver.ErrDriver.Error() + ": " + e.What
	switch {
	case e.Stderr == "":
		s += "; stderr: (empty)"
	case e.Dropped:
		s += "; stderr tail: …" + strconv.Quote(e.Stderr)
	default:
		s += "; stderr: " + strconv.Quote(e.Stderr)
	}
	return s
}

// Unwrap lets errors.Is find driver.ErrDriver and the context's error.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{driver.ErrDriver, e.cause}
	}
	return []error{driver.ErrDriver}
}
