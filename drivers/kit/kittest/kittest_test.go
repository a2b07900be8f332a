package kittest

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit"
)

type contract struct {
	Delay kit.Term `json:"delay"`
}

// fake is a driver on kit.Serve whose connect walks a client through
// CONNECTING and CONNECTED_ACTIVE, and whose close closes it.
type fake struct{ out *kit.Output }

func (f fake) Do(o kit.Op) kit.Reply[contract] {
	switch o.Op {
	case "connect":
		f.out.Send(kit.Event{Type: "state", To: kit.Connecting, Phase: kit.Phase(kit.Connecting), Native: "dial", Client: o.Client})
		f.out.Send(kit.Event{Type: "state", From: kit.Connecting, To: kit.Active, Phase: kit.Phase(kit.Active), Native: "up", Client: o.Client})
		return kit.Reply[contract]{OK: true, Contract: &contract{kit.Term{Value: "constant", Cite: "fake: x"}}}
	case "close":
		f.out.Send(kit.Event{Type: "state", From: kit.Active, To: kit.ClosedByClient, Phase: kit.Phase(kit.ClosedByClient), Native: "close", Reason: "closed_by_client", Client: o.Client})
		return kit.Reply[contract]{OK: true}
	}
	return kit.Reply[contract]{Error: "unknown op"}
}

func (fake) CloseAll() {}

func TestRig(t *testing.T) {
	r := NewRig(t, 5*time.Second, func(in io.Reader, out io.Writer) {
		o := kit.NewOutput(out)
		kit.Serve[contract](in, o, kit.Hello[contract]{SDK: "fake"}, fake{o})
	})
	if h := r.WaitFor("the hello", func(l Line) bool { return l["sdk"] != nil }); h["sdk"] != "fake" {
		t.Errorf("hello %v", h)
	}
	l := r.Do(map[string]any{"op": "connect", "client": 2, "options": Options(50, func(o map[string]any) { Sub(o, "reconnect")["enabled"] = false })})
	if l["ok"] != true || l["re"] != float64(1_000_000_000*2+1) {
		t.Errorf("connect reply %v", l)
	}
	if c := l["contract"].(map[string]any); Unsupported(c) == nil || len(AsList(c["unsupported"])) != 0 {
		t.Errorf("contract %v", c)
	}
	r.State(2, kit.Active)
	r.Do(map[string]any{"op": "close", "client": 2})
	if n := len(r.States(2)); n != 3 || len(r.Events(-1, "state")) != 0 {
		t.Errorf("%d states:\n%s", n, Dump(r.Snapshot()))
	}
	r.CheckLifecycle(2)
	if n := CountType(r.Snapshot(), "state"); n != 3 {
		t.Errorf("CountType %d", n)
	}
	if d := Dump([]Line{l}); !strings.Contains(d, `"contract":"…"`) {
		t.Errorf("Dump %s", d)
	}
	r.Mu.Lock()
	if len(r.At) != len(r.Lines) {
		t.Errorf("%d stamps for %d lines", len(r.At), len(r.Lines))
	}
	r.Mu.Unlock()
}
