package server

import (
	"testing"

	"go.uber.org/goleak"
)

// Every server, connection's grpc.Server, drain and client ends with the test that started
// it: no goroutine may outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
