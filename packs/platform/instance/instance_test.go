package instance

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire/platform"
)

// An instance welcomes a router, records and acknowledges every part, pings,
// and records how the connection ended.
func TestInstanceRecordsParts(t *testing.T) {
	log := history.NewLog(history.NewClock())
	s, err := Start("s1", log, Options{Ping: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	write := func(f platform.Frame) {
		t.Helper()
		if err := ws.Write(ctx, websocket.MessageText, platform.Encode(f)); err != nil {
			t.Fatal(err)
		}
	}
	read := func() platform.Frame {
		t.Helper()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f, err := platform.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.T != platform.TPing {
				return f
			}
		}
	}
	write(platform.Frame{T: platform.THello, Router: "r"})
	if w := read(); w.T != platform.TWelcome || w.Instance != "s1" || w.PingMS != 20 {
		t.Fatalf("welcome: %+v", w)
	}
	write(platform.Frame{T: platform.TReq, ID: "7", Edge: "e1", Part: 1, Parts: 2, Data: []byte(`"a"`)})
	write(platform.Frame{T: platform.TReq, ID: "7", Edge: "e1", Part: 2, Parts: 2, Data: []byte(`"b"`)})
	for part := 1; part <= 2; part++ {
		if a := read(); a.T != platform.TAck || a.ID != "7" || a.Part != part || a.Status != 200 {
			t.Fatalf("ack %d: %+v", part, a)
		}
	}
	if err := ws.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(log.Events().Kind(history.KindConnClose)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no conn.close:\n%s", log.Events())
		}
		time.Sleep(2 * time.Millisecond)
	}
	h := log.Events()
	kinds := ""
	for _, e := range h {
		kinds += e.Kind + " "
	}
	if want := "accept route.connect route.receive route.receive conn.close "; kinds != want {
		t.Errorf("recorded %q, want %q\n%s", kinds, want, h)
	}
	if r := h.Kind(KindRouteReceive)[1]; r.Attr("id") != "7" || r.Attr("part") != "2" || r.Attr("parts") != "2" || r.Attr("edge") != "e1" || r.Attr("bytes") == "" || r.Conn != "s1#1" {
		t.Errorf("receive: %v", r)
	}
	if c := h.Kind(history.KindConnClose)[0]; c.Reason != ReasonClosedByRouter {
		t.Errorf("close reason %q, want %q", c.Reason, ReasonClosedByRouter)
	}
}

func TestInstanceRejectsABadHello(t *testing.T) {
	log := history.NewLog(history.NewClock())
	s, err := Start("s1", log, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	_ = ws.Write(ctx, websocket.MessageText, platform.Encode(platform.Frame{T: platform.TReq, ID: "1", Part: 1, Parts: 1}))
	if _, _, err := ws.Read(ctx); err == nil {
		t.Fatal("the instance answered a req before any hello")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(log.Events().Kind(history.KindConnClose)) == 0 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if c := log.Events().Kind(history.KindConnClose); len(c) != 1 || c[0].Reason != ReasonBadHello || len(log.Events().Kind(KindRouteConnect)) != 0 {
		t.Errorf("want one conn.close %s and no route.connect:\n%s", ReasonBadHello, log.Events())
	}
}
