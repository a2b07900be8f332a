package client

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/wire"
)

func opts(f *fake, r *recorder) Options {
	o := DefaultOptions()
	o.Servers = []string{f.url}
	o.ConnectTimeout = time.Second
	return r.into(o)
}

func connect(t *testing.T, o Options) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s, err := Connect(ctx, o)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func wantStates(t *testing.T, r *recorder, want ...State) {
	t.Helper()
	if got := r.seq(); !slices.Equal(got, want) {
		t.Fatalf("states %v, want %v", got, want)
	}
}

func TestConnectAndClose(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	s := connect(t, opts(f, r))
	if s.State() != ConnectedActive || s.ID() != "sess-1" {
		t.Fatalf("state %s id %q", s.State(), s.ID())
	}
	h := f.hello(0)
	if h.Principal != "faultline" || h.Credentials != "faultline" || h.RetentionMS != 60000 || h.NoReconnect || h.Session != "" {
		t.Fatalf("hello %+v", h)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	wantStates(t, r, Connecting, ConnectedActive, ClosedByClient)
	st := r.all()
	if st[0].From != "" || st[1].From != Connecting || st[2].From != ConnectedActive {
		t.Fatalf("from fields: %+v", st)
	}
	last := st[2]
	if last.Reason != ReasonClosedByClient || last.Server != f.url || last.Session != "sess-1" {
		t.Fatalf("close change %+v", last)
	}
	if _, _, closes := f.snapshot(); closes != 1 {
		t.Fatalf("server saw %d close{} frames, want 1", closes)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Send(context.Background(), json.RawMessage(`1`)); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	var ce *CloseError
	if !errors.As(s.Err(), &ce) || ce.State != ClosedByClient {
		t.Fatalf("Err() = %v", s.Err())
	}
}

func TestConnectRefused(t *testing.T) {
	for _, reason := range []string{ReasonAccessDenied, ReasonHandshake} {
		t.Run(reason, func(t *testing.T) {
			f := newFake(t, 0)
			f.setAnswer(func(int, wire.Frame) reply { return reply{kind: "refused", reason: reason} })
			r := newRecorder(t)
			s, err := Connect(context.Background(), opts(f, r))
			var ce *CloseError
			if s != nil || !errors.As(err, &ce) || ce.Reason != reason || ce.State != ClosedFailed {
				t.Fatalf("Connect = %v, %v", s, err)
			}
			wantStates(t, r, Connecting, ClosedFailed)
			if got := r.all()[1].Reason; got != reason {
				t.Fatalf("reason %q", got)
			}
		})
	}
}

func TestConnectNoServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + l.Addr().String()
	l.Close() // refused from now on
	r := newRecorder(t)
	o := r.into(DefaultOptions())
	o.Servers = []string{url}
	_, err = Connect(context.Background(), o)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Reason != ReasonConnectionError || ce.Server != url {
		t.Fatalf("Connect err %v", err)
	}
	wantStates(t, r, Connecting, ClosedFailed)
}

func TestConnectTimeoutBoundsSilentServer(t *testing.T) {
	f := newFake(t, 0)
	f.setAnswer(func(int, wire.Frame) reply { return reply{kind: "silent"} })
	o := opts(f, newRecorder(t))
	o.ConnectTimeout = 150 * ms
	t0 := time.Now()
	_, err := Connect(context.Background(), o)
	if el := time.Since(t0); err == nil || el > 150*ms+500*ms {
		t.Fatalf("Connect took %v, err %v", el, err)
	}
}

func TestConnectContextCancel(t *testing.T) {
	f := newFake(t, 0)
	f.setAnswer(func(int, wire.Frame) reply { return reply{kind: "silent"} })
	ctx, cancel := context.WithTimeout(context.Background(), 100*ms)
	defer cancel()
	_, err := Connect(ctx, opts(f, newRecorder(t)))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want ctx error, got %v", err)
	}
}

func TestServerClosedDoesNotReconnect(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	s := connect(t, opts(f, r))
	f.last().write(wire.Frame{T: wire.TClosed, Reason: wire.ReasonByServer})
	sc := r.wait(ClosedByServer, 1, 2*time.Second)
	if sc.Reason != ReasonClosedByServer {
		t.Fatalf("reason %q", sc.Reason)
	}
	<-s.Done()
	time.Sleep(150 * ms)
	if n := f.dialCount(); n != 1 {
		t.Fatalf("%d dials after a server close, want 1", n)
	}
	wantStates(t, r, Connecting, ConnectedActive, ClosedByServer)
}

func TestOptOutClosesAtOnce(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	o := opts(f, r)
	o.Reconnect = false
	s := connect(t, o)
	if !f.hello(0).NoReconnect {
		t.Fatal("hello.no_reconnect not set")
	}
	t0 := time.Now()
	f.dropAll()
	sc := r.wait(ClosedFailed, 1, time.Second)
	if sc.Reason != ReasonConnectionLost || sc.at.Sub(t0) > 200*ms {
		t.Fatalf("close %+v after %v", sc, sc.at.Sub(t0))
	}
	<-s.Done()
	time.Sleep(150 * ms)
	if n := f.dialCount(); n != 1 {
		t.Fatalf("%d dials with reconnection off, want 1", n)
	}
	wantStates(t, r, Connecting, ConnectedActive, ClosedFailed)
}

func TestSendNumberedAndAcked(t *testing.T) {
	f := newFake(t, 0)
	o := opts(f, newRecorder(t))
	o.RecoveryBuffer = 2
	s := connect(t, o)
	ctx := context.Background()
	for i := 1; i <= 10; i++ {
		// acks free the buffer: a full buffer is only ever momentary
		eventually(t, time.Second, "buffer room", func() bool {
			err := s.Send(ctx, json.RawMessage(`{"i":1}`))
			if err != nil && !errors.Is(err, ErrBufferFull) {
				t.Fatal(err)
			}
			return err == nil
		})
	}
	eventually(t, time.Second, "10 sends received", func() bool {
		got, _, _ := f.snapshot()
		return len(got) == 10
	})
	if got, _, _ := f.snapshot(); !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
		t.Fatalf("received %v", got)
	}
	if err := s.Send(ctx, json.RawMessage(`{`)); err == nil {
		t.Fatal("invalid JSON accepted")
	}
}

func TestSendBufferFull(t *testing.T) {
	f := newFake(t, 0)
	f.dropFrom = 1 // nothing is ever acked
	o := opts(f, newRecorder(t))
	o.RecoveryBuffer = 2
	s := connect(t, o)
	ctx := context.Background()
	for range 2 {
		if err := s.Send(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Send(ctx, nil); !errors.Is(err, ErrBufferFull) {
		t.Fatalf("third send: %v", err)
	}
}

func TestMessagesInOrderOnce(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	s := connect(t, opts(f, r))
	if err := s.Subscribe(context.Background(), "prices"); err != nil {
		t.Fatal(err)
	}
	if err := s.Subscribe(context.Background(), "prices"); err != nil {
		t.Fatal(err)
	}
	c := f.last()
	for _, seq := range []int64{5, 6, 6, 7, 5} { // baseline 5, duplicates dropped
		c.write(wire.Frame{T: wire.TMsg, Topic: "prices", Seq: seq, Data: json.RawMessage(`"x"`)})
	}
	eventually(t, time.Second, "3 messages", func() bool { return len(r.messages()) >= 3 })
	time.Sleep(50 * ms)
	want := []message{{"prices", 5, `"x"`}, {"prices", 6, `"x"`}, {"prices", 7, `"x"`}}
	if got := r.messages(); !slices.Equal(got, want) {
		t.Fatalf("messages %v", got)
	}
	if _, subs, _ := f.snapshot(); !slices.Equal(subs, []string{"prices"}) {
		t.Fatalf("subs %v", subs)
	}
}

func TestGapClosesWithLostMessages(t *testing.T) {
	f := newFake(t, 0)
	r := newRecorder(t)
	s := connect(t, opts(f, r))
	c := f.last()
	c.write(wire.Frame{T: wire.TMsg, Topic: "a", Seq: 1})
	c.write(wire.Frame{T: wire.TMsg, Topic: "a", Seq: 3})
	if sc := r.wait(ClosedFailed, 1, time.Second); sc.Reason != ReasonLostMessages {
		t.Fatalf("reason %q", sc.Reason)
	}
	<-s.Done()
	if _, _, closes := f.snapshot(); closes != 1 {
		t.Fatal("the client should tell the server it closed the session")
	}
}

func TestPingAnsweredAndAcked(t *testing.T) {
	f := newFake(t, 30)
	r := newRecorder(t)
	s := connect(t, opts(f, r))
	f.last().write(wire.Frame{T: wire.TMsg, Topic: "a", Seq: 1})
	eventually(t, time.Second, "message ack after a ping", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.acks) == 1 && f.acks[0].Topic == "a" && f.acks[0].Seq == 1
	})
	time.Sleep(200 * ms) // several ping periods: pongs keep the server's and our liveness
	if s.State() != ConnectedActive {
		t.Fatalf("state %s", s.State())
	}
}

func TestCloseFromCallback(t *testing.T) {
	f := newFake(t, 0)
	done := make(chan error, 1)
	o := opts(f, newRecorder(t))
	var s *Session
	ready := make(chan struct{})
	o.OnMessage = func(string, int64, []byte) {
		<-ready
		done <- s.Close()
	}
	s = connect(t, o)
	close(ready)
	f.last().write(wire.Frame{T: wire.TMsg, Topic: "a", Seq: 1})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close from a callback hung")
	}
	<-s.Done()
}

func TestOptionsDefaultsAndErrors(t *testing.T) {
	if _, err := Connect(context.Background(), Options{}); !errors.Is(err, ErrNoServers) {
		t.Fatalf("no servers: %v", err)
	}
	o := DefaultOptions()
	o.Servers, o.ReconnectTimeout = []string{"ws://x"}, -1
	if _, err := Connect(context.Background(), o); err == nil {
		t.Fatal("negative timeout accepted")
	}
	r, err := Options{Servers: []string{"ws://x"}, ReconnectTimeout: 3 * time.Second}.resolve()
	if err != nil || r.Retention != 3*time.Second || r.Principal != "faultline" || r.RecoveryBuffer != 1024 ||
		r.ConnectTimeout != 2*time.Second || r.Strategy == nil || r.Reconnect {
		t.Fatalf("resolved %+v, %v", r, err)
	}
}
