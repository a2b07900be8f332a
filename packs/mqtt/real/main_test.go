package real

import (
	"testing"

	"go.uber.org/goleak"
)

// Every process, log pump and harness connection ends with Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
