package server

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/faultline/faultline/harness/history"
)

// wait bounds every wait for an event: generous for a loaded 2-core machine,
// never slept through (waits poll and return as soon as the event is there).
const wait = 5 * time.Second

func start(t *testing.T, opts Options) (*Server, *history.Log) {
	t.Helper()
	log := history.NewLog(history.NewClock())
	s, err := Start("s1", log, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, log
}

// dial is a real grpc-go client of the server, naming itself client on
// every RPC (metadata faultline-client), as the drivers do.
func dial(t *testing.T, addr, client string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	md := func(ctx context.Context) context.Context {
		return metadata.AppendToOutgoingContext(ctx, MDClient, client)
	}
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, o ...grpc.CallOption) error {
			return invoker(md(ctx), method, req, reply, cc, o...)
		}),
		grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, o ...grpc.CallOption) (grpc.ClientStream, error) {
			return streamer(md(ctx), desc, cc, method, o...)
		}),
	}, opts...)
	cc, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// hello calls Hello; after a connection was closed under the client, an
// RPC already on its way over it fails UNAVAILABLE (not retried by grpc-go:
// it reached the transport), so such a failure is retried, as a driver
// would.
func hello(t *testing.T, cc *grpc.ClientConn, client string) string {
	t.Helper()
	ctx := ctxT(t)
	for {
		out := &wrapperspb.StringValue{}
		err := cc.Invoke(ctx, MethodHello, wrapperspb.String(client), out)
		if err == nil {
			return out.GetValue()
		}
		if status.Code(err) != codes.Unavailable || ctx.Err() != nil {
			t.Fatalf("Hello: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var subscribeDesc = &grpc.StreamDesc{StreamName: "Subscribe", ServerStreams: true}
var rowsDesc = &grpc.StreamDesc{StreamName: "Rows", ServerStreams: true}

// subscribe opens a Subscribe stream and waits for its headers (the
// subscription is registered).
func subscribe(t *testing.T, ctx context.Context, cc *grpc.ClientConn, topic string) grpc.ClientStream {
	t.Helper()
	st, err := cc.NewStream(ctx, subscribeDesc, MethodSubscribe)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SendMsg(wrapperspb.String(topic)); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Header(); err != nil {
		t.Fatalf("Subscribe headers: %v", err)
	}
	return st
}

// recvSeqs reads n messages of a stream.
func recvSeqs(t *testing.T, st grpc.ClientStream, n int) []uint64 {
	t.Helper()
	var out []uint64
	for range n {
		m := &wrapperspb.UInt64Value{}
		if err := st.RecvMsg(m); err != nil {
			t.Fatalf("after %v: %v", out, err)
		}
		out = append(out, m.GetValue())
	}
	return out
}

// drain reads a stream to its end and returns the values and the error
// that ended it (nil: OK).
func drain(st grpc.ClientStream) ([]uint64, error) {
	var out []uint64
	for {
		m := &wrapperspb.UInt64Value{}
		if err := st.RecvMsg(m); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		out = append(out, m.GetValue())
	}
}

// waitEvent waits for the first event that ok accepts.
func waitEvent(t *testing.T, log *history.Log, what string, ok func(history.Event) bool) history.Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		for _, e := range log.Events() {
			if ok(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v; history:\n%s", what, wait, dump(log))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func kindOn(kind, conn string) func(history.Event) bool {
	return func(e history.Event) bool { return e.Kind == kind && e.Conn == conn }
}

// onConn are the kinds recorded on conn, in order.
func onConn(log *history.Log, conn string) []string {
	var out []string
	for _, e := range log.Events() {
		if e.Conn == conn {
			out = append(out, e.Kind)
		}
	}
	return out
}

func count(log *history.Log, ok func(history.Event) bool) int {
	n := 0
	for _, e := range log.Events() {
		if ok(e) {
			n++
		}
	}
	return n
}

func dump(log *history.Log) string {
	var b strings.Builder
	for _, e := range log.Events() {
		fmt.Fprintln(&b, e)
	}
	return b.String()
}

// inOrder fails unless want appears in got in this order (others may come
// between).
func inOrder(t *testing.T, got, want []string) {
	t.Helper()
	i := 0
	for _, k := range got {
		if i < len(want) && k == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("kinds %v do not contain %v in order", got, want)
	}
}

func has(got []string, k string) bool { return slices.Contains(got, k) }
