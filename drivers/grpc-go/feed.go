package main

// The client side of the gRPC pack's faultline.grpc.Feed service (the
// wire agreement in docs: every message a protobuf well-known wrapper, no
// generated code): method names and stream descriptions for
// grpc.ClientConn's Invoke and NewStream, with the proto codec.

import (
	"context"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	feedService     = "faultline.grpc.Feed"
	methodHello     = "/" + feedService + "/Hello"
	methodSubscribe = "/" + feedService + "/Subscribe"
	methodSend      = "/" + feedService + "/Send"
	methodRows      = "/" + feedService + "/Rows"

	// Metadata keys of the agreement.
	mdClient  = "faultline-client"
	mdRequest = "faultline-request"
)

var (
	subscribeDesc = &grpc.StreamDesc{StreamName: "Subscribe", ServerStreams: true}
	rowsDesc      = &grpc.StreamDesc{StreamName: "Rows", ServerStreams: true}
)

// withClient is ctx carrying the client's name, as every RPC must.
func withClient(ctx context.Context, name string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, mdClient, name)
}

// hello calls Hello (fail-fast) and returns the session the server
// recorded and the connection it went over.
func hello(ctx context.Context, cc *grpc.ClientConn, name string) (string, *peer.Peer, error) {
	out := &wrapperspb.StringValue{}
	p := &peer.Peer{}
	err := cc.Invoke(withClient(ctx, name), methodHello, wrapperspb.String(name), out, grpc.Peer(p))
	return out.GetValue(), p, err
}

// send calls Send with the payload; the answer is the number the server
// read from it.
func send(ctx context.Context, cc *grpc.ClientConn, name string, payload []byte) (uint64, error) {
	out := &wrapperspb.UInt64Value{}
	err := cc.Invoke(withClient(ctx, name), methodSend, wrapperspb.Bytes(payload), out)
	return out.GetValue(), err
}

// openStream opens a server stream of desc at method with one request.
func openStream(ctx context.Context, cc *grpc.ClientConn, desc *grpc.StreamDesc, method string, req any) (grpc.ClientStream, error) {
	st, err := cc.NewStream(ctx, desc, method)
	if err != nil {
		return nil, err
	}
	if err := st.SendMsg(req); err != nil {
		return nil, err
	}
	if err := st.CloseSend(); err != nil {
		return nil, err
	}
	return st, nil
}

// subscribe opens Subscribe(topic).
func subscribe(ctx context.Context, cc *grpc.ClientConn, name, topic string) (grpc.ClientStream, error) {
	return openStream(withClient(ctx, name), cc, subscribeDesc, methodSubscribe, wrapperspb.String(topic))
}

// rows opens Rows(n) for request id.
func rows(ctx context.Context, cc *grpc.ClientConn, name string, id int64, n uint64) (grpc.ClientStream, error) {
	ctx = metadata.AppendToOutgoingContext(withClient(ctx, name), mdRequest, strconv.FormatInt(id, 10))
	return openStream(ctx, cc, rowsDesc, methodRows, wrapperspb.UInt64(n))
}

// recvSeq reads the next UInt64Value of a stream.
func recvSeq(st grpc.ClientStream) (uint64, error) {
	m := &wrapperspb.UInt64Value{}
	if err := st.RecvMsg(m); err != nil {
		return 0, err
	}
	return m.GetValue(), nil
}
