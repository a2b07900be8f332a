package client

import (
	"encoding/json"

	"github.com/faultline/faultline/wire"
)

// event is anything posted to the loop's mailbox.
type event any

type (
	evSend struct {
		payload json.RawMessage
		reply   chan error
	}
	evSubscribe struct {
		topic string
		reply chan error
	}
	evClose  struct{}
	evStart  struct{ a *attempt }
	evAbort  struct{ a *attempt }
	evDialed struct {
		a   *attempt
		ans answer
	}
	evFrame struct {
		c *conn
		f wire.Frame
	}
	evLost struct {
		c   *conn
		err error
	}
)
