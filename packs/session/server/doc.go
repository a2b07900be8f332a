// Package server is the session pack's server: faultline's own fake session
// server (server kind "session"), the server side of package wire (JSON
// frames over WebSocket), with reconnect retention, a per-session recovery
// buffer, streaming requests and migration between servers that share a
// context store (fakeserver.ContextStore). Everything it sees is recorded
// into the run's history (packs/session/EVENTS.md): server-side evidence
// that checkers weigh above the client's own word.
package server
