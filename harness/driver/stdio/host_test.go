package stdio

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/stdio/stdiotest"
)

// multi is a multi-session fake process with clients placed in it: the
// first started by the factory, the rest opened on it. Each client has its
// own sink. Everything is closed, and the process gone, by the test's end.
type multi struct {
	views []driver.Driver
	evs   []*events
}

func startMulti(t *testing.T, batch int, clients []int, flags ...string) *multi {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := driver.NewBatch(batch)
	f := Factory(fake(flags...))
	m := &multi{}
	for i, c := range clients {
		ev := &events{}
		sctx := driver.WithSlot(ctx, b, c)
		var d driver.Driver
		var err error
		if i == 0 {
			d, err = f(sctx, ev.sink)
		} else {
			d, err = m.views[0].(driver.Host).Open(sctx, ev.sink)
		}
		if err != nil {
			t.Fatalf("place client %d: %v", c, err)
		}
		m.views, m.evs = append(m.views, d), append(m.evs, ev)
	}
	pid := m.views[0].(*view).PID()
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		for _, v := range m.views {
			_ = v.Close(cctx)
		}
		assertGone(t, pid)
	})
	return m
}

func (m *multi) do(t *testing.T, i int, id int64, op string, within time.Duration) (driver.Reply, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return m.views[i].Do(ctx, driver.Op{ID: id, Op: op, Topic: "t"})
}

func TestMultiSessionDemuxesEventsByClient(t *testing.T) {
	m := startMulti(t, 8, []int{5, 6, 7}, "-sessions", "4", "-announce")
	v0 := m.views[0].(*view)
	if h := v0.Hello(); h.Sessions != 4 || v0.Sessions() != 4 {
		t.Fatalf("hello %+v: want sessions 4", h)
	}
	var wg sync.WaitGroup
	for i := range m.views {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// ids unique per process: the runner's job, imitated here
			if rep, err := m.do(t, i, int64(i+1)*1000+1, driver.OpConnect, 5*time.Second); err != nil || !rep.OK {
				t.Errorf("client %d connect: %+v %v", i, rep, err)
			}
		}()
	}
	wg.Wait()
	for i, c := range []int{5, 6, 7} {
		evs := m.evs[i].all()
		if len(evs) != 3 { // the announce, then CONNECTING and CONNECTED_ACTIVE
			t.Fatalf("client %d: events %+v, want its own three", c, evs)
		}
		// the driver number is the client's place in the batch, whatever
		// process it is in; the seed is the run's
		want := fmt.Sprintf("connect driver=%d seed=1 pid=%d", c+1, v0.PID())
		if evs[0].Text != want || evs[0].Client == nil || *evs[0].Client != c {
			t.Errorf("client %d: announce %q (client %v), want %q", c, evs[0].Text, evs[0].Client, want)
		}
		if evs[1].To != driver.Connecting || evs[2].To != driver.ConnectedActive || *evs[2].Client != c {
			t.Errorf("client %d: state events %+v %+v", c, evs[1], evs[2])
		}
	}
	// a fourth fits, a fifth is over the hello's limit
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	b := driver.NewBatch(8)
	d4, err := v0.Open(driver.WithSlot(ctx, b, 0), func(driver.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	m.views = append(m.views, d4)
	if _, err := v0.Open(driver.WithSlot(ctx, b, 1), func(driver.Event) {}); err == nil || !strings.Contains(err.Error(), "hosts 4 sessions already") {
		t.Errorf("a fifth client: %v", err)
	}
	if _, err := v0.Open(driver.WithSlot(ctx, b, 5), func(driver.Event) {}); err == nil {
		t.Error("placing client 5 twice must fail")
	}
	// closing one client's view leaves the process to the others
	cctx, ccancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer ccancel()
	if err := m.views[1].Close(cctx); err != nil {
		t.Fatal(err)
	}
	if !alive(v0.PID()) {
		t.Fatal("the process ended with three clients still in it")
	}
	if rep, err := m.do(t, 0, 1002, driver.OpSubscribe, 5*time.Second); err != nil || !rep.OK {
		t.Errorf("client 5 after client 6 closed: %+v %v", rep, err)
	}
	if _, err := m.do(t, 1, 2002, driver.OpSubscribe, 5*time.Second); err == nil {
		t.Error("an op on a closed view must fail")
	}
}

func TestMultiSessionEventForAnotherClientFails(t *testing.T) {
	for _, tc := range []struct{ flag, want string }{
		{"99", `event for client 99 on line 2, which this process does not host (it hosts clients 0-1): "{\"type\":\"state\",`},
		{"none", `event without "client" on line 2 from a multi-session driver (its hello declared sessions: 2): "{\"type\":\"state\",`},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			m := startMulti(t, 2, []int{0, 1}, "-sessions", "2", "-event-client", tc.flag)
			_, err := m.do(t, 0, 1, driver.OpConnect, 5*time.Second)
			wantDriverErr(t, err, tc.want)
			_, err = m.do(t, 1, 2, driver.OpConnect, 5*time.Second)
			wantDriverErr(t, err, tc.want) // the other client is failed too
		})
	}
}

func TestMultiSessionCrashFailsEveryHostedClient(t *testing.T) {
	m := startMulti(t, 3, []int{0, 1, 2}, "-sessions", "3", "-mode", stdiotest.Crash, "-only-client", "1")
	if rep, err := m.do(t, 0, 1, driver.OpConnect, 5*time.Second); err != nil || !rep.OK {
		t.Fatalf("client 0: %+v %v", rep, err)
	}
	_, err := m.do(t, 1, 1_000_000_001, driver.OpConnect, 5*time.Second)
	wantDriverErr(t, err, "exited unexpectedly: exit status 2", "panic: fake crash on op 1000000001 connect")
	_, err = m.do(t, 0, 2, driver.OpSubscribe, 5*time.Second)
	wantDriverErr(t, err, "exited unexpectedly: exit status 2", "panic: fake crash")
	// client 2 had no op in flight: its Close tells it, once
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	wantDriverErr(t, m.views[2].Close(ctx), "exited unexpectedly: exit status 2", "panic: fake crash")
	if err := m.views[0].Close(ctx); err != nil {
		t.Errorf("client 0 was told already: %v", err)
	}
}

func TestMultiSessionHangIsBoundedAndFailsEveryClient(t *testing.T) {
	m := startMulti(t, 2, []int{0, 1}, "-sessions", "2", "-mode", stdiotest.Hang, "-only-client", "1")
	if rep, err := m.do(t, 0, 1, driver.OpConnect, 5*time.Second); err != nil || !rep.OK {
		t.Fatalf("client 0: %+v %v", rep, err)
	}
	start := time.Now()
	_, err := m.do(t, 1, 1_000_000_001, driver.OpConnect, 300*time.Millisecond)
	wantDriverErr(t, err, "no reply to op #1000000001 connect for client 1 within 3")
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("the op took %v with a 300ms bound", el)
	}
	assertGone(t, m.views[0].(*view).PID()) // killed at the hang, with every client in it
	_, err = m.do(t, 0, 2, driver.OpSubscribe, 5*time.Second)
	wantDriverErr(t, err, "no reply to op #1000000001 connect for client 1")
}

func TestOneSessionDriverIsUnchanged(t *testing.T) {
	// -sessions 1 declared, or absent: a *Proc as ever, ops without client
	var ev events
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := Factory(fake("-sessions", "1"))(driver.WithSlot(ctx, driver.NewBatch(3), 2), ev.sink)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := d.(*Proc)
	if !ok {
		t.Fatalf("a one-session driver is a %T", d)
	}
	defer func() { _ = p.Close(ctx); assertGone(t, p.PID()) }()
	if _, isHost := d.(driver.Host); isHost {
		t.Error("a one-session driver must not offer to host more")
	}
	if rep, err := p.Do(ctx, driver.Op{ID: 1, Op: driver.OpConnect}); err != nil || !rep.OK {
		t.Fatalf("%+v %v", rep, err)
	}
	if evs := ev.all(); len(evs) != 2 || evs[0].Client != nil || evs[1].Client != nil {
		t.Errorf("events %+v: no client field from a one-session driver", evs)
	}
}
