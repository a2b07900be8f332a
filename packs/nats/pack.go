// Package nats is faultline's NATS protocol pack: the fake NATS server (kind
// "nats", package fake) and the real nats-server embedded (kind
// "nats-server", package real) behind the same links, the "nats://" URL
// scheme, the server actions a scenario may ask of them, and the mapping of
// their connection evidence onto the neutral vocabulary the timing checkers
// read. Importing it registers the kinds.
package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/nats/fake"
	"github.com/faultline/faultline/packs/nats/real"
)

// Protocol is the name a NATS driver's hello gives.
const Protocol = "nats"

// Kind names.
const (
	KindFake = "nats"
	KindReal = "nats-server"
)

func init() {
	fakeserver.RegisterKind(fakeserver.Kind{Name: KindFake, Protocol: Protocol, Scheme: "nats", Start: startFake, Actions: actions(true),
		Doc: "a fake NATS server (core client protocol): full evidence and levers a real server has not (refuse, withhold_pongs, announce); option: ping (server PINGs)"})
	fakeserver.RegisterKind(fakeserver.Kind{Name: KindReal, Protocol: Protocol, Scheme: "nats", Start: startReal, Actions: actions(false),
		Doc: "the real nats-server v2.15.3, embedded, behind the same links: the evidence it can give (accepts, CONNECT, closes with reasons); option: ping (server PINGs)"})
}

// fakeServer adapts the fake server to the runner's common actions.
type fakeServer struct{ *fake.Server }

func (s fakeServer) Publish(topic string, data json.RawMessage) int64 {
	return s.Server.Publish(topic, data)
}
func (s fakeServer) CloseSessions() { s.Server.CloseConnections() }

// realServer adapts the embedded nats-server likewise.
type realServer struct{ *real.Server }

func (s realServer) Publish(topic string, data json.RawMessage) int64 {
	return s.Server.Publish(topic, data)
}
func (s realServer) CloseSessions() { s.Server.CloseConnections() }

func startFake(name string, rec history.Recorder, cfg fakeserver.Config) (fakeserver.Server, error) {
	s, err := fake.Start(name, newSessions(rec), fake.Options{Listen: cfg.Listen, PingInterval: cfg.Ping, MaxPingsOut: maxPingsOut})
	if err != nil {
		return nil, err
	}
	return fakeServer{s}, nil
}

func startReal(name string, rec history.Recorder, cfg fakeserver.Config) (fakeserver.Server, error) {
	s, err := real.Start(name, newSessions(rec), real.Options{Listen: cfg.Listen, PingInterval: cfg.Ping, MaxPingsOut: maxPingsOut,
		LameDuckGrace: LameDuckGrace, LameDuckDuration: LameDuckGrace + lameDuckSpread})
	if err != nil {
		return nil, err
	}
	return realServer{s}, nil
}

// maxPingsOut is the server's unanswered pings before it calls a client
// stale: nats-server's default (DEFAULT_PING_MAX_OUT, server/const.go).
const maxPingsOut = 2

// LameDuckGrace is how long a server in lame duck mode keeps its clients
// before it starts closing them; lameDuckSpread is the time over which the
// real server then closes them (nats-server spreads its closes over
// LameDuckDuration − LameDuckGracePeriod; server.go lameDuckMode). Scaled
// from nats-server's 10 s and 2 min so that a scenario runs in seconds.
const (
	LameDuckGrace  = 500 * time.Millisecond
	lameDuckSpread = 500 * time.Millisecond
)

// announceArgs are announce's attributes.
type announceArgs struct {
	// Servers are the scenario servers whose addresses the server
	// advertises in INFO connect_urls (their links' host:port).
	Servers []string `yaml:"servers"`
}

func (a *announceArgs) Validate() error {
	if len(a.Servers) == 0 {
		return errors.New("announce needs servers (the servers to advertise)")
	}
	return nil
}

// refuseArgs are refuse's attributes.
type refuseArgs struct {
	// Error is the -ERR text every later CONNECT is answered with.
	Error string `yaml:"error"`
}

func (a *refuseArgs) Validate() error {
	if a.Error == "" {
		return errors.New("refuse needs error (the -ERR text, e.g. Authorization Violation)")
	}
	return nil
}

// actions are a NATS kind's own server-step actions. The fake server has
// levers a real one does not (refusing, withholding pongs, announcing
// peers); the real one's lame duck mode is its own.
func actions(fakeKind bool) map[string]fakeserver.Action {
	out := map[string]fakeserver.Action{
		"lame_duck": {
			Doc: "the server enters lame duck mode: it stops accepting, tells its clients (INFO ldm: true), and closes them after a grace",
			Do: func(_ context.Context, s fakeserver.Server, _ any, env fakeserver.Env) error {
				switch s := s.(type) {
				case fakeServer:
					s.LameDuck(LameDuckGrace)
				case realServer:
					s.LameDuck()
				default:
					return fmt.Errorf("lame_duck: %T is not a NATS server", s)
				}
				return nil
			},
		},
	}
	if !fakeKind {
		return out
	}
	out["announce"] = fakeserver.Action{
		Doc:  "the server advertises other servers to its clients (INFO connect_urls), as a cluster's gossip does",
		Args: func() any { return &announceArgs{} },
		Do: func(_ context.Context, s fakeserver.Server, args any, env fakeserver.Env) error {
			a := args.(*announceArgs)
			var urls []string
			for _, n := range a.Servers {
				u, ok := env.URL(n)
				if !ok {
					return fmt.Errorf("announce: no server %q", n)
				}
				// nats-server advertises host:port (getClientConnectURLs());
				// nats.go prefixes its own scheme (updateServerPool()), so a
				// full URL would reach its pool as "nats://nats://…".
				if _, hp, ok := strings.Cut(u, "://"); ok {
					u = hp
				}
				urls = append(urls, u)
			}
			s.(fakeServer).AnnounceNamed(urls, a.Servers)
			return nil
		},
	}
	out["refuse"] = fakeserver.Action{
		Doc:  "every later CONNECT is answered with -ERR and the connection closed",
		Args: func() any { return &refuseArgs{} },
		Do: func(_ context.Context, s fakeserver.Server, args any, _ fakeserver.Env) error {
			s.(fakeServer).Refuse(args.(*refuseArgs).Error)
			return nil
		},
	}
	out["admit"] = fakeserver.Action{
		Doc: "the server admits connections again after a refusal",
		Do: func(_ context.Context, s fakeserver.Server, _ any, _ fakeserver.Env) error {
			s.(fakeServer).Refuse("")
			return nil
		},
	}
	out["withhold_pongs"] = fakeserver.Action{
		Doc: "the server stops answering its clients' PINGs (the link stays up): liveness must find the silence",
		Do: func(_ context.Context, s fakeserver.Server, _ any, _ fakeserver.Env) error {
			s.(fakeServer).WithholdPongs(true)
			return nil
		},
	}
	out["answer_pongs"] = fakeserver.Action{
		Doc: "the server answers PINGs again",
		Do: func(_ context.Context, s fakeserver.Server, _ any, _ fakeserver.Env) error {
			s.(fakeServer).WithholdPongs(false)
			return nil
		},
	}
	return out
}
