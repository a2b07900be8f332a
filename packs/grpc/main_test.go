package grpc

import (
	"testing"

	"go.uber.org/goleak"
)

// Every server and client ends with the test that started it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
