// Package control puts fake servers behind a small HTTP API, so that a harness
// can run them in another process: a container, a docker-compose service, a
// shared host. `faultline serve` is a Host; the harness's side is Client and
// Server (a fakeserver.Server handle over the API).
//
// The API (version 1; JSON bodies, errors as {"error": "..."} with a 4xx/5xx):
//
//	GET  /health                 → Health: API version, boot id, the servers and their addresses
//	GET  /events?from=N          → NDJSON, one Envelope per line, from event N on, following
//	                               live until the client goes (a heartbeat line {"n":-1} every
//	                               second keeps idle streams honest)
//	PUT  /servers/{name}         ← ServerConfig → Reset: the server is started again, fresh,
//	                               with that configuration, on its fixed address; Next is
//	                               where its new events begin in the stream
//	POST /servers/{name}/actions/{action} ← Action{args, urls} → the action's result:
//	                               every action on a server, through one endpoint (actions.go):
//	                               its kind's own (fakeserver.Kind.Actions: refuse, lame_duck, …;
//	                               → {}) and the capabilities a server has by what it can do:
//	  publish        args Publish → {"seq": n}
//	  close_sessions              → {}: every session is closed deliberately
//	  peers          args Peers   → {}: the run's context store and the client-facing
//	                               URL of every server by name (migration)
//	  migrate        args Migrate → {"asked": n}
//	  migrate_cancel              → {"cancelled": n}
//	  pace_rows      args Pace    → {}: row pacing of streaming requests
//
// A serve process may also host links (`faultline serve --links ADDR`,
// Host.ServeLinks): Toxiproxy's own HTTP API on ADDR, not on this one, and
// the links' link.accept and link.dial_fail events in this event stream.
//
// Also, for migration:
//
//	POST /stores/{id}/{op}              the context store a run's servers share (store.go)
//
// Version 3 moved publish, close, peers, migrate, migrate/cancel and pace,
// each once a route of its own, into the actions endpoint.
//
// One clock: the serve process does not stamp events with the run's clock. Each
// envelope carries the wall-clock instant the event was recorded (TS) only so
// that the harness can measure the delay it adds; the harness stamps every
// event into its history when it arrives, as it does for every other source.
package control

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// APIVersion is bumped on any incompatible change of the API.
const APIVersion = 3

// Health is GET /health.
type Health struct {
	API     int          `json:"api"`
	Boot    string       `json:"boot"` // random per process: a restarted process has a new one
	Servers []ServerInfo `json:"servers"`
	Next    int64        `json:"next"` // the stream position of the next event
	// Links is where this process serves the Toxiproxy API of the links it
	// hosts (`faultline serve --links`), as bound; empty when it hosts none.
	// Their link.accept and link.dial_fail events (Link set, Server empty)
	// are in the stream with the servers' events.
	Links string `json:"links,omitempty"`
}

// ServerInfo describes one hosted server.
type ServerInfo struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Listen string `json:"listen"` // as configured (":7000")
	Addr   string `json:"addr"`   // as bound ("[::]:7000")
}

// ServerConfig is a server's kind and options (PUT /servers/{name}, and the
// JSON form of `faultline serve --config`). Zero values mean the kind's
// defaults.
type ServerConfig struct {
	Name      string   `json:"name,omitempty"`
	Kind      string   `json:"kind,omitempty"` // default "session"
	Listen    string   `json:"listen,omitempty"`
	Ping      Duration `json:"ping,omitempty"`
	Retention Duration `json:"retention,omitempty"`
	Buffer    int      `json:"buffer,omitempty"`
}

// Reset is the answer to PUT /servers/{name}.
type Reset struct {
	Next int64  `json:"next"`
	Addr string `json:"addr"`
}

// Peers is the peers action's args: what a session server needs to
// migrate its sessions.
type Peers struct {
	// URLs are the servers' URLs as clients reach them (their links), by the
	// scenario's names: the target a migrate frame names.
	URLs map[string]string `json:"urls"`
	// Store is the run's context store: ID names it on its host; URL is the
	// host's API as this server's process reaches it, empty when this very
	// process hosts it.
	Store StoreRef `json:"store"`
}

// StoreRef names a run's context store.
type StoreRef struct {
	URL string `json:"url,omitempty"`
	ID  string `json:"id"`
}

// Migrate is the migrate action's args: ask every live session to move
// to server To (or re-target), starting Hold after the client is ready.
type Migrate struct {
	To   string   `json:"to"`
	Hold Duration `json:"hold,omitempty"`
}

// Pace is the pace_rows action's args.
type Pace struct {
	Every Duration `json:"every"`
}

// Publish is the publish action's args.
type Publish struct {
	Topic string          `json:"topic"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Envelope is one line of the event stream.
type Envelope struct {
	N     int64         `json:"n"`            // position in the stream (0, 1, …); -1 for a heartbeat
	TS    int64         `json:"ts,omitempty"` // wall clock (Unix ns) when the serve process recorded it
	Event history.Event `json:"event"`
}

// Duration is a time.Duration as Go's text ("250ms") in JSON.
type Duration time.Duration

// MarshalJSON writes "250ms".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "250ms" (or a number of nanoseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration: want a string like \"250ms\": %w", err)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

type apiError struct {
	Error string `json:"error"`
}
