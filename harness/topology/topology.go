// Package topology brings up what a scenario runs against: its fake servers
// and the Toxiproxy its links are made on. The same scenarios run unchanged
// on three topologies:
//
//   - Embedded (the default): fake servers and Toxiproxy in this process.
//   - containers (package topology/containers): each fake server a `faultline
//     serve` container, the links one `faultline serve --links` container, on
//     a private Docker network started by testcontainers-go; links are driven
//     over Toxiproxy's API and the servers' and links' events stream back
//     over the serve control API (links.go).
//   - External: links (`faultline serve --links`, or a stock Toxiproxy) and
//     `faultline serve` processes someone else started (docker-compose.yml),
//     described by a topology file.
//
// Whatever the topology, server-side evidence lands in the run's history
// with the run's one clock (stamped on arrival), server names are the
// scenario's, and connection ids stay unique within a run (see renumber).
package topology

import (
	"context"
	"errors"
	"sync"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/fakeserver/control"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/proxy"
)

// Topology starts, per scenario run, the scenario's servers and the Toxiproxy
// to put links on. A Topology may keep things between runs (a container
// network, a Toxiproxy container); those it releases in its own Close, if it
// has one.
type Topology interface {
	// Name is the mode's name: "embedded", "containers", "external".
	Name() string
	// Up starts every server of sc, recording their events into rec. On
	// error, whatever it started is already stopped.
	Up(ctx context.Context, sc *scenario.Scenario, rec history.Recorder) (*Deployment, error)
}

// Node is one fake server of a deployment.
type Node struct {
	// Server is the handle the runner acts through. Besides fakeserver.Server
	// it implements what its topology can do of fakeserver.Publisher,
	// SessionCloser, Killer and Restarter.
	Server fakeserver.Server
	// Upstream is the address the server's link dials, as the Toxiproxy sees it.
	Upstream string
}

// Deployment is one scenario's servers and Toxiproxy.
type Deployment struct {
	Servers   map[string]Node // by the scenario's server names
	Toxiproxy proxy.Toxiproxy // links are made on it; Down closes it
	// Delays, when servers run in other processes, collects how late their
	// events reached the harness during this run (nil: they record in place).
	Delays *control.Delays
	// Peers, when servers run in other processes, gives the run's session
	// servers their shared context store and every server's link URL by name
	// (migration); nil: the runner does it in place.
	Peers func(ctx context.Context, urls map[string]string) error

	once  sync.Once
	err   error
	downs []func(ctx context.Context) error // run in order by Down
}

// NewDeployment makes a deployment whose Down closes tp and then runs downs
// in order.
func NewDeployment(tp proxy.Toxiproxy, servers map[string]Node, downs ...func(ctx context.Context) error) *Deployment {
	return &Deployment{Servers: servers, Toxiproxy: tp, downs: downs}
}

// Down heals and removes every link, then stops the servers. It is
// idempotent; ctx bounds what can be bounded (container calls).
func (d *Deployment) Down(ctx context.Context) error {
	d.once.Do(func() {
		var errs []error
		if d.Toxiproxy != nil {
			errs = append(errs, d.Toxiproxy.Close())
		}
		for _, f := range d.downs {
			errs = append(errs, f(ctx))
		}
		d.err = errors.Join(errs...)
	})
	return d.err
}

// Refuser is a topology that cannot run some scenarios at all (external
// mode cannot kill or restart processes it does not own).
type Refuser interface {
	// Refuses says why it cannot run sc; "" when it can.
	Refuses(sc *scenario.Scenario) string
}

// Refuses is t's reason not to run sc, "" when it can (a nil t is the
// embedded default, which runs everything).
func Refuses(t Topology, sc *scenario.Scenario) string {
	if r, ok := t.(Refuser); ok {
		return r.Refuses(sc)
	}
	return ""
}
