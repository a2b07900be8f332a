package client_test

import (
	"testing"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/harness/driver"
)

// The engine repeats the driver protocol's strings (to stay importable by a
// driver); they must never drift.
func TestStringsMatchDriverContract(t *testing.T) {
	pairs := map[string]string{
		string(client.Connecting):          driver.Connecting,
		string(client.ConnectedActive):     driver.ConnectedActive,
		string(client.RecoveringReconnect): driver.RecoveringReconnect,
		string(client.ClosedByClient):      driver.ClosedByClient,
		string(client.ClosedByServer):      driver.ClosedByServer,
		string(client.ClosedFailed):        driver.ClosedFailed,
		client.ReasonClosedByClient:        driver.ReasonClosedByClient,
		client.ReasonClosedByServer:        driver.ReasonClosedByServer,
		client.ReasonReconnectAborted:      driver.ReasonReconnectAborted,
		client.ReasonReconnectTimeout:      driver.ReasonReconnectTimeout,
		client.ReasonConnectionError:       driver.ReasonConnectionError,
		client.ReasonConnectionLost:        driver.ReasonConnectionLost,
		client.ReasonHandshake:             driver.ReasonHandshake,
		client.ReasonAccessDenied:          driver.ReasonAccessDenied,
		client.ReasonUnknownSession:        driver.ReasonUnknownSession,
		client.ReasonLostMessages:          driver.ReasonLostMessages,
	}
	for ours, theirs := range pairs {
		if ours != theirs {
			t.Errorf("%q != driver's %q", ours, theirs)
		}
	}
	for _, s := range []client.State{client.ClosedByClient, client.ClosedByServer, client.ClosedFailed, client.Connecting} {
		if s.Closed() != driver.IsClosed(string(s)) {
			t.Errorf("Closed(%s) disagrees with the driver", s)
		}
	}
}
