// Package session is faultline's own protocol pack: the session server
// (kind "session", package server) that speaks faultline's JSON-over-WebSocket
// session protocol (package wire) to the Go engine and the Node SDK, on
// "ws://host:port/" URLs. Its evidence is the session vocabulary of
// packs/session/EVENTS.md. It has no actions of its own: the common server
// steps (publish, close, kill, restart, migrate) are all it takes. Importing
// it registers the kind.
package session

import (
	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/session/server"
)

// Kind is the session server's kind name.
const Kind = "session"

func init() {
	fakeserver.RegisterKind(fakeserver.Kind{Name: Kind, Protocol: fakeserver.OwnProtocol, Scheme: "ws", Path: "/", Start: start,
		Doc: "a session server: reconnection, recovery, failover, migration (R, F, C, M); options: ping, retention, buffer"})
}

func start(name string, rec history.Recorder, cfg fakeserver.Config) (fakeserver.Server, error) {
	return server.Start(name, rec, server.Options{Ping: cfg.Ping, MaxRetention: cfg.Retention, Buffer: cfg.Buffer, Listen: cfg.Listen,
		Store: cfg.Store})
}
