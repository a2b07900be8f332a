// Package client is faultline's reference client engine (the Go SDK): a
// session over the wire protocol (package wire) that detects connection loss,
// reconnects with a pluggable strategy inside one overall timeout, recovers
// the session without losing or duplicating messages in either direction,
// and moves across a list of servers by cascading and autofailover.
//
// Design: one event-loop goroutine owns all session state. Everything else
// (API calls, connection readers and writers, dial attempts, strategy timers)
// only posts events to its mailbox, which never blocks, so no lock is held
// across I/O and a strategy may call Start or Abort from anywhere. Callbacks
// run in order on one dispatcher goroutine, so they may call back into the
// Session without deadlock.
//
// # Servers, cascading, autofailover, load balancing
//
// Options.Servers is an ordered list of URLs. Cascading, Failover and
// LoadBalancing are independent switches (Diffusion's client failover docs):
//
//   - An attempt is one dial + WebSocket upgrade + hello + answer, bounded by
//     ConnectTimeout, so a server whose link holds the handshake (blackhole)
//     costs at most ConnectTimeout.
//
//   - Cascading applies before a connection exists. Connect tries Servers[0];
//     with Cascading on, an attempt that fails (refused, reset, timed out, or
//     answered with garbage) is followed at once by an attempt on the next
//     server in list order, each server once. Without Cascading only
//     Servers[0] is tried. An explicit refusal (access denied, bad hello) ends
//     the cascade: the server answered, and another would answer the same.
//     LoadBalancing does not reorder the cascade: it is always list order.
//
//   - Autofailover applies once a session was established. When the
//     connection of a CONNECTED_ACTIVE session is lost and the session cannot
//     be kept (see below), the session goes CONNECTING and walks the list for
//     a new session: the servers after the lost one in list order (wrapping
//     round), then the lost server itself as the last resort; each once, each
//     attempt bounded by ConnectTimeout, no delay between attempts. With
//     LoadBalancing on, the servers other than the lost one are shuffled
//     (Fisher–Yates from Options.Rand) before the first is chosen, so each is
//     equally likely to be next; the lost server still comes last.
//
//   - A failover opens a new session: nothing is carried over. The hello
//     names no session; the new session has a new id, no subscriptions (the
//     application subscribes again, told by the CONNECTED_ACTIVE with the new
//     id), and its own message and send numbering. Sends the old server had
//     not acknowledged are discarded and reported through OnError
//     (ErrDiscarded), never resent to another server.
//
//   - A walk (cascade or failover) that runs out of servers closes the
//     session CLOSED_FAILED; the StateChange and the CloseError list in
//     Tried every server URL tried, in order, and the close reason is that
//     of the last failure (connection_error, or handshake_rejected for
//     garbage). Nothing is tried after that.
//
// # Autofailover and reconnection together
//
// Diffusion's failover docs call them incompatible: reconnection recovers a
// session's state, which another server does not have. With both on, the
// engine recovers first and fails over only once recovery is impossible: on
// loss it enters RECOVERING_RECONNECT and makes every reconnection attempt to
// the server it lost (a session is never resumed on another server); when the
// recovery ends without success (the reconnection timeout passed, the
// strategy aborted, or the server answered unknown_session or lost_messages)
// it fails over instead of closing: RECOVERING_RECONNECT → CONNECTING, whose
// Reason says why the session was given up, then a new session elsewhere.
// With reconnection off, a loss fails over at once (CONNECTED_ACTIVE →
// CONNECTING, reason connection_lost). A deliberate close by the client or
// the server is not a loss: neither reconnection nor failover follows.
//
// # Streaming requests and migration (Open Server's)
//
// Request streams rows 1..n and a final done (OnRow, OnDone), each row
// exactly once and in order, across reconnections and migrations: a resuming
// hello lists the requests still awaited with the last row received, so the
// server goes on after it. Cancel sends an attention; the request ends with
// one final done (cancelled: the acknowledgment) and nothing of it follows.
//
// With Options.Migration on (the default of DefaultOptions; declared in the
// hello), a server's migration request is followed (migrate.go): new
// commands are held from REQUESTED on (attentions still go to the source
// until it starts), the engine answers READY, and once the source says
// MIGRATING it writes mig_leaving (its last frame there, after what is
// queued) and dials the target with the session's id and token, bounded by
// MigrationTimeout, keeping the source connection open. Resumed there, it
// resends what the target lacks and flushes what it held; the source's close
// of the old connection is expected. The session stays CONNECTED_ACTIVE
// throughout: a migration is neither a loss nor a failover, and a loss of
// the source while MIGRATING triggers nothing. If the target cannot be
// reached in time the engine reports mig_failed and goes on on the source,
// or, if the source was lost too, recovers as after any loss.
package client
