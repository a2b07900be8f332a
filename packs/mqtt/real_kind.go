package mqtt

import (
	"encoding/json"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/mqtt/real"
)

// KindReal is the real broker's kind: mosquitto, run as a process.
const KindReal = real.Kind

// The real broker has no actions of its own: what the fake's actions do
// (refuse with a code, withhold PINGRESP, expire sessions) mosquitto cannot
// be made to do at run time, so a scenario that asks for them is refused
// under --server-kind mqtt=mosquitto. The common publish, close, kill and
// restart work on it.
func init() {
	fakeserver.RegisterKind(fakeserver.Kind{Name: KindReal, Protocol: Protocol, Scheme: Scheme, Start: startReal, ClientSession: ClientSession,
		Actions: map[string]fakeserver.Action{},
		Doc: "the real mosquitto 2.0 broker (/usr/sbin/mosquitto, a process per server) behind the same links: evidence from its own log " +
			"(accepts, CONNECT/CONNACK, subscribe, receive, deliver, PUBACK, PINGREQ, closes with reasons); close is a takeover of each client id"})
}

// realServer adapts mosquitto to the runner's common actions.
type realServer struct{ *real.Server }

// Publish puts {"n":k} on topic (k per topic per incarnation), whatever
// data the step gives: the payload every MQTT kind publishes.
func (s realServer) Publish(topic string, _ json.RawMessage) int64 { return s.Server.Publish(topic) }

func (s realServer) CloseSessions() { s.Server.CloseConnections() }

func startReal(name string, rec history.Recorder, cfg fakeserver.Config) (fakeserver.Server, error) {
	s, err := real.Start(name, newSessions(rec), real.Options{Listen: cfg.Listen})
	if err != nil {
		return nil, err
	}
	return realServer{s}, nil
}
