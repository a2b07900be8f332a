package server

// The gRPC-only kinds of the pack's vocabulary (packs/grpc/EVENTS.md), all
// Source server.
const (
	KindRPC    = "grpc.rpc"     // an RPC's headers arrived: Conn, Session, Attrs{method, client}
	KindRPCEnd = "grpc.rpc_end" // an RPC ended: Conn, Session, Reason (status message), Attrs{method, code}
	KindGoAway = "grpc.goaway"  // a GOAWAY frame was written: Conn, Session, Reason, Attrs{code, last_stream_id, debug, notice, grace_ms}
	KindPing   = "grpc.ping"    // a client PING arrived: Conn, Session, Attrs{data}
	KindHello  = "grpc.hello"   // the connection was attributed (Hello, or a first RPC naming its client): Conn, Session, Attrs{client, again, by}
	KindListen = "grpc.listen"  // the refuse / admit actions closed / reopened the listener: Attrs{state}
)

// The wire agreement with the drivers: the Feed service's names and the
// metadata keys a driver sends.
const (
	Service         = "faultline.grpc.Feed"
	MethodHello     = "/" + Service + "/Hello"
	MethodSubscribe = "/" + Service + "/Subscribe"
	MethodSend      = "/" + Service + "/Send"
	MethodRows      = "/" + Service + "/Rows"

	// MDClient is the metadata key naming the driver's client on every RPC.
	MDClient = "faultline-client"
	// MDRequest is the metadata key carrying a Rows call's request id (the
	// harness op's id).
	MDRequest = "faultline-request"
)

// conn.close reasons (packs/grpc/EVENTS.md).
const (
	ReasonEOF         = "eof"
	ReasonGoAway      = "goaway"
	ReasonServerClose = "server_close"
	ReasonAcceptClose = "accept_close"
	ReasonKeepalive   = "keepalive"
	ReasonKilled      = "killed"
	reasonErrorPrefix = "error:"
)

// grpc.goaway reasons: why the server sent it.
const (
	GoAwayAction       = "action"         // the goaway action (GracefulStop of the connection's grpc.Server)
	GoAwayTooManyPings = "too_many_pings" // keepalive enforcement: ENHANCE_YOUR_CALM "too_many_pings"
	GoAwayProtocol     = "protocol_error" // the client broke HTTP/2 or gRPC (PROTOCOL_ERROR, debug says how)
)
