package driver

import (
	"context"
	"errors"
	"testing"
	"time"
)

type probed struct {
	closeErr   error
	closeCtx   context.Context
	closeEnded error // closeCtx.Err() when Close ran
}

func (p *probed) Hello() Hello                          { return Hello{SDK: "x", Version: "1"} }
func (p *probed) Do(context.Context, Op) (Reply, error) { return Reply{}, nil }
func (p *probed) Close(ctx context.Context) error {
	p.closeCtx, p.closeEnded = ctx, ctx.Err()
	return p.closeErr
}
func factoryOf(d Driver, err error) Factory {
	return func(context.Context, Sink) (Driver, error) { return d, err }
}

func TestProbe(t *testing.T) {
	bad := errors.New("no hello")
	if _, err := Probe(t.Context(), factoryOf(nil, bad), time.Second); !errors.Is(err, bad) {
		t.Errorf("a driver that cannot start: err %v, want %v", err, bad)
	}
	ok := &probed{}
	if h, err := Probe(t.Context(), factoryOf(ok, nil), time.Second); err != nil || h.SDK != "x" {
		t.Errorf("a clean probe: %+v, %v", h, err)
	}
	// The close is bounded on its own, even once the caller's ctx is done.
	done, cancel := context.WithCancel(t.Context())
	cancel()
	slow := &probed{closeErr: errors.New("killed")}
	h, err := Probe(done, factoryOf(slow, nil), time.Second)
	if h.SDK != "x" || !errors.Is(err, ErrProbeClose) {
		t.Errorf("a driver that said hello and closed badly: %+v, %v; want its hello and ErrProbeClose", h, err)
	}
	if slow.closeEnded != nil {
		t.Error("the close ran under the caller's ended ctx: it must have its own bound")
	}
	if dl, ok := slow.closeCtx.Deadline(); !ok || time.Until(dl) > time.Second {
		t.Errorf("the close's deadline %v: want within the probe's bound", dl)
	}
}
