package driver

// OpProbe is the harness's lag probe (harness/runner/lagprobe.go): an op of
// no client, answered at once, whose round trip through the driver's stdin,
// its event loop and its stdout bounds how late that process could hand the
// harness a report at that time. It is not in the protocol's list of ops: a
// driver that does not know it refuses it like any unknown op ({"ok":
// false}), and any reply serves. The drivers of this repository answer it
// at once, without touching a session.
const OpProbe = "probe"

// Shared is implemented by a Driver that is not a Host but shares its
// process with other clients' drivers (the in-process Go engine: every
// client's engine runs in the harness's own process). Drivers with the same
// ProcessKey are probed as one process.
type Shared interface {
	ProcessKey() string
}

// InProcess is the ProcessKey of drivers that run in the harness's own
// process (the Go engine): their sockets count against its open files.
const InProcess = "in-process"
