// Package selftest is `faultline driver-test`: the self-test a driver author
// runs first. It starts a driver program as the harness would and runs named
// steps against it, each PASS, FAIL or SKIP: the hello and its contract,
// every op of the protocol (an unknown op and a line that is not JSON too),
// a session on a fake server of the hello's protocol (connect, subscribe,
// messages, send, requests, close, a second session, a second client), the
// exit op, the lifecycle rule (U1) judged by the universal lifecycle check
// over the history the steps recorded, and the exit at the end of stdin.
//
// Every line the driver writes is parsed by the host's own parser
// (stdio.ParseLine), so a line it rejects is one a run would fail the
// driver for; each problem names the offending line (quoted, truncated) or
// the op that got nothing, and what was expected. Claims are held to the
// fake server's records: the session a CONNECTED_ACTIVE names must be one
// the server served, a subscribe and a send must reach it.
//
// Every wait is bounded (Config.Timeout, Config.ExitWait); the driver's
// process group is killed at the end whatever it did.
package selftest
