// Package fake is faultline's fake MQTT 3.1.1 broker (kind "mqtt"): it
// speaks enough of MQTT 3.1.1 (and 3.1, "MQIsdp", as mosquitto does) for a
// real client library to connect, subscribe, publish and be delivered to at
// QoS 0 and 1, keeps persistent sessions (clean session 0) across
// connections with their subscriptions and unacknowledged QoS 1 messages,
// and records everything it sees into the run's history in the MQTT pack's
// vocabulary (packs/mqtt/EVENTS.md). Unlike a real broker it can be told to
// misbehave on cue: refuse CONNECTs with a CONNACK code, withhold PINGRESPs,
// forget its persistent sessions.
//
// Packets are paho's (package packs/mqtt/wire bounds and checks them).
// Shape: one accept loop; per connection a reader, which decodes and acts,
// and a writer, which owns every write to the socket (each with a
// deadline) and takes from a bounded queue, so that a client that stops
// reading costs only its own connection. One mutex guards the broker's
// state; the writer records the deliver events just before it writes, so a
// deliver means handed to the socket. Keepalive is the reader's deadline:
// no packet within 1.5 × the CONNECT's keepalive ends the connection.
package fake
