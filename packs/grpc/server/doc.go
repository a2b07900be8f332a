// Package server runs the real grpc-go server library
// (google.golang.org/grpc v1.85.0, plaintext h2c) in this process as
// faultline's gRPC server kind ("grpc"), and records what it sees into the
// run's history (package harness/history) in the gRPC pack's vocabulary
// (packs/grpc/EVENTS.md). There is no fake/real split for gRPC: every byte
// on the wire is grpc-go's own; faultline only wraps the listener and the
// connections under it and hooks a stats handler into it.
//
// It serves two services, without protoc (every message is a protobuf
// well-known wrapper type, the service descriptor is hand-written):
//
//	grpc.health.v1.Health   google.golang.org/grpc/health, service "" SERVING
//	faultline.grpc.Feed     Hello(StringValue client) → StringValue session
//	                        Subscribe(StringValue topic) → stream UInt64Value seq
//	                        Send(BytesValue payload) → UInt64Value n
//	                        Rows(UInt64Value rows) → stream UInt64Value row
//
// Where its evidence comes from:
//
//	hook                                              event
//	------------------------------------------------  ---------------------------------------------
//	our accept loop on the TCP listener (before any   accept{Conn, Attrs{remote}}
//	  HTTP/2 byte), then the conn is served by a
//	  grpc.Server of its own
//	stats.Handler HandleConn(*stats.ConnBegin)        handshake{Conn, OK=true}: NewServerTransport
//	  (server.go serveStreams, after                    wrote the server's SETTINGS and read the
//	  NewServerTransport succeeded)                     client's preface and SETTINGS
//	the wrapped conn's first Close (whoever calls it: conn.close{Conn, Session, Reason, Attrs};
//	  grpc-go's transport, or an action of ours)        before a ConnBegin, with a bad preface or
//	                                                    a bad first frame or a handshake timeout,
//	                                                    handshake{OK=false, Reason} just before
//	stats.Handler HandleRPC(*stats.InHeader)          grpc.rpc{Conn, Session, Attrs{method, client}}
//	stats.Handler HandleRPC(*stats.End)               grpc.rpc_end{Conn, Session, Reason, Attrs{method,
//	                                                    code}}
//	the wrapped conn's Write, scanning HTTP/2 frame   grpc.goaway{Conn, Session, Reason, Attrs{code,
//	  headers (GOAWAY written to the socket)            last_stream_id, debug, notice, grace_ms}}
//	the wrapped conn's Read, scanning HTTP/2 frame    grpc.ping{Conn, Session, Attrs{data}}
//	  headers (a client PING that is not an ACK and
//	  not grpc-go's BDP probe)
//	the Feed handlers                                 grpc.hello, subscribe, deliver, receive,
//	                                                    request, row, done
//	Publish                                           publish{Topic, Seq}
//	Refuse / Admit                                    grpc.listen{Attrs{state}}
//
// Scanning frame headers costs a few operations per frame, not per byte: a
// frame's payload is skipped by arithmetic; only PING and GOAWAY payloads
// (at most 8 bytes + 256 bytes of GOAWAY debug data) are kept.
//
// # GOAWAY without closing the listener
//
// grpc-go has no per-connection GOAWAY: GracefulStop drains every connection
// of a grpc.Server, and closes its listeners. So each connection is served
// by a grpc.Server of its own, whose listener yields that one connection:
// the goaway action calls GracefulStop on the grpc.Servers of the
// connections open then (each gets GOAWAY, its streams in flight may
// finish), while the TCP listener and its accept loop go on serving new
// connections, each with a fresh grpc.Server. After the grace, a connection
// still open is closed. One connection still in its HTTP/2 handshake holds
// only its own GracefulStop (grpc-go waits for handshakes before draining),
// and gets its GOAWAY as soon as its transport is up.
//
// # Kill and restart
//
// They are the topology's: Close ends everything at once (the listener, then
// every connection with conn.close reason killed, then Stop on every
// connection's grpc.Server, waiting for their handlers), and a restart is a fresh Start on
// the same address, with a fresh start id (so session ids never repeat) and
// publish sequences from 1.
//
// What it cannot see: the reason grpc-go's transport gives when it closes a
// connection by itself is only logged (http2Server.Close), so a close that
// none of the hooks above explains is recorded as "error:closed by the
// server transport"; gRPC C-core clients' BDP probes are PINGs that cannot be
// told from their keepalive PINGs, and are recorded as grpc.ping.
package server
