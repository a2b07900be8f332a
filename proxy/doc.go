// Package proxy puts named Toxiproxy links in front of faultline's fake servers
// and injects faults into them on a scenario's timeline, recording each fault
// into the run's history (fault.on once it is in force, fault.off once it is
// healed).
//
// One interface, Toxiproxy, has two backends: Embedded runs Toxiproxy v2 in
// this process with no HTTP in between (the default), Remote drives a Toxiproxy
// elsewhere (a container, a shared host) over its HTTP API. Fault verbs are
// written once against a few backend primitives (add toxic, remove toxic,
// disable/enable, drop live connections) so that both backends behave alike.
//
// Verbs (the scenario's `fault:`), with their attributes (the step's extra keys):
//
//   - cut: refuse and drop. Every live connection is dropped at once (EOF), and
//     every connection opened during the fault is accepted by the link, which
//     still dials the server behind it (so the fake server records every
//     attempt), and is reset as soon as bytes flow either way. A client that
//     connects and only waits to read is not reset until the server writes.
//     Put in force as reset_peer toxics on both streams, then a drop of live
//     connections (embedded: stop and start on the same port; remote: disable
//     and enable). Heal removes the toxics. Direction is ignored.
//   - down: the link is down. Its listener is closed (new dials are refused)
//     and live connections are dropped. Heal listens again on the same address.
//     A refused dial reaches neither link nor server: evidence of attempts under
//     this verb is client-reported only. Direction is ignored.
//   - reset: reset_peer on the chosen stream(s); `timeout` (duration, default
//     0) delays the reset after the first bytes flow. Idle connections are not
//     touched. A connection that was open before the fault sees EOF rather than
//     a true RST (Toxiproxy sets SO_LINGER 0 only on connections it opens while
//     the toxic is present).
//   - blackhole: timeout 0 on the chosen stream(s): connections are held open
//     and their bytes dropped. Healing closes the held connections rather than
//     resuming them (Toxiproxy's behaviour).
//   - slow: latency on the chosen stream(s): `latency` (duration, >= 1ms),
//     `jitter` (duration, delay is latency ± jitter).
//   - throttle: bandwidth on the chosen stream(s): `rate` in KB/s (1 KB = 1000
//     bytes, > 0).
//   - slice: slicer on the chosen stream(s): data is cut into chunks of
//     `average_size` bytes (> 0) ± `size_variation` (< average_size), `delay`
//     (duration, microsecond resolution) between chunks.
//   - limit: limit_data on the chosen stream(s): the connection is closed once
//     `bytes` (> 0) have passed on that stream since the fault began.
//
// Directions are Toxiproxy's streams: "upstream" is client to server,
// "downstream" server to client, "both" (the default) is both. Toxicity is
// always 1. Toxiproxy works in milliseconds: durations are truncated to them.
//
// The embedded backend puts a small guard toxic before each reset_peer and
// limit_data toxic, to keep Toxiproxy from leaking the goroutines of the
// connections those toxics close (see guard.go).
//
// Embedded links also record what they see of clients: link.accept when a
// link takes a client's connection (before dialling its server) and
// link.dial_fail when the server cannot be reached (see accepts.go). Checkers
// order a client's attempts by them. Embedded.API serves Toxiproxy's HTTP API
// over an Embedded, so that a Remote can drive links that record them in
// another process (`faultline serve --links`, whose event stream carries
// them); a stock Toxiproxy records neither.
//
// Overlapping faults on one link compose: each fault owns its own uniquely
// named toxics, and a link stays down until every down fault on it is healed.
package proxy
