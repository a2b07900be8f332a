// Package all imports every protocol pack, so that their server kinds are
// registered (fakeserver.RegisterKind): the one list of packs the runner, the
// generated schema and docs, and the tests that start servers by kind read.
// A new pack is added here.
package all

import (
	_ "github.com/faultline/faultline/packs/grpc"     // kind grpc
	_ "github.com/faultline/faultline/packs/mqtt"     // kinds mqtt, mosquitto
	_ "github.com/faultline/faultline/packs/nats"     // kinds nats, nats-server
	_ "github.com/faultline/faultline/packs/platform" // kind instance
	_ "github.com/faultline/faultline/packs/session"  // kind session
)
