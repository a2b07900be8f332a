// Package stdio runs a client engine's driver as a separate program that
// speaks the driver protocol (docs/driver-protocol.md, fixed) as
// newline-delimited JSON over its stdin and stdout, and serves a
// driver.Driver the same way.
//
// Factory is the harness's side: it starts the program from an argv (no
// shell), in a process group of its own so that a kill takes its children
// too, waits a bounded time for its hello, and then sends ops and routes what
// the program writes: replies to the op waiting on their id, events to the
// runner's sink (which stamps them as they arrive). Every wait is bounded. A
// program that exits, stops answering, writes a malformed line, replies to an
// id nobody asked about or sends no hello is marked failed: it is killed, and
// every pending and later op returns an *Error wrapping driver.ErrDriver that
// carries the evidence (the offending line, quoted and truncated; the exit
// status; the tail of its stderr, kept in a ring buffer). With KeepStderr
// a longer tail is kept whatever happens, for the report (KeptStderr).
//
// A program whose hello declares "sessions" above 1 hosts several clients
// (host.go): Factory returns a view of the process for the client in ctx's
// slot, and the runner places more clients in it with driver.Host's Open;
// ops name their client, events are routed by theirs, and one failure fails
// every client in the process.
//
// Serve is the driver's side: it serves any driver.Driver (the Go engine for
// `faultline driver`) over a reader and a writer: hello first, one goroutine
// reading ops, every reply and event written as one line through one lock.
// ServeSessions does the same for a session per client in one process.
//
// Each driver program started by Factory also gets two advisory environment
// variables, so that an SDK can make its randomness reproducible:
// FAULTLINE_SEED (the run's seed) and FAULTLINE_DRIVER (1, 2, …: which
// driver of the run this is, in the order of the scenarios' clients, even
// though the runner starts a scenario's drivers concurrently; see
// driver.Numbers); a multi-session process gets its clients' numbers and
// the seed on their connect ops instead. `faultline driver` uses them to draw the same random
// streams as the in-process Go engine.
package stdio
