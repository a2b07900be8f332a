// Package mqtt is faultline's MQTT 3.1.1 protocol pack: the fake broker
// (kind "mqtt", package fake), the "mqtt://" URL scheme, the server
// actions a scenario may ask of it, and the mapping of a broker's session
// evidence onto the neutral vocabulary the timing checkers read
// (sessions.go). The real broker (kind "mosquitto", package real) is
// registered from real_kind.go. Importing the package registers the kinds.
package mqtt

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/mqtt/fake"
)

// Protocol is the name an MQTT driver's hello gives.
const Protocol = "mqtt"

// Scheme is the URL scheme of every MQTT kind.
const Scheme = "mqtt"

// KindFake is the fake broker's kind.
const KindFake = fake.Kind

func init() {
	fakeserver.RegisterKind(fakeserver.Kind{Name: KindFake, Protocol: Protocol, Scheme: Scheme, Start: startFake, Actions: fakeActions(), ClientSession: ClientSession,
		Doc: "a fake MQTT 3.1.1 broker (QoS 0/1, persistent sessions, takeover, keepalive 1.5×): full evidence and levers a real broker has not (refuse_connack, withhold_pongs, expire_sessions)"})
}

// ClientSession is the broker's name for the session a client names by its
// client id: MQTT keeps session state per client id on each broker, so the
// same id on two brokers is two sessions ("<server>/<client id>").
func ClientSession(server, clientID string) string { return server + "/" + clientID }

// fakeServer adapts the fake broker to the runner's common actions.
type fakeServer struct{ *fake.Server }

func (s fakeServer) Publish(topic string, data json.RawMessage) int64 {
	return s.Server.Publish(topic, data)
}
func (s fakeServer) CloseSessions() { s.Server.CloseConnections() }

func startFake(name string, rec history.Recorder, cfg fakeserver.Config) (fakeserver.Server, error) {
	s, err := fake.Start(name, newSessions(rec), fake.Options{Listen: cfg.Listen})
	if err != nil {
		return nil, err
	}
	return fakeServer{s}, nil
}

// refuseArgs are refuse's attributes.
type refuseArgs struct {
	// Code is the CONNACK return code every later CONNECT is answered
	// with: 1 unacceptable protocol version, 2 identifier rejected, 3
	// server unavailable, 4 bad user name or password, 5 not authorized
	// (the default).
	Code int `yaml:"code"`
}

func (a *refuseArgs) Validate() error {
	if a.Code < 0 || a.Code > 5 {
		return fmt.Errorf("refuse code must be a CONNACK refusal, 1–5 (default 5, not authorized), got %d", a.Code)
	}
	return nil
}

func (a *refuseArgs) code() byte {
	if a.Code == 0 {
		return 5
	}
	return byte(a.Code)
}

// The docs of the actions the NATS fake has too: one name, one meaning
// (MQTT's PINGREQ is its clients' ping).
const (
	docAdmit    = "the server admits connections again after a refusal"
	docWithhold = "the server stops answering its clients' PINGs (the link stays up): liveness must find the silence"
	docAnswer   = "the server answers PINGs again"
)

// fakeActions are the fake broker's own server-step actions.
func fakeActions() map[string]fakeserver.Action {
	flag := func(doc string, do func(fakeServer)) fakeserver.Action {
		return fakeserver.Action{Doc: doc, Do: func(_ context.Context, s fakeserver.Server, _ any, _ fakeserver.Env) error {
			f, ok := s.(fakeServer)
			if !ok {
				return fmt.Errorf("%T is not the fake MQTT broker", s)
			}
			do(f)
			return nil
		}}
	}
	return map[string]fakeserver.Action{
		"refuse_connack": {
			Doc:  "every later CONNECT is answered with a refusing CONNACK (code 1–5, default 5 not authorized) and the connection closed",
			Args: func() any { return &refuseArgs{} },
			Do: func(_ context.Context, s fakeserver.Server, args any, _ fakeserver.Env) error {
				f, ok := s.(fakeServer)
				if !ok {
					return fmt.Errorf("refuse_connack: %T is not the fake MQTT broker", s)
				}
				f.Refuse(args.(*refuseArgs).code())
				return nil
			},
		},
		"admit":          flag(docAdmit, func(f fakeServer) { f.Refuse(0) }),
		"withhold_pongs": flag(docWithhold, func(f fakeServer) { f.WithholdPongs(true) }),
		"answer_pongs":   flag(docAnswer, func(f fakeServer) { f.WithholdPongs(false) }),
		"expire_sessions": flag("the broker discards every persistent session not connected now; connected ones are discarded when their connection ends",
			func(f fakeServer) { f.ExpireSessions() }),
	}
}
