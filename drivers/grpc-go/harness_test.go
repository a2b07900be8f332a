package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"github.com/faultline/faultline/drivers/kit/kittest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// wait bounds every wait of the tests.
const wait = 10 * time.Second

// feedServer is an in-test grpc-go server of the gRPC pack's wire
// agreement: faultline.grpc.Feed (a hand-written ServiceDesc, wrapper
// messages) and the standard health service, on a listener that keeps
// every connection so that a test can cut them all (the pack's close_all).
type feedServer struct {
	t    *testing.T
	name string
	addr string
	opts []grpc.ServerOption

	mu       sync.Mutex
	gs       *grpc.Server
	lis      net.Listener
	conns    map[net.Conn]bool
	hellos   []string // "client session", in order
	received []int64  // each Send's number
	subs     map[string][]chan uint64
	seq      map[string]uint64
	rows     []string // each Rows call's faultline-request
	subCalls int      // Subscribe calls
	accepts  int
}

// runFeed starts a server on a free port (addr "") or on addr (a restart),
// with extra server options.
func runFeed(t *testing.T, name, addr string, opts ...grpc.ServerOption) *feedServer {
	t.Helper()
	f := &feedServer{t: t, name: name, opts: opts, conns: map[net.Conn]bool{}, subs: map[string][]chan uint64{}, seq: map[string]uint64{}}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lis net.Listener
	var err error
	deadline := time.Now().Add(wait)
	for {
		if lis, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the old listener's port may linger
	}
	if err != nil {
		t.Fatal(err)
	}
	f.addr = lis.Addr().String()
	f.start(lis)
	t.Cleanup(f.stop)
	return f
}

func (f *feedServer) url() string { return "grpc://" + f.addr }

func (f *feedServer) start(lis net.Listener) {
	// Keepalive pings are never too many (the pack's enforcement policy).
	opts := append([]grpc.ServerOption{grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Millisecond, PermitWithoutStream: true})}, f.opts...)
	gs := grpc.NewServer(opts...)
	gs.RegisterService(&feedDesc, f)
	healthpb.RegisterHealthServer(gs, health.NewServer())
	f.mu.Lock()
	f.gs, f.lis = gs, &trackLis{Listener: lis, f: f}
	f.mu.Unlock()
	go gs.Serve(f.lis)
}

// stop ends the server: listener and connections closed at once.
func (f *feedServer) stop() {
	f.mu.Lock()
	gs := f.gs
	f.mu.Unlock()
	if gs != nil {
		gs.Stop()
	}
}

// closeAll closes every connection now (no GOAWAY); the listener stays.
func (f *feedServer) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
	}
}

// publish sends the topic's next number to its subscribers.
func (f *feedServer) publish(topic string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq[topic]++
	for _, c := range f.subs[topic] {
		select {
		case c <- f.seq[topic]:
		default:
		}
	}
	return f.seq[topic]
}

// subscribers is how many streams are subscribed to topic now, and how
// many Subscribe calls the server has had.
func (f *feedServer) subscribers(topic string) (now, calls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs[topic]), f.subCalls
}

func (f *feedServer) snapshot() (hellos []string, received []int64, rows []string, accepts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.hellos...), append([]int64(nil), f.received...), append([]string(nil), f.rows...), f.accepts
}

type trackLis struct {
	net.Listener
	f *feedServer
}

func (l *trackLis) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.f.mu.Lock()
		l.f.conns[c] = true
		l.f.accepts++
		l.f.mu.Unlock()
	}
	return c, err
}

func clientOf(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(mdClient); len(v) > 0 {
		return v[0]
	}
	return ""
}

var feedDesc = grpc.ServiceDesc{
	ServiceName: feedService,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Hello", Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := &wrapperspb.StringValue{}
			if err := dec(in); err != nil {
				return nil, err
			}
			f := srv.(*feedServer)
			f.mu.Lock()
			defer f.mu.Unlock()
			sess := fmt.Sprintf("%s/%s#%d", f.name, in.GetValue(), len(f.hellos)+1)
			f.hellos = append(f.hellos, clientOf(ctx)+" "+sess)
			return wrapperspb.String(sess), nil
		}},
		{MethodName: "Send", Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := &wrapperspb.BytesValue{}
			if err := dec(in); err != nil {
				return nil, err
			}
			f := srv.(*feedServer)
			n := kit.SeqOf(in.GetValue())
			f.mu.Lock()
			f.received = append(f.received, n)
			f.mu.Unlock()
			return wrapperspb.UInt64(uint64(n)), nil
		}},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Subscribe", ServerStreams: true, Handler: func(srv any, st grpc.ServerStream) error {
			in := &wrapperspb.StringValue{}
			if err := st.RecvMsg(in); err != nil {
				return err
			}
			f := srv.(*feedServer)
			c := make(chan uint64, 64)
			f.mu.Lock()
			f.subCalls++
			f.subs[in.GetValue()] = append(f.subs[in.GetValue()], c)
			f.mu.Unlock()
			defer func() {
				f.mu.Lock()
				l := f.subs[in.GetValue()]
				for i := range l {
					if l[i] == c {
						f.subs[in.GetValue()] = append(l[:i:i], l[i+1:]...)
						break
					}
				}
				f.mu.Unlock()
			}()
			if err := st.SendHeader(metadata.MD{}); err != nil { // subscribed
				return err
			}
			for {
				select {
				case n := <-c:
					if err := st.SendMsg(wrapperspb.UInt64(n)); err != nil {
						return err
					}
				case <-st.Context().Done():
					return st.Context().Err()
				}
			}
		}},
		{StreamName: "Rows", ServerStreams: true, Handler: func(srv any, st grpc.ServerStream) error {
			in := &wrapperspb.UInt64Value{}
			if err := st.RecvMsg(in); err != nil {
				return err
			}
			f := srv.(*feedServer)
			md, _ := metadata.FromIncomingContext(st.Context())
			f.mu.Lock()
			f.rows = append(f.rows, fmt.Sprint(md.Get(mdRequest)))
			f.mu.Unlock()
			for i := uint64(1); i <= in.GetValue(); i++ {
				select {
				case <-time.After(20 * time.Millisecond):
				case <-st.Context().Done():
					return st.Context().Err()
				}
				if err := st.SendMsg(wrapperspb.UInt64(i)); err != nil {
					return err
				}
			}
			return nil
		}},
	},
}

// deadURL is a URL nobody listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "grpc://" + l.Addr().String()
	l.Close()
	return u
}

type line = kittest.Line

// newRig runs a Driver on pipes and records every line it writes.
func newRig(t *testing.T) *kittest.Rig {
	t.Helper()
	return kittest.NewRig(t, wait, func(in io.Reader, out io.Writer) {
		New(out, func(string) string { return "" }).Serve(in)
	})
}

// options is a scenario client block as the harness renders it (fixed
// back-off of 50 ms, connect timeout 1 s); mod changes it.
func options(mod func(map[string]any)) map[string]any { return kittest.Options(50, mod) }

// eventually polls cond until it holds, failing the test at the deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
