package containers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/faultline/faultline/fakeserver/control"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
	"github.com/faultline/faultline/proxy"
)

// Up starts one serve container per server of sc (in parallel), follows
// their events, and hands out the shared Toxiproxy.
func (t *Topology) Up(ctx context.Context, sc *scenario.Scenario, rec history.Recorder) (*topology.Deployment, error) {
	t.upMu.Lock()
	defer t.upMu.Unlock()
	// The previous run's containers go first. Docker 20.10 can lose count
	// of a network's endpoints when containers are removed from it while
	// others are being connected (the network then cannot be removed until
	// the engine restarts), so removal overlaps the judging of a run, not
	// the start of the next.
	t.waitPending(ctx)
	if err := t.base(ctx); err != nil {
		return nil, err
	}
	if len(sc.Servers) > len(t.ports) {
		return nil, fmt.Errorf("%d servers, but the links container publishes %d link ports (Options.Links)", len(sc.Servers), len(t.ports))
	}
	t.mu.Lock()
	t.seq++
	seq := t.seq
	api, lctl := t.api, t.lctl
	t.mu.Unlock()

	runDelays := &control.Delays{}
	var links *topology.LinkFeed // this run's link events (below)
	servers := make([]*serveContainer, len(sc.Servers))
	errs := make([]error, len(sc.Servers))
	var wg sync.WaitGroup
	for i, s := range sc.Servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = t.startServer(ctx, s, seq, rec, runDelays)
		}()
	}
	wg.Wait()
	// down ends the feeds at once and removes the containers in the
	// background: the next run need not wait for them (its aliases differ),
	// and Close waits for every removal still under way.
	down := func(context.Context) error {
		links.Stop()
		for _, s := range servers {
			if s != nil {
				s.stopFeed()
			}
		}
		t.pending.Add(1)
		go func() {
			defer t.pending.Done()
			rctx, cancel := context.WithTimeout(context.Background(), t.opts.Timeout)
			defer cancel()
			var wg sync.WaitGroup
			for _, s := range servers {
				if s == nil {
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := s.remove(rctx); err != nil {
						t.mu.Lock()
						t.bgErrs = append(t.bgErrs, err)
						t.mu.Unlock()
					}
				}()
			}
			wg.Wait()
		}()
		return nil
	}
	if err := errors.Join(errs...); err != nil {
		_ = down(context.WithoutCancel(ctx))
		return nil, err
	}
	var names []string
	nodes := map[string]topology.Node{}
	for _, s := range servers {
		names = append(names, s.name)
		nodes[s.name] = topology.Node{Server: s, Upstream: s.upstream}
	}
	if err := topology.SweepProxies(api, names, t.ports); err != nil {
		_ = down(context.WithoutCancel(ctx))
		return nil, err
	}
	// The links container serves every run: this run's link events are
	// those from where its stream is now, of links named as its servers.
	lh, err := lctl.Health(ctx)
	if err != nil {
		_ = down(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("links container: %w", err)
	}
	links = topology.StartLinkFeed(lctl, lh.Next, names, rec, &t.delays, runDelays)
	if err := links.Opened(ctx); err != nil {
		_ = down(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("links container: event stream: %w", err)
	}
	for _, s := range servers {
		s.Hosted.AfterLink(links)
	}
	remote, err := proxy.NewRemote(api, rec, proxy.WithListen("0.0.0.0"), proxy.WithPorts(t.ports...), proxy.WithMapAddr(t.mapAddr))
	if err != nil {
		_ = down(context.WithoutCancel(ctx))
		return nil, err
	}
	tp := &linkTracker{Toxiproxy: remote, links: map[string]*proxy.Link{}}
	for _, s := range servers {
		s.links = tp
	}
	dep := topology.NewDeployment(tp, nodes, down)
	dep.Delays = runDelays
	if topology.Migrates(sc) {
		dep.Peers = peers(sc, servers) // peers.go
	}
	return dep, nil
}

// waitPending waits (within ctx) for background removals to finish.
func (t *Topology) waitPending(ctx context.Context) {
	waited := make(chan struct{})
	go func() { t.pending.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
	}
}
