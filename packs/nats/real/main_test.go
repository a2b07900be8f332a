package real

import (
	"testing"

	"go.uber.org/goleak"
)

// Every server, publisher and lame duck goroutine ends with Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
