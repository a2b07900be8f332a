package stdio

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// serveArg makes this test binary a driver served by Serve (stubEngine).
const serveArg = "serve-stub"

// stubEngine is an in-process driver: connect reports two states, "block"
// waits for its ctx, anything else is refused.
type stubEngine struct {
	sink   driver.Sink
	mu     sync.Mutex
	closed bool
}

func (s *stubEngine) Hello() driver.Hello {
	return driver.Hello{SDK: "stub", Version: "1", Features: []string{driver.FeatReconnect}}
}

func (s *stubEngine) Do(ctx context.Context, op driver.Op) (driver.Reply, error) {
	switch op.Op {
	case driver.OpConnect:
		s.sink(driver.Event{Type: driver.EvState, From: "", To: driver.Connecting})
		s.sink(driver.Event{Type: driver.EvState, From: driver.Connecting, To: driver.ConnectedActive, Server: op.Servers[0]})
		return driver.Reply{Re: op.ID, OK: true}, nil
	case "block":
		<-ctx.Done()
		return driver.Reply{}, ctx.Err()
	}
	return driver.Reply{Re: op.ID, OK: false, Error: fmt.Sprintf("unknown op %q", op.Op)}, nil
}

func (s *stubEngine) Close(context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.sink(driver.Event{Type: driver.EvState, From: driver.ConnectedActive, To: driver.ClosedByClient})
	return nil
}

func stubFactory(engine **stubEngine) driver.Factory {
	return func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		sink(driver.Event{Type: driver.EvError, Text: "reported while being made"}) // must still follow the hello
		e := &stubEngine{sink: sink}
		if engine != nil {
			*engine = e
		}
		return e, nil
	}
}

func serveStub() int {
	if err := Serve(context.Background(), stubFactory(nil), os.Stdin, os.Stdout, os.Stderr, 2*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestServeSpeaksTheProtocol(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var engine *stubEngine
	done := make(chan error, 1)
	go func() {
		done <- Serve(context.Background(), stubFactory(&engine), inR, outW, io.Discard, 2*time.Second)
		outW.Close()
	}()
	lines := bufio.NewScanner(outR)
	next := func() line {
		t.Helper()
		if !lines.Scan() {
			t.Fatal("no more lines")
		}
		l, err := parseLine(lines.Bytes(), false)
		if err != nil && !strings.Contains(err.Error(), "second hello") {
			t.Fatalf("line %q: %v", lines.Text(), err)
		}
		return l
	}
	if !lines.Scan() {
		t.Fatal("no hello")
	}
	if l, err := parseLine(lines.Bytes(), true); err != nil || l.hello.SDK != "stub" {
		t.Fatalf("first line %q: %v", lines.Text(), err)
	}
	if l := next(); l.kind != kindEvent || l.event.Text != "reported while being made" {
		t.Fatalf("the queued event should follow the hello: %+v", l)
	}
	send := func(op driver.Op) {
		b, _ := json.Marshal(op)
		if _, err := inW.Write(append(b, '\n')); err != nil {
			t.Fatal(err)
		}
	}
	send(driver.Op{ID: 1, Op: driver.OpConnect, Servers: []string{"ws://a/"}})
	if l := next(); l.event.To != driver.Connecting {
		t.Fatalf("want CONNECTING, got %+v", l)
	}
	if l := next(); l.event.To != driver.ConnectedActive || l.event.Server != "ws://a/" {
		t.Fatalf("want CONNECTED_ACTIVE, got %+v", l)
	}
	if l := next(); l.kind != kindReply || l.reply.Re != 1 || !l.reply.OK {
		t.Fatalf("want reply 1 ok, got %+v", l)
	}
	fmt.Fprintln(inW, "not an op")                                      // logged, ignored
	fmt.Fprintln(inW, `{"id":2,"op":"frobnicate","future_field":true}`) // unknown op: ok false
	if l := next(); l.reply.Re != 2 || l.reply.OK || !strings.Contains(l.reply.Error, "frobnicate") {
		t.Fatalf("unknown op: %+v", l)
	}
	send(driver.Op{ID: 3, Op: "block"}) // in flight at exit: cancelled, answered
	send(driver.Op{ID: 4, Op: driver.OpExit})
	got := map[int64]driver.Reply{}
	for lines.Scan() {
		if l, _ := parseLine(lines.Bytes(), false); l.kind == kindReply {
			got[l.reply.Re] = l.reply
		}
	}
	if !got[4].OK || got[3].OK || !strings.Contains(got[3].Error, "canceled") {
		t.Errorf("replies at exit: %+v", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after exit")
	}
	if !engine.closed {
		t.Error("the engine was not closed")
	}
}

func TestFactoryAndServeTogether(t *testing.T) {
	var ev events
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := Factory([]string{os.Args[0], serveArg})(ctx, ev.sink)
	if err != nil {
		t.Fatal(err)
	}
	p := d.(*Proc)
	if p.Hello().SDK != "stub" {
		t.Fatalf("hello %+v", p.Hello())
	}
	rep, err := p.Do(ctx, driver.Op{ID: 1, Op: driver.OpConnect, Servers: []string{"ws://s/"}})
	if err != nil || !rep.OK {
		t.Fatalf("connect: %+v %v", rep, err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	assertGone(t, p.PID())
	var tos []string
	for _, e := range ev.all() {
		tos = append(tos, e.Type+":"+e.To)
	}
	// the CLOSED_BY_CLIENT of Close may or may not be read before EOF; the rest is fixed
	if got := strings.Join(tos, " "); !strings.HasPrefix(got, "error: state:CONNECTING state:CONNECTED_ACTIVE") {
		t.Errorf("events %v", tos)
	}
}
