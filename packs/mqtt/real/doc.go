// Package real runs the real MQTT broker mosquitto (Debian's mosquitto
// 2.0.11, /usr/sbin/mosquitto; `make deps` installs it) as a faultline server
// kind ("mosquitto"), one process per scenario server, and records what its
// own log says into the run's history (package harness/history), in the MQTT
// pack's vocabulary (packs/mqtt/EVENTS.md).
//
// The fake broker (packs/mqtt/fake) sees every byte and has levers;
// this is the broker a client library meets in production, so a library is
// known to work against the real thing behind the same links.
//
// # The process
//
// Each start binds the front listener (below) on the server's address (a
// start on a given port, as the topology's restart is on the address of
// the broker it closed, retries while the port is still held, within 5 s),
// then writes a mosquitto.conf into a temporary directory: one listener,
// mosquitto's own, on a free port of the listen host (127.0.0.1 for every
// interface; mosquitto cannot take port 0: the kernel is asked for a free
// port, and another is tried if mosquitto finds it taken), anonymous
// clients, persistence off, and every log line (log_type all,
// connection_messages) on stderr, which mosquitto does not buffer. The process leads its own process group and
// gets SIGKILL if the harness dies (Linux: the parent-death signal; the
// config keeps a root mosquitto from switching user, which would clear it).
// Start returns once mosquitto has logged "running" and the harness's own
// connection (below) is in place. Close closes the front listener, ends
// mosquitto with SIGKILL (the topology's kill, and the run's end), and
// closes the relays once they have passed the process's end on.
//
// # The front listener
//
// mosquitto logs nothing at all of a TCP connection that is reset before
// its loop reads it: getpeername fails, and it closes the socket silently
// (5 connections closed with SO_LINGER 0 right after connect gave no line).
// A link's cut and reset faults reset the upstream connection at once, so
// a log-only kind would miss attempts the links saw (link.accept) and the
// fake broker records, and the checks' positional pairing of server
// accepts with link accepts would slip. So the address the kind reports
// (Addr, what its link dials) is a listener in the harness process. For
// each connection it takes it records accept at once (Conn "<name>#<n>",
// Attrs{remote}), dials mosquitto's own port from a local address it picked
// and registered before the dial, and copies the bytes both ways,
// faithfully: an EOF is passed on as a half-close (CloseWrite), a read that
// fails with a reset as a reset (SO_LINGER 0, then close), a write that
// fails (the other side reset) as a reset of the side that wrote, so
// mosquitto and the client see what they would without it (mosquitto
// 2.0.11 logs a client's reset as "closed its connection", as an EOF).
//
// mosquitto's "New connection from A:P" names the relay's local address,
// so it and every later line of that client map to the relay's Conn
// exactly; the line records no second accept. A connection mosquitto never
// logged is closed by the relay: when the relay has ended and the log has
// not named it, the harness dials a probe to mosquitto's port; mosquitto
// takes connections from one listen queue in order, so once the probe's
// "New connection" line is handled, an earlier connection not named by
// then never will be, and the relay records conn.close{eof, native "not
// logged by mosquitto: client reset" (or "client closed")}; with the
// process gone, killed (Close) or error:mosquitto exited. A connection
// mosquitto did log is closed by its close line as ever: never two
// conn.close for one. A crashed process's front listener is closed (new
// connections are refused, as by a dead broker).
//
// The harness's own connections (the monitor, takeovers, probes) go
// straight to mosquitto's port, from registered addresses, and appear in
// no event.
//
// Nothing of fakeserver.Config but Listen applies: mosquitto does not ping
// its clients (the client's keepalive is the client's), and its
// persistent_client_expiration counts in hours.
//
// # Evidence
//
// Each line is read when mosquitto writes it and recorded then (the
// recorder stamps it): mosquitto is single-threaded, so its log is in the
// order it acted. Lines this package does not know are passed over; the
// last 40 are kept for errors. Per line (mosquitto 2.0.11's texts, exactly):
//
//	(the front listener took a connection)     accept{Conn, Attrs{remote: the client's A:P}}
//	New connection from A:P on port L.          (the relay's Conn, by its local address A:P: no event)
//	New client connected from A:P as ID         mqtt.connect{Conn, Attrs{client_id, protocol (MQIsdp for p1,
//	  (pN, cN, kN[, u'USER']).                    else MQTT), level (3, 4, 5), clean, keepalive_s, username,
//	+ No will message specified. |                will, will_qos, will_retain, will_topic}} (no password:
//	  Will message specified (N bytes) (rR, qQ).  the log does not say)
//	  + \tTOPIC
//	Sending CONNACK to ID (SP, 0)               handshake{OK, Session "<server>/<ID>", Attrs{client_id, clean,
//	                                              keepalive_s, session_present, code 0, replay (messages the
//	                                              session held, when present)}}, mqtt.connack{Session,
//	                                              Attrs{code, session_present: the flag on the wire}}
//	Sending CONNACK to ID|HOST (0, RC)          handshake{OK false, Reason: the code's name (identifier_rejected,
//	+ Client ID|<unknown> disconnected …          …), Attrs{code, client_id if mosquitto read one}},
//	                                              mqtt.connack{Reason}, conn.close{refused}
//	Received SUBSCRIBE from ID + \tF (QoS R)    subscribe{Topic F, Attrs{qos Q (granted), requested R}}
//	  + ID Q F
//	Received UNSUBSCRIBE from ID + ID F         mqtt.unsubscribe{Topic F}
//	Received PUBLISH from ID (dD, qQ, rR, mM,   receive{Topic T, Seq, Attrs{qos, dup, packet_id}} (Seq: below;
//	  'T', ... (N bytes))                         QoS 2: once its PUBREL came)
//	Sending PUBLISH to ID (dD, qQ, rR, mM,      deliver{Topic T, Seq, Attrs{qos, dup, packet_id, replay "true"
//	  'T', ... (N bytes))                         right after a resuming CONNACK}}
//	Sending PUBACK to ID (mM, rc0)              mqtt.puback{Topic, Seq, Attrs{packet_id, from: server}}
//	Received PUBACK from ID (Mid: M, RC:0)      mqtt.puback{Topic, Seq, Attrs{packet_id, from: client,
//	                                              known "false" for an id the session did not have out}}
//	Received PINGREQ from ID                    mqtt.pingreq{Attrs{answered "true"}} (mosquitto answers at once)
//	Received DISCONNECT from ID                 mqtt.disconnect
//	Client ID already connected, closing old    conn.close{takeover} of ID's connection (server_close when
//	  connection. + New client connected …        the new one is the harness's close action)
//	Client ID disconnected.                     conn.close{disconnect} (after DISCONNECT)
//	Client ID closed its connection.            conn.close{eof} (EOF or reset: the client or its link went)
//	Client ID disconnected: Connection reset    conn.close{eof}
//	  by peer. | Broken pipe.
//	Client ID has exceeded timeout,             conn.close{keepalive}
//	  disconnecting.
//	Client ID disconnected due to protocol      conn.close{error:protocol error}, and likewise malformed
//	  error.                                      packet, oversize packet, …; any other errno: error:<text>
//	(process killed: Close)                     conn.close{killed} for every connection still open, then
//	                                              session.expire{Attrs{client_id, why: killed, dropped}} for
//	                                              every persistent session (persistence is off)
//	(process gone by itself)                    conn.close{error:mosquitto exited}, session.expire{why: exited},
//	                                              and a harness error with its last lines
//
// Every event has Server, and Conn "<server>#<n>" (n in the front
// listener's accept order; the topology renumbers a restarted broker's to
// continue) and Session once the CONNACK was sent. (A connection that
// reached mosquitto's own port without the harness, which nothing in a run
// does, would be numbered and accepted by its "New connection" line.) The
// session mapping wrapper (packs/mqtt/sessions.go) adds session.*.
//
// A connection is known by its address until its CONNECT is accepted, then
// by its client id. One that sent no CONNECT is "<unknown>" in mosquitto's
// close line: with several such connections open, the relays tell which
// one mosquitto just closed: for a close on an EOF or a reset ("closed its
// connection", "Connection reset by peer", "Broken pipe") the one whose
// harness side ended first (the client's end passed on, or a probe
// closed), for any other (a protocol error, a timeout, a refusal) the one
// whose relay saw mosquitto close it first (within 50 ms of the line);
// failing that, the oldest is taken.
//
// # Seqs
//
// mosquitto logs no payloads. The harness's own connection (client id
// faultline-publisher, reserved) subscribes to '#' at QoS 0 and reads a copy
// of every message in the order mosquitto sends it to it; the n-th "Sending
// PUBLISH to faultline-publisher" is the n-th message it read, which names
// the message of the "Received PUBLISH" just before: its Seq is the integer
// in the payload ({"n":N}, {"seq":N} or a bare integer). The receive and
// the deliveries logged before that copy wait for it (microseconds). A
// message of a '$' topic has no copy: Seq 0. A delivery that does not
// follow its message's receipt (a resumed session's, one beyond the
// client's inflight window of 20, a retained message on a new
// subscription, a DUP resend) is named from a model of what mosquitto holds
// per client id: subscriptions (the first matching one decides an MQTT 3
// client's QoS, as mosquitto's tree search finds them), messages queued (QoS
// > 0, up to max_queued_messages 1000), messages in flight by packet id,
// retained messages by topic. The model follows the log; a delivery it
// cannot name has Seq 0.
//
// # Publish and close
//
// Publish sends {"n":k} (k = 1, 2, … per topic per incarnation) at QoS 1 on
// the harness's connection, recorded as publish just before it is written;
// mosquitto routes it as any client's. The harness's connections appear in
// no event.
//
// mosquitto has no command to drop a client. CloseConnections closes each
// client's connection the way mosquitto closes one itself: another
// connection CONNECTs with the same client id and the client's own clean
// session flag (a takeover), then disconnects. A persistent session so
// passes through the harness's connection and stays, with its subscriptions
// and its unacknowledged messages, which mosquitto resends (DUP) to the
// harness's connection and again to the client when it comes back; a clean
// one ends as it would have (its will is published). Limits: a connection
// that sent no CONNECT cannot be closed so; an MQTT 5 client's session is
// taken over at MQTT 3.1.1 (its expiry interval becomes 3.1.1's: none).
//
// # What the real broker cannot give
//
//   - no levers: mosquitto cannot be told to refuse CONNECTs with a code,
//     withhold PINGRESP or forget its sessions at run time, so the kind
//     registers no actions (a scenario that asks for them is refused);
//   - keepalive closes are late: mosquitto 2.0.11 looks for silent clients
//     only when its last look is more than 5 whole seconds old
//     (keepalive.c), so a client silent past 1.5 × its keepalive is closed
//     up to about 6 s later than the fake closes it;
//   - accept is stamped when the front listener took the connection
//     (before mosquitto has it), deliver when mosquitto logged the send
//     (just before writing the packet: handed to the socket, not
//     received), receive when its seq is known; a close mosquitto never
//     logged is stamped when the probe is answered (milliseconds after
//     the client went);
//   - no mqtt.drop: mosquitto logs "Outgoing messages are being dropped for
//     client ID." once per spell, not per message;
//   - a client id or topic that itself contains a log line's fixed text
//     (" (d0, q1", " as ") may be cut in the wrong place; the drivers' ids
//     (fl-…) cannot; log lines are at most 999 bytes (logging.c), so a
//     longer one is cut and not understood.
package real
