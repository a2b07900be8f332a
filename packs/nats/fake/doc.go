// Package fake is faultline's fake NATS server (kind "nats"): it speaks
// enough of the NATS client protocol (package packs/nats/wire) for a real
// client library to connect, subscribe, publish and be delivered to, and it
// records everything it sees into the run's history in the NATS pack's
// vocabulary (packs/nats/EVENTS.md). Unlike the real nats-server it can be
// told to misbehave on cue: withhold PONGs, refuse CONNECTs, announce
// cluster members, enter lame duck mode, drop its connections; the topology
// kills it (Close) and brings it back (a fresh Start on the same address).
//
// Shape: one accept loop; per connection a reader, which parses and acts,
// and a writer, which owns every write to the socket and takes from a
// bounded queue, so that a client that stops reading costs only its own
// connection. One mutex guards the server's state; the writer records the
// deliver events just before it writes, so a deliver means handed to the
// socket.
package fake
