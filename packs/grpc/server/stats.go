package server

import (
	"context"
	"sync"

	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/faultline/faultline/harness/history"
)

// statsHandler is the grpc.StatsHandler of every grpc.Server: connection
// begin (handshake) and each RPC's begin and end.
type statsHandler struct{}

type connKey struct{}
type rpcKey struct{}

// rpcInfo is what the handler learns of an RPC across its callbacks.
type rpcInfo struct {
	mu     sync.Mutex
	method string
	client string
}

// connOf is the conn an RPC or connection context belongs to: tagged by
// TagConn, or found through the peer address (addr).
func connOf(ctx context.Context) *conn {
	if c, ok := ctx.Value(connKey{}).(*conn); ok {
		return c
	}
	if p, ok := peer.FromContext(ctx); ok {
		if a, ok := p.Addr.(addr); ok {
			return a.c
		}
	}
	return nil
}

// TagConn ties the connection's contexts (its conn stats, and on the server
// every RPC's) to the conn, through the remote address grpc-go took from it
// (server.go serveStreams: ConnTagInfo.RemoteAddr = st.Peer().Addr).
func (statsHandler) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	if a, ok := info.RemoteAddr.(addr); ok {
		return context.WithValue(ctx, connKey{}, a.c)
	}
	return ctx
}

// HandleConn: ConnBegin is sent once NewServerTransport succeeded (the
// server's SETTINGS written, the client's preface and SETTINGS read) and the
// transport was added to the server (server.go handleRawConn, serveStreams).
// ConnEnd follows the transport's Close, after the wrapped conn's Close,
// which recorded conn.close already.
func (statsHandler) HandleConn(ctx context.Context, s stats.ConnStats) {
	if _, ok := s.(*stats.ConnBegin); ok {
		if c := connOf(ctx); c != nil {
			c.begin()
		}
	}
}

func (statsHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, rpcKey{}, &rpcInfo{method: info.FullMethodName})
}

// HandleRPC records an RPC when its headers arrived (InHeader, sent for
// every RPC, known method or not: server.go handleStream) and when it ended
// (End, with the status the handler returned: server.go processUnaryRPC,
// processStreamingRPC).
func (statsHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	r, _ := ctx.Value(rpcKey{}).(*rpcInfo)
	c := connOf(ctx)
	if r == nil || c == nil {
		return
	}
	switch s := s.(type) {
	case *stats.InHeader:
		client := ""
		if v := s.Header.Get(MDClient); len(v) > 0 {
			client = v[0]
		}
		r.mu.Lock()
		r.client = client
		r.mu.Unlock()
		a := map[string]string{"method": r.method}
		if client != "" {
			a["client"] = client
		}
		c.record(history.Event{Kind: KindRPC, Attrs: a})
	case *stats.End:
		st := status.Convert(s.Error)
		a := map[string]string{"method": r.method, "code": st.Code().String()}
		r.mu.Lock()
		if r.client != "" {
			a["client"] = r.client
		}
		r.mu.Unlock()
		e := history.Event{Kind: KindRPCEnd, Reason: st.Message(), Attrs: a}
		// An RPC ends also because its connection did: that end is recorded
		// after the conn.close.
		c.mu.Lock()
		e.Conn, e.Session = c.id, c.session
		c.mu.Unlock()
		c.s.record(e)
	}
}
