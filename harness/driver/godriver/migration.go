package godriver

import (
	"context"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/harness/driver"
)

// requestOp runs the request and cancel ops (Open Server's): a request's id
// is the op's id, on the wire too, so the servers' evidence names it.
func (d *Driver) requestOp(ctx context.Context, op driver.Op) (bool, error) {
	switch op.Op {
	case driver.OpRequest, driver.OpCancel:
	default:
		return false, nil
	}
	s, err := d.session()
	if err != nil {
		return true, err
	}
	if op.Op == driver.OpRequest {
		return true, s.Request(ctx, op.ID, int64(op.Rows))
	}
	return true, s.Cancel(ctx, op.Request)
}

// migrationOptions applies options.migration and reports rows, dones and
// migration steps as driver events.
func (d *Driver) migrationOptions(o *client.Options, co driver.ConnectOptions) {
	if m := co.Migration; m != nil {
		o.Migration = m.Enabled
		if m.TimeoutMS > 0 {
			o.MigrationTimeout = driver.Dur(float64(m.TimeoutMS))
		}
	}
	o.OnRow = func(req, n int64) {
		d.sink(driver.Event{Type: driver.EvRow, Request: req, N: n})
	}
	o.OnDone = func(req int64, cancelled bool) {
		d.sink(driver.Event{Type: driver.EvDone, Request: req, Cancelled: cancelled})
	}
	o.OnMigration = func(e client.MigrationEvent) {
		d.sink(driver.Event{Type: driver.EvMigration, State: e.State, Target: e.Target, Reason: e.Reason})
	}
}
