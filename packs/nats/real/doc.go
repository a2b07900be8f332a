// Package real runs the real nats-server (github.com/nats-io/nats-server/v2
// v2.15.3) embedded in this process as a faultline server kind
// ("nats-server"), and records the evidence that server can give into the
// run's history (package harness/history), in the NATS pack's vocabulary
// (packs/nats/EVENTS.md).
//
// The fake NATS server (packs/nats/fake) sees every byte and can inject
// protocol faults; this one is the real thing, so a client library is known
// to work against what it will meet in production. Its evidence comes from
// the server's own hooks, not from the wire:
//
//	nats-server hook                                   event
//	-------------------------------------------------  -------------------------------------------
//	debug log "<addr> - cid:N - Client connection       accept{Server, Conn, Attrs{remote, client_id}}
//	  created" (s.SetLogger(l, true, false))
//	Options.CustomClientAuthentication.Check (CONNECT   nats.connect{Server, Conn, Attrs{name, verbose,
//	  arrived; Check always admits)                       pedantic, echo, headers, lang, version,
//	                                                      protocol, no_responders}}, then, on the
//	                                                      connection's first CONNECT only,
//	                                                    handshake{Server, Conn, OK=true,
//	                                                      Session "<server_id>/<cid>", Attrs{name}}
//	debug log "<addr> - cid:N - Client connection       conn.close{Server, Conn, Session (if the
//	  closed: <reason>"                                   handshake was seen), Reason, Attrs{native:
//	                                                      <reason>}} with Reason:
//	    "Client Closed"  (read EOF)                       eof
//	    "Read Error"     (e.g. connection reset)          eof (the link was cut)
//	    "Stale Connection" (server pings unanswered)      stale
//	    "Server Shutdown" during LameDuck()               lame_duck
//	    "Server Shutdown" from Close                      killed
//	    "Kicked"         (CloseConnections)               server_close
//	    anything else, e.g. "Authentication Timeout"      error:<reason>
//	LameDuck()                                          nats.lame_duck{Server, Attrs{grace_ms, duration_ms}}
//	Publish()                                           publish{Server, Topic, Seq} (seq 1,2,... per
//	                                                      subject per server)
//
// Conn is "<name>#<n>", one n per client connection (cid): n counts from 1.
// A kill or restart is the topology's (Close, then a fresh Start on the same
// address), which records process.kill / process.start and renumbers the
// new server's Conn to continue after the old one's. Session pairs the INFO
// server_id (nats-server's, random per Start) with the cid, exactly what
// nats.go reports as ConnectedServerId() and GetClientID().
//
// The harness's own publishing connection (CONNECT name "faultline-publisher")
// is not a client: it appears in no event.
//
// What the real server cannot give (checkers must fall back on link events,
// link.accept and fault.*, or on the client's word):
//
//   - no nats.ping: nats-server does not log the client's PINGs (only with
//     protocol tracing, which costs a log call per message), and it cannot be
//     told to withhold PONGs, send -ERR or announce connect_urls on demand;
//     protocol faults are the fake's business;
//   - no deliver, receive or subscribe: messages routed between clients are
//     not observed (no per-MSG hook without tracing); only the harness's own
//     publishes are recorded;
//   - no nats.info: the ldm INFO of lame duck mode is sent by the server to
//     every client that sent protocol >= 1 and is past its first PONG; its
//     delivery is not recorded per connection, only nats.lame_duck;
//   - no nats.err: the -ERR lines the server sends (e.g. 'Stale Connection')
//     are not recorded; the conn.close reason says why;
//   - accept is stamped when the server created its client (after its accept
//     loop took the TCP connection, before INFO was written), not when the
//     kernel completed the TCP handshake;
//   - handshake is stamped when the CONNECT was authorised, just before the
//     server answers the CONNECT's PING with PONG; the real server is never
//     asked to refuse, so there is no handshake with OK=false;
//   - nats.lame_duck is stamped when LameDuck() was asked: nats-server closes
//     its listener at once and sends the ldm INFO moments later; it then
//     waits LameDuckGrace and closes the clients one by one, spread over the
//     rest of LameDuckDuration, and shuts down;
//   - admitting every CONNECT through CustomClientAuthentication makes the
//     server say "auth_required":true in INFO and close a connection that
//     has not sent CONNECT within AuthTimeout (reason error:Authentication
//     Timeout); nats.go connects without credentials all the same.
package real
