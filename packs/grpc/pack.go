// Package grpc is faultline's gRPC protocol pack: the server kind "grpc",
// the "grpc://" URL scheme, the server actions a scenario may ask of it, and
// the mapping of its connection evidence onto the neutral session
// vocabulary the timing checkers read (sessions.go). Importing the package
// registers the kind.
//
// There is no fake/real split for gRPC, unlike the NATS and MQTT packs: the
// kind's server (package server) is the real grpc-go server library, with
// faultline's evidence hooks around it (a wrapped listener and connections,
// a stats handler) and its levers built from grpc-go's own API
// (GracefulStop for GOAWAY, Stop for the kill). Protocol faults that a real
// server never produces (no SETTINGS, bad GOAWAY ids) are not this kind's.
package grpc

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/grpc/server"
)

// Protocol is the name a gRPC driver's hello gives.
const Protocol = "grpc"

// Scheme is the URL scheme of the kind: grpc://127.0.0.1:PORT, no path.
const Scheme = "grpc"

// Kind is the server kind's name.
const Kind = server.Kind

// DefaultGrace is the goaway action's grace when the step gives none.
const DefaultGrace = time.Second

func init() {
	fakeserver.RegisterKind(fakeserver.Kind{Name: Kind, Protocol: Protocol, Scheme: Scheme, Start: start, Actions: actions(), ClientSession: ClientSession,
		Doc: "the grpc-go server library v1.85.0 (plaintext h2c), embedded: the health service and faultline.grpc.Feed (Hello, Subscribe, Send, Rows); evidence from its wrapped listener and connections and a stats handler; levers goaway, close_all, accept_then_close, refuse; option: ping (server keepalive pings)"})
}

// ClientSession is the server's name for the session a client names: the
// client reports the value the server's Hello answered with, which is the
// server's own session id already ("<server>@<start id>/<client>#<n>").
func ClientSession(_, claimed string) string { return claimed }

func start(name string, rec history.Recorder, cfg fakeserver.Config) (fakeserver.Server, error) {
	return server.Start(name, newSessions(rec), server.Options{Listen: cfg.Listen, Ping: cfg.Ping})
}

// goAwayArgs are goaway's attributes.
type goAwayArgs struct {
	// Grace is how long the streams in flight may go on after the GOAWAY
	// before their connection is closed (default 1s).
	Grace *time.Duration `yaml:"grace"`
}

func (a *goAwayArgs) Validate() error {
	if a.Grace != nil && *a.Grace <= 0 {
		return fmt.Errorf("goaway grace must be positive (default %v), got %v", DefaultGrace, *a.Grace)
	}
	return nil
}

func (a *goAwayArgs) grace() time.Duration {
	if a == nil || a.Grace == nil {
		return DefaultGrace
	}
	return *a.Grace
}

// The docs of the actions other packs have too: one name, one meaning.
const (
	docAdmit         = "the server admits connections again after a refusal" // one name, one meaning across kinds: refuse and accept_then_close say what admit undoes
	docStopListening = "the server stops listening: dials are refused (through its link: link.dial_fail); open connections go on"
)

func actions() map[string]fakeserver.Action {
	with := func(name string, do func(*server.Server, any) error) func(context.Context, fakeserver.Server, any, fakeserver.Env) error {
		return func(_ context.Context, s fakeserver.Server, args any, _ fakeserver.Env) error {
			g, ok := s.(*server.Server)
			if !ok {
				return fmt.Errorf("%s: %T is not a gRPC server", name, s)
			}
			return do(g, args)
		}
	}
	flag := func(name, doc string, do func(*server.Server) error) fakeserver.Action {
		return fakeserver.Action{Doc: doc, Do: with(name, func(g *server.Server, _ any) error { return do(g) })}
	}
	return map[string]fakeserver.Action{
		"goaway": {
			Doc:  "GOAWAY to every open connection (grpc-go's graceful drain); streams in flight may finish within the grace (default 1s), then the connections still open are closed; the listener stays open, new connections are served at once",
			Args: func() any { return &goAwayArgs{} },
			Do: with("goaway", func(g *server.Server, args any) error {
				a, _ := args.(*goAwayArgs)
				g.GoAway(a.grace())
				return nil
			}),
		},
		"close_all": flag("close_all", "every open connection is closed at once, without GOAWAY; the server keeps accepting",
			func(g *server.Server) error { g.CloseConnections(); return nil }),
		"accept_then_close": flag("accept_then_close", "every later connection is accepted and closed at once, before any HTTP/2 byte (the reconnect interop test's retry server); admit undoes it",
			func(g *server.Server) error { g.AcceptThenClose(true); return nil }),
		"stop_listening": flag("stop_listening", docStopListening, func(g *server.Server) error { g.Refuse(); return nil }),
		"admit":          flag("admit", docAdmit, func(g *server.Server) error { return g.Admit() }),
	}
}
