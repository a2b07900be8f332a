// Package platform is the platform pack: fake platform instances (kind
// "instance", package instance), the upstreams a router (after ThingWorx's
// Connection Server) routes ingress messages to over the platform protocol
// (package wire/platform, JSON over WebSocket, faultline's own protocol
// family), on "ws://host:port/" URLs. Its evidence is the routing vocabulary
// of packs/platform/EVENTS.md. It has no actions of its own. Importing it
// registers the kind.
package platform

import (
	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/platform/instance"
)

// Kind is the platform instance's kind name.
const Kind = "instance"

func init() {
	fakeserver.RegisterKind(fakeserver.Kind{Name: Kind, Protocol: fakeserver.OwnProtocol, Scheme: "ws", Path: "/", Start: start,
		Doc: "a platform instance a router routes to (routing, T); option: ping"})
}

func start(name string, rec history.Recorder, cfg fakeserver.Config) (fakeserver.Server, error) {
	return instance.Start(name, rec, instance.Options{Ping: cfg.Ping, Listen: cfg.Listen})
}
