package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/internal/msgseq"
)

// FeedServer is the Feed service's handler type (ServiceDesc.HandlerType).
type FeedServer interface {
	Hello(ctx context.Context, client *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
	Send(ctx context.Context, payload *wrapperspb.BytesValue) (*wrapperspb.UInt64Value, error)
	Subscribe(topic *wrapperspb.StringValue, stream grpc.ServerStream) error
	Rows(rows *wrapperspb.UInt64Value, stream grpc.ServerStream) error
}

// FeedDesc is faultline.grpc.Feed, hand-written (no .proto, no protoc):
// every message a protobuf well-known wrapper type, under the default proto
// codec. A driver calls it with these method names (MethodHello, …).
var FeedDesc = grpc.ServiceDesc{
	ServiceName: Service,
	HandlerType: (*FeedServer)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Hello", Handler: unary(MethodHello, FeedServer.Hello)},
		{MethodName: "Send", Handler: unary(MethodSend, FeedServer.Send)},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Subscribe", ServerStreams: true, Handler: serverStream(FeedServer.Subscribe)},
		{StreamName: "Rows", ServerStreams: true, Handler: serverStream(FeedServer.Rows)},
	},
	Metadata: "packs/grpc/server/feed.go (hand-written, no .proto)",
}

// unary adapts a unary method to grpc.MethodHandler, as protoc-gen-go-grpc
// generates it.
func unary[Req any, PReq interface {
	*Req
	proto.Message
}, Resp any](full string, m func(FeedServer, context.Context, PReq) (Resp, error)) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
		in := PReq(new(Req))
		if err := dec(in); err != nil {
			return nil, err
		}
		if icpt == nil {
			return m(srv.(FeedServer), ctx, in)
		}
		return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: full}, func(ctx context.Context, req any) (any, error) {
			return m(srv.(FeedServer), ctx, req.(PReq))
		})
	}
}

// serverStream adapts a server-streaming method to grpc.StreamHandler.
func serverStream[Req any, PReq interface {
	*Req
	proto.Message
}](m func(FeedServer, PReq, grpc.ServerStream) error) grpc.StreamHandler {
	return func(srv any, stream grpc.ServerStream) error {
		in := PReq(new(Req))
		if err := stream.RecvMsg(in); err != nil {
			return err
		}
		return m(srv.(FeedServer), in, stream)
	}
}

// feed is the Feed service of a server (registered on each connection's
// grpc.Server).
type feed struct{ s *Server }

var _ FeedServer = feed{}

// mdFirst is a metadata key's first value.
func mdFirst(ctx context.Context, key string) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// rpcConn is the RPC's connection, or an error to return.
func rpcConn(ctx context.Context) (*conn, error) {
	c := connOf(ctx)
	if c == nil {
		return nil, status.Error(codes.Internal, "faultline: no connection for this RPC")
	}
	return c, nil
}

var errClosing = status.Error(codes.Unavailable, "faultline: the connection is closing")

// Hello attributes the connection to the client it names and answers with
// the connection's session: "<server>@<start id>/<client>#<n>". A second
// Hello naming the same client is answered with the same session; one
// naming another is refused (one connection, one client).
func (f feed) Hello(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	c, err := rpcConn(ctx)
	if err != nil {
		return nil, err
	}
	client := in.GetValue()
	if client == "" {
		return nil, status.Error(codes.InvalidArgument, "Hello needs the client's name")
	}
	if md := mdFirst(ctx, MDClient); md != "" && md != client {
		return nil, status.Errorf(codes.InvalidArgument, "Hello names client %q but the RPC's %s metadata says %q", client, MDClient, md)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sess, err := f.claimLocked(c, client, "")
	if err != nil {
		return nil, err
	}
	return wrapperspb.String(sess), nil
}

// claimLocked attributes c to client (its session is created at the first
// claim, recorded as grpc.hello) and returns the session; by names the RPC
// that claimed it when it was not Hello (an RPC whose faultline-client
// metadata arrived first: a send the picker put on a new connection before
// the driver's Hello), "" for Hello itself. c.mu is held.
func (f feed) claimLocked(c *conn, client, by string) (string, error) {
	switch {
	case c.closing:
		return "", errClosing
	case c.client != "" && c.client != client:
		return "", status.Errorf(codes.FailedPrecondition, "connection %s belongs to client %q already, not %q", c.id, c.client, client)
	}
	again := c.session != ""
	if again && by != "" {
		return c.session, nil // attributed already: nothing to record
	}
	if !again {
		c.client = client
		c.session = fmt.Sprintf("%s@%s/%s#%d", f.s.name, f.s.startID, client, c.n)
	}
	a := map[string]string{"client": client}
	if again {
		a["again"] = "true"
	}
	if by != "" {
		a["by"] = by
	}
	c.recordLocked(history.Event{Kind: KindHello, Attrs: a})
	return c.session, nil
}

// attribute attributes the RPC's connection to the client its metadata
// names, if Hello has not yet: the connection's session exists from the
// first RPC that says whose it is.
func (f feed) attribute(ctx context.Context, c *conn, method string) error {
	client := mdFirst(ctx, MDClient)
	if client == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := f.claimLocked(c, client, method)
	return err
}

// Send records the client's message (receive, Seq = the number its payload
// carries: {"n":N}, {"seq":N} or a bare N) and answers with that number.
func (f feed) Send(ctx context.Context, in *wrapperspb.BytesValue) (*wrapperspb.UInt64Value, error) {
	c, err := rpcConn(ctx)
	if err != nil {
		return nil, err
	}
	if err := f.attribute(ctx, c, "Send"); err != nil {
		return nil, err
	}
	n := msgseq.Of(in.GetValue())
	a := map[string]string{"bytes": strconv.Itoa(len(in.GetValue()))}
	if cl := mdFirst(ctx, MDClient); cl != "" {
		a["client"] = cl
	}
	if !c.record(history.Event{Kind: history.KindReceive, Seq: n, Attrs: a}) {
		return nil, errClosing
	}
	return wrapperspb.UInt64(uint64(max(n, 0))), nil
}

// Subscribe streams the seq of every later publish on the topic. The
// response headers are sent once the subscription is registered: a client
// that waits for them knows every later publish reaches it.
func (f feed) Subscribe(in *wrapperspb.StringValue, stream grpc.ServerStream) error {
	ctx := stream.Context()
	c, err := rpcConn(ctx)
	if err != nil {
		return err
	}
	if err := f.attribute(ctx, c, "Subscribe"); err != nil {
		return err
	}
	topic := in.GetValue()
	if topic == "" {
		return status.Error(codes.InvalidArgument, "Subscribe needs a topic")
	}
	sub, ok := f.s.subscribe(c, topic)
	if !ok {
		return errClosing
	}
	defer f.s.unsubscribe(sub)
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-sub.ready:
		}
		seqs, over := sub.take()
		for _, seq := range seqs {
			if !c.record(history.Event{Kind: history.KindDeliver, Topic: topic, Seq: seq}) {
				return errClosing
			}
			if err := stream.SendMsg(wrapperspb.UInt64(uint64(seq))); err != nil {
				return err
			}
		}
		if over {
			return status.Errorf(codes.ResourceExhausted, "subscriber too slow: more than %d messages pending", f.s.opts.MaxPending)
		}
	}
}

// Rows streams rows 1..N, the first at once, then one every row pace (the
// scenario's request pacing, PaceRows), recording request, each row and
// the final done; a call the client cancels ends with done cancelled.
func (f feed) Rows(in *wrapperspb.UInt64Value, stream grpc.ServerStream) error {
	ctx := stream.Context()
	c, err := rpcConn(ctx)
	if err != nil {
		return err
	}
	if err := f.attribute(ctx, c, "Rows"); err != nil {
		return err
	}
	rows := int64(min(in.GetValue(), maxRows))
	req := mdFirst(ctx, MDRequest)
	every := f.s.rowEvery()
	if !c.record(history.Event{Kind: history.KindRequest, Attrs: map[string]string{"req": req, "rows": strconv.FormatInt(rows, 10),
		"every_ms": strconv.FormatFloat(float64(every)/float64(time.Millisecond), 'f', -1, 64)}}) {
		return errClosing
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for n := int64(1); n <= rows; n++ {
		if n > 1 {
			t.Reset(every)
		}
		select {
		case <-ctx.Done():
			// The client cancelled (the connection is up) or the connection
			// went (its close is recorded; the rows just stop).
			c.record(history.Event{Kind: history.KindDone, Attrs: map[string]string{"req": req, "rows": strconv.FormatInt(n-1, 10), "cancelled": "true"}})
			return status.FromContextError(ctx.Err()).Err()
		case <-t.C:
		}
		if !c.record(history.Event{Kind: history.KindRow, Seq: n, Attrs: map[string]string{"req": req}}) {
			return errClosing
		}
		if err := stream.SendMsg(wrapperspb.UInt64(uint64(n))); err != nil {
			return err
		}
	}
	c.record(history.Event{Kind: history.KindDone, Attrs: map[string]string{"req": req, "rows": strconv.FormatInt(rows, 10)}})
	return nil
}

// maxRows bounds a Rows call (a request of the harness asks for tens).
const maxRows = 1 << 20

// unknownMethod answers an RPC for no service of the server as grpc-go
// would (Unimplemented), through a handler so that its stats have an End.
func unknownMethod(_ any, stream grpc.ServerStream) error {
	m, _ := grpc.MethodFromServerStream(stream)
	return status.Errorf(codes.Unimplemented, "unknown method %s", m)
}
