package containers

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	tc "github.com/testcontainers/testcontainers-go"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/fakeserver/control"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
)

// serveContainer is one fake server in its own container: a Hosted handle
// whose process can be killed and started again.
type serveContainer struct {
	*topology.Hosted
	t        *Topology
	name     string
	upstream string
	cfg      control.ServerConfig
	rec      history.Recorder
	delays   *control.Delays // this run's
	links    *linkTracker    // this run's links: a restart re-points its link

	mu2  sync.Mutex // guards upstream, read while a restart may change it
	mu   sync.Mutex // serialises kill, restart and remove
	c    tc.Container
	feed *topology.Feed
	up   bool
}

var (
	_ fakeserver.Killer    = (*serveContainer)(nil)
	_ fakeserver.Restarter = (*serveContainer)(nil)
)

// spec is the serve --server flag for a scenario server.
func spec(s scenario.Server) string {
	out := s.Name + ",listen=:" + strconv.Itoa(serverPort)
	if s.Kind != "" {
		out += ",kind=" + s.Kind
	}
	if s.Ping > 0 {
		out += ",ping=" + s.Ping.String()
	}
	if s.Retention > 0 {
		out += ",retention=" + s.Retention.String()
	}
	if s.Buffer > 0 {
		out += ",buffer=" + strconv.Itoa(s.Buffer)
	}
	return out
}

// startServer starts server s of run seq in its container and follows its
// events. The serveContainer comes back with the error too: whatever was
// made of it is for the run's down to remove.
func (t *Topology) startServer(ctx context.Context, s scenario.Server, seq int, rec history.Recorder, delays *control.Delays) (*serveContainer, error) {
	t.mu.Lock()
	nw := t.nw
	t.mu.Unlock()
	// An alias per run: a container of an earlier run that is still being
	// removed must not answer for this one.
	alias := fmt.Sprintf("%s-%d", s.Name, seq)
	sctx, cancel := createContext(ctx, t.opts.Timeout) // see base
	defer cancel()
	c, err := t.runServe(sctx, nw, withArgs("--server", spec(s)), withAliases(alias))
	sv := &serveContainer{t: t, name: s.Name, cfg: topology.Config(s), rec: rec, delays: delays}
	if c != nil {
		t.track(c)
		sv.c = c // not a nil *DockerContainer in the interface: remove tells none by sv.c == nil
	}
	if err != nil {
		return sv, fmt.Errorf("server %s: container: %w", s.Name, err)
	}
	if err := ctx.Err(); err != nil {
		return sv, err
	}
	if sv.upstream, err = upstreamOf(sctx, c); err != nil {
		return sv, fmt.Errorf("server %s: %w", s.Name, err)
	}
	cl, err := t.connect(sctx, c)
	if err != nil {
		return sv, fmt.Errorf("server %s: %w", s.Name, err)
	}
	sv.Hosted = topology.NewHosted(s.Name, s.Kind, sv.upstream, cl, rec)
	if err := sv.follow(sctx, cl); err != nil {
		return sv, fmt.Errorf("server %s: %w", s.Name, err)
	}
	sv.up = true
	return sv, nil
}

// upstreamOf is where the Toxiproxy reaches a server: its container's
// address on the network, not its alias. Why: Toxiproxy resolves the
// upstream at every client connection, and Docker's DNS measured here at
// 0.7 ms a lookup, 60 ms at worst: noise in every attempt's timing.
func upstreamOf(ctx context.Context, c tc.Container) (string, error) {
	ip, err := c.ContainerIP(ctx)
	if err != nil || ip == "" {
		return "", fmt.Errorf("container address: %v", err)
	}
	return net.JoinHostPort(ip, strconv.Itoa(serverPort)), nil
}

// follow streams a fresh process's events from its first.
func (s *serveContainer) follow(ctx context.Context, cl *control.Client) error {
	s.feed = topology.StartFeed(cl, []topology.FeedTarget{{Server: s.Hosted, From: 0}}, s.rec, &s.t.delays, s.delays)
	return s.feed.Opened(ctx)
}

// Name is the scenario's name for the server.
func (s *serveContainer) Name() string { return s.name }

// Addr is where its link dials, inside the network.
func (s *serveContainer) Addr() string {
	s.mu2.Lock()
	defer s.mu2.Unlock()
	return s.upstream
}

// stopFeed ends the event stream: the run is over.
func (s *serveContainer) stopFeed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feed.Stop()
	if s.Hosted != nil {
		s.Hosted.Client().Close()
	}
}

// remove removes the container.
func (s *serveContainer) remove(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return nil
	}
	err := s.c.Terminate(ctx, tc.StopTimeout(0))
	if err != nil && !notFound(err) {
		return fmt.Errorf("server %s: remove container: %w", s.name, err)
	}
	s.t.untrack(s.c)
	return nil
}
