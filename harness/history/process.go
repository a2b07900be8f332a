package history

// Process faults on fake servers (Source server, recorded by the topology that
// runs them, not by the server itself: a killed server records nothing more).
const (
	// KindKill: Server. The server's process is down (embedded: closed;
	// containers: the container is stopped). Recorded once it is.
	KindKill = "process.kill"
	// KindRestart: Server. The server is up again, fresh, on the same
	// address, and its events flow again. Recorded once it is.
	KindRestart = "process.start"
)

// KindLag (Source harness, Attrs{max, p99, n}): the delay with which server
// events streamed in from other processes reached the harness during the
// run, recorded once at its end. Such events are stamped on arrival, so they
// may follow, by up to max, a client's report of the same instant; checkers
// widen their cross-observer slack by it.
const KindLag = "lag"
