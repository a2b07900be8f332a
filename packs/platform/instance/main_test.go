package instance

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test closes what it starts: no goroutine may outlive the package's tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
