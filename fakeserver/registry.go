// Package fakeserver is the neutral layer under faultline's servers: the
// registry of server kinds that protocol packs fill (RegisterKind; the packs
// are under packs/: session, platform, nats), the kind-independent Config,
// the interfaces the runner and the control API (fakeserver/control) drive
// servers through (Server, Publisher, SessionCloser, Killer, Restarter,
// Migrator, RowPacer, Actor), the URL a client of a kind dials, the
// recording listener the WebSocket kinds share (RecListener), and the
// migration context store session servers share (ContextStore). It speaks no
// protocol itself. Every server records what it sees into the run's history:
// server-side evidence that checkers weigh above the client's own word.
package fakeserver

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Server is what the runner needs of every fake server, whatever its kind.
type Server interface {
	Name() string
	Addr() string // host:port
	URL() string
	Close() error
}

// Publisher is a server whose topics the timeline can publish to.
type Publisher interface {
	Publish(topic string, data json.RawMessage) int64
}

// SessionCloser is a server that can close its sessions deliberately.
type SessionCloser interface {
	CloseSessions()
}

// Unwrapper is a handle that stands for another server (a killable wrapper
// around the live process): actions reach the server it holds now.
type Unwrapper interface {
	Unwrap() Server
}

// Config is the kind-independent configuration a scenario gives a server.
// Zero values mean the kind's defaults.
type Config struct {
	Ping      time.Duration
	Retention time.Duration
	Buffer    int
	// Listen is the host:port to listen on (default "127.0.0.1:0"). A fixed
	// port lets a killed server come back where its link points; a serve
	// process in a container listens on ":port".
	Listen string
	// Store is the migration context store the run's session servers share
	// (a MemoryStore in-process); nil: none until the runner sets one
	// through Migrator.SetPeers.
	Store ContextStore
}

// StartFunc starts a server of a kind.
type StartFunc = func(name string, rec history.Recorder, cfg Config) (Server, error)

// Kind is one server kind, registered under its name the way a Toxiproxy
// toxic is: how to start it, the URL its clients dial, and the actions a
// scenario's server steps may ask of it beyond the common ones (publish,
// close, kill, restart, migrate).
type Kind struct {
	Name string
	// Protocol is the wire protocol its clients speak (OwnProtocol for the
	// session and platform packs' WebSocket kinds, "nats"): a driver whose
	// hello names another protocol is not run against it.
	Protocol string
	Scheme   string // the client URL's scheme: "ws", "nats"
	// Doc is its one-line description for the scenario schema and guide.
	Doc   string
	Path  string // the client URL's path ("/" for WebSocket kinds; "" for none)
	Start StartFunc
	// Actions are the kind's own server-step actions, by step key.
	Actions map[string]Action
	// ClientSession, when set, maps the session a client names (its state
	// events' session) onto the server's name for it. An MQTT client knows
	// only its client id, which each broker keys a session of its own by:
	// the server's session is "<server>/<client id>". nil: the client's name
	// is the server's (faultline's own protocol, NATS).
	ClientSession func(server, claimed string) string
}

// Action is a server-step action of one kind, like a fault verb is a link
// step's: its attributes struct is its configuration.
type Action struct {
	Doc string
	// Args returns a fresh pointer to the action's attributes struct (yaml
	// tags name its keys; a Validate() error method checks it); nil means
	// the action takes no attributes and is written `name: true`.
	Args func() any
	// Do acts on the live server of the kind.
	Do func(ctx context.Context, s Server, args any, env Env) error
}

// Env is what an action may need to know of the run beyond its server.
type Env struct {
	// URL is the client-facing URL of a scenario server (its link's).
	URL func(server string) (string, bool)
	// Names are the run's servers, for an action done elsewhere (Actor),
	// which is sent their URLs.
	Names []string
}

// Actor is a handle whose actions run elsewhere (a server in another
// process, behind the control API): Do hands the action to it.
type Actor interface {
	DoAction(ctx context.Context, action string, args any, env Env) error
}

var registry = struct {
	sync.Mutex
	kinds map[string]Kind
}{kinds: map[string]Kind{}}

// RegisterKind makes a server kind startable by name. Registering a kind
// twice is a programming error and panics, like database/sql drivers.
func RegisterKind(k Kind) {
	if k.Name == "" || k.Start == nil || k.Scheme == "" || k.Protocol == "" {
		panic("fakeserver: RegisterKind needs a name, a protocol, a scheme and a start function")
	}
	for _, c := range Capabilities {
		if _, clash := k.Actions[c]; clash {
			panic("fakeserver: kind " + k.Name + " registers an action named after the capability " + c)
		}
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.kinds[k.Name]; dup {
		panic("fakeserver: kind registered twice: " + k.Name)
	}
	registry.kinds[k.Name] = k
}

// OwnProtocol is faultline's own JSON-over-WebSocket session protocol: what
// a driver speaks when its hello names no protocol.
const OwnProtocol = "faultline"

// LookupKind returns a registered kind.
func LookupKind(name string) (Kind, bool) {
	registry.Lock()
	defer registry.Unlock()
	k, ok := registry.kinds[name]
	return k, ok
}

// Start starts a server of a registered kind.
func Start(kind, name string, rec history.Recorder, cfg Config) (Server, error) {
	k, ok := LookupKind(kind)
	if !ok {
		return nil, fmt.Errorf("fakeserver: unknown server kind %q (known: %v)", kind, Kinds())
	}
	return k.Start(name, rec, cfg)
}

// URL is the URL a client of kind dials to reach addr (host:port): the one
// place a scheme is put on an address.
func URL(kind, addr string) string {
	k, ok := LookupKind(kind)
	if !ok {
		k = Kind{Scheme: "ws", Path: "/"}
	}
	return k.Scheme + "://" + addr + k.Path
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	registry.Lock()
	defer registry.Unlock()
	out := make([]string, 0, len(registry.kinds))
	for k := range registry.kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ActionNames lists a kind's own actions, sorted.
func ActionNames(kind string) []string {
	k, _ := LookupKind(kind)
	out := make([]string, 0, len(k.Actions))
	for a := range k.Actions {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// ActionArgs returns a fresh attributes struct for a kind's action: ok is
// false when the kind has no such action; args is nil for a flag action.
func ActionArgs(kind, action string) (args any, ok bool) {
	k, _ := LookupKind(kind)
	a, ok := k.Actions[action]
	if !ok {
		return nil, false
	}
	if a.Args == nil {
		return nil, true
	}
	return a.Args(), true
}

// Do runs a kind's action on a server (the live one behind a wrapper).
func Do(ctx context.Context, kind, action string, s Server, args any, env Env) error {
	k, _ := LookupKind(kind)
	a, ok := k.Actions[action]
	if !ok {
		return fmt.Errorf("server kind %q has no action %q", kind, action)
	}
	if act, ok := s.(Actor); ok {
		return act.DoAction(ctx, action, args, env)
	}
	for {
		u, ok := s.(Unwrapper)
		if !ok {
			break
		}
		if s = u.Unwrap(); s == nil {
			return fmt.Errorf("%s: the server is killed", action)
		}
	}
	return a.Do(ctx, s, args, env)
}
