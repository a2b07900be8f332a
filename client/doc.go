// Package client is faultline's reference client engine (the Go SDK): a
// session over the wire protocol (package wire) that detects connection loss,
// reconnects with a pluggable strategy inside one overall timeout, and
// recovers the session without losing or duplicating messages in either
// direction.
//
// Design: one event-loop goroutine owns all session state. Everything else
// (API calls, connection readers and writers, dial attempts, strategy timers)
// only posts events to its mailbox, which never blocks, so no lock is held
// across I/O and a strategy may call Start or Abort from anywhere. Callbacks
// run in order on one dispatcher goroutine, so they may call back into the
// Session without deadlock.
package client
