package client

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test must leave no goroutine behind: Close and failed Connects
// clean up after themselves.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
