// Package containers is the containers topology: every fake server of a
// scenario is a `faultline serve` container and the links are hosted by one
// more, `faultline serve --links` (Toxiproxy embedded, behind Toxiproxy's own
// HTTP API), on a private Docker network, started with testcontainers-go
// from images built here (make images; nothing is pulled). The client engine
// stays on the host and dials the links container's ports. The links
// container's event stream carries its links' link.accept and link.dial_fail,
// recorded into the run's history as the servers' events are.
//
// Cleanup is this package's job, not Ryuk's (the reaper's image cannot be
// pulled here): every container and the network carry a per-topology label,
// Close removes what it tracked and then sweeps anything else with that
// label (a container whose creation was cut short by an interrupt), and the
// CLI and the test suites call Close on success, failure and interrupt.
package containers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dnetwork "github.com/docker/docker/api/types/network"
	dclient "github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"
	tc "github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/fakeserver/control"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
	"github.com/faultline/faultline/proxy"
)

// RyukEnv must be "true" before testcontainers is first used: its reaper
// image cannot be pulled on a machine without a registry, and the library
// reads its configuration once.
const RyukEnv = "TESTCONTAINERS_RYUK_DISABLED"

// HostEnv overrides where testcontainers says a container's published ports
// are. Ports are published on 127.0.0.1 here (see loopback), so that is
// where they are; left to itself, testcontainers answers with the Docker
// bridge's gateway whenever /.dockerenv exists, as it does on this machine,
// where the engine is nonetheless local.
const HostEnv = "TESTCONTAINERS_HOST_OVERRIDE"

func init() {
	// Quiet unless asked (Options.Logf): its banner and progress lines are
	// noise in a run whose evidence is the history.
	tclog.SetDefault(logger(func(string, ...any) {}))
	_ = os.Setenv(RyukEnv, "true")
	if _, set := os.LookupEnv(HostEnv); !set {
		_ = os.Setenv(HostEnv, "127.0.0.1")
	}
}

// DefaultServeImage is built by `make images`. It runs the fake servers and
// hosts the links (`faultline serve --links`): the links record what they
// see of clients into its event stream, which a stock Toxiproxy cannot.
const DefaultServeImage = "faultline:local"

// Fixed container ports: each container has its own network namespace, and
// only the host side of a mapping varies.
const (
	controlPort   = "9000/tcp" // serve's control API
	linksAPIPort  = "8474/tcp" // the links container's Toxiproxy API
	serverPort    = 7000       // the fake server, inside its container
	firstLinkPort = 8666       // link ports, as Toxiproxy's images number them
)

// LabelRun marks every container and network of one Topology.
const LabelRun = "faultline.run"

// Options configure the topology. Zero values mean the defaults.
type Options struct {
	ServeImage string                        // the servers' and the links' (serve --links) image
	Links      int                           // link ports published by the links container (default 16)
	Logf       func(format string, a ...any) // testcontainers' own log; default: dropped
	// Timeout bounds starting one container and its readiness (default 60s).
	Timeout time.Duration
	// Reach is how the host reaches the containers: "mapped" dials the ports
	// Docker publishes on 127.0.0.1 (portable: testcontainers' way); "direct"
	// dials the containers' addresses on their network (a Linux engine on
	// this machine); "auto" (the default) is direct when the links
	// container answers there, else mapped. Direct is the faithful one:
	// Docker's userland proxy behind a mapped port accepts a connection even
	// when the link is down (the client sees EOF, not a refusal), and copies
	// every byte once more.
	Reach string
}

// ReachEnv sets Options.Reach when the caller leaves it empty.
const ReachEnv = "FAULTLINE_CONTAINERS_REACH"

// Ways to reach containers (Options.Reach).
const (
	ReachAuto   = "auto"
	ReachMapped = "mapped"
	ReachDirect = "direct"
)

// Topology runs scenarios on containers. One Topology keeps one network and
// one links container for all its runs; each run gets its own serve
// containers, and follows the links container's events from where the run
// begins. Close removes everything.
type Topology struct {
	opts Options
	run  string

	upMu sync.Mutex // one Up at a time: the shared network and Toxiproxy are made once

	mu      sync.Mutex
	closed  bool
	nw      *tc.DockerNetwork
	lc      tc.Container    // the links container (serve --links)
	lctl    *control.Client // its control API: the links' events
	api     string          // its Toxiproxy API
	ports   []int
	portMap map[string]string       // container link port → host address clients dial
	direct  bool                    // containers are dialled at their network addresses
	live    map[string]tc.Container // container id → container, until removed
	seq     int
	delays  control.Delays

	pending sync.WaitGroup // removals of finished runs' containers, in the background
	bgErrs  []error        // what those removals failed at (guarded by mu)
}

var _ topology.Topology = (*Topology)(nil)

// New makes a topology; nothing is started before the first Up.
func New(opts Options) *Topology {
	_ = os.Setenv(RyukEnv, "true") // again, in case someone cleared it since init
	if opts.ServeImage == "" {
		opts.ServeImage = DefaultServeImage
	}
	if opts.Links <= 0 {
		opts.Links = 16
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Reach == "" {
		opts.Reach = os.Getenv(ReachEnv)
	}
	if opts.Reach == "" {
		opts.Reach = ReachAuto
	}
	if opts.Logf != nil {
		tclog.SetDefault(logger(opts.Logf))
	} else {
		opts.Logf = func(string, ...any) {}
		tclog.SetDefault(logger(opts.Logf))
	}
	return &Topology{opts: opts, run: "fl-" + strconv.FormatInt(time.Now().UnixNano(), 36), live: map[string]tc.Container{}}
}

type logger func(format string, a ...any)

func (l logger) Printf(format string, a ...any) { l(format, a...) }

// Name is "containers".
func (*Topology) Name() string { return "containers" }

// RunLabel is the value of LabelRun on this topology's containers and network.
func (t *Topology) RunLabel() string { return t.run }

// Delays is the distribution of the delay streamed events took so far.
func (t *Topology) Delays() control.DelaySummary { return t.delays.Summary() }

// LabelPID and LabelHost name the process that made a container or network:
// a later run removes what a run killed outright (SIGKILL, a test binary's
// timeout) left behind, as Ryuk would have.
const (
	LabelPID  = "faultline.pid"
	LabelHost = "faultline.host"
)

func (t *Topology) labels() map[string]string {
	host, _ := os.Hostname()
	return map[string]string{LabelRun: t.run, "faultline": "containers",
		LabelPID: strconv.Itoa(os.Getpid()), LabelHost: host}
}

// Available says whether a Docker engine answers and has the images; the
// error is the reason to give when it does not.
func Available(ctx context.Context, images ...string) error {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		// testcontainers tries DOCKER_HOST and, when it does not answer,
		// goes on to the local socket (seen here: DOCKER_HOST=unix:///nonexistent
		// ran on /var/run/docker.sock): a run on an engine the user did not
		// name. An engine named explicitly must answer.
		if err := pingEnv(ctx); err != nil {
			return fmt.Errorf("no Docker engine answers at DOCKER_HOST=%s: %w", h, err)
		}
	}
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("no Docker engine: %w", err)
	}
	defer cli.Close()
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx); err != nil {
		return fmt.Errorf("no Docker engine answers: %w", err)
	}
	if len(images) == 0 {
		images = []string{DefaultServeImage}
	}
	for _, img := range images {
		if _, err := cli.ImageInspect(pctx, img); err != nil {
			return fmt.Errorf("image %s is not here (build it: make images): %w", img, err)
		}
	}
	return nil
}

// pingEnv pings the engine the environment names (DOCKER_HOST and friends).
func pingEnv(ctx context.Context) error {
	cli, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer cli.Close()
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err = cli.Ping(pctx)
	return err
}

func (t *Topology) track(c tc.Container) {
	if c == nil || c.GetContainerID() == "" {
		return
	}
	t.mu.Lock()
	t.live[c.GetContainerID()] = c
	t.mu.Unlock()
}

func (t *Topology) untrack(c tc.Container) {
	t.mu.Lock()
	delete(t.live, c.GetContainerID())
	t.mu.Unlock()
}

// base makes the network and the links container once.
func (t *Topology) base(ctx context.Context) error {
	t.mu.Lock()
	closed, ready, nw := t.closed, t.lc != nil, t.nw
	t.mu.Unlock()
	if closed {
		return errors.New("containers: topology is closed")
	}
	if ready {
		return nil
	}
	// Docker calls that create things run to their end even when ctx is
	// cancelled (an interrupt): a create cut short on our side may still
	// complete in the engine after Close has looked, and leak. The interrupt
	// is honoured between the calls instead.
	sctx, cancel := createContext(ctx, t.opts.Timeout)
	defer cancel()
	if nw == nil { // else made by an earlier Up whose links container failed
		octx, ocancel := context.WithTimeout(sctx, 5*time.Second)
		err := sweepOrphans(octx)
		ocancel()
		if err != nil {
			t.opts.Logf("containers: removing what dead runs left: %v", err)
		}
		if nw, err = tcnetwork.New(sctx, tcnetwork.WithLabels(t.labels())); err != nil {
			return fmt.Errorf("network: %w", err)
		}
		t.mu.Lock()
		t.nw = nw
		t.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return err
		}
	}

	var exposed []string
	var ports []int
	for i := 0; i < t.opts.Links; i++ {
		p := firstLinkPort + i
		ports = append(ports, p)
		exposed = append(exposed, strconv.Itoa(p)+"/tcp")
	}
	// The links: a serve process hosting an embedded Toxiproxy behind its
	// HTTP API (driven by proxy.Remote as a Toxiproxy container would be),
	// whose links record their accepts into the serve event stream.
	lc, err := tc.Run(sctx, t.opts.ServeImage,
		tc.WithCmd("serve", "--control", ":9000", "--links", ":8474"),
		tc.WithExposedPorts(append(exposed, linksAPIPort, controlPort)...),
		tc.WithLabels(t.labels()),
		tcnetwork.WithNetwork([]string{"links"}, nw),
		loopback(linkSysctls, append(exposed, linksAPIPort, controlPort)...),
		tc.WithWaitStrategy(wait.ForHTTP("/version").WithPort(linksAPIPort).WithStatusCodeMatcher(func(status int) bool {
			return status == http.StatusOK
		})),
	)
	if lc != nil {
		t.track(lc)
	}
	if err != nil {
		return fmt.Errorf("links container (serve --links): %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	host, err := hostOf(sctx, lc)
	if err != nil {
		return err
	}
	mapped, err := lc.MappedPort(sctx, linksAPIPort)
	if err != nil {
		return fmt.Errorf("links API port: %w", err)
	}
	api := "http://" + net.JoinHostPort(host, mapped.Port())
	pm := map[string]string{}
	direct := false
	if ip, err := lc.ContainerIP(sctx); err == nil && ip != "" && t.opts.Reach != ReachMapped {
		if err := probe(sctx, "http://"+net.JoinHostPort(ip, "8474")+"/version"); err == nil {
			direct, api = true, "http://"+net.JoinHostPort(ip, "8474")
			for _, p := range ports {
				pm[strconv.Itoa(p)] = net.JoinHostPort(ip, strconv.Itoa(p))
			}
		} else if t.opts.Reach == ReachDirect {
			return fmt.Errorf("links container at %s: not reachable directly from here: %w", ip, err)
		}
	}
	if !direct {
		for _, p := range ports {
			mp, err := lc.MappedPort(sctx, nat.Port(strconv.Itoa(p)+"/tcp"))
			if err != nil {
				return fmt.Errorf("link port %d: %w", p, err)
			}
			pm[strconv.Itoa(p)] = net.JoinHostPort(host, mp.Port())
		}
	}
	t.mu.Lock()
	t.direct = direct // connect reads it
	t.mu.Unlock()
	lctl, err := t.connect(sctx, lc)
	if err != nil {
		return fmt.Errorf("links container: %w", err)
	}
	if h, err := lctl.Health(sctx); err != nil || h.Links == "" {
		lctl.Close()
		return fmt.Errorf("links container: its serve hosts no links (%v): rebuild the images (make images)", err)
	}
	t.mu.Lock()
	t.lc, t.lctl, t.api, t.ports, t.portMap = lc, lctl, api, ports, pm
	t.mu.Unlock()
	return nil
}

// linkSysctls turn off TCP receive-buffer autotuning in the Toxiproxy
// container, so that a throttled link pushes back on the client as it does
// in embedded mode. Seen here (routing-throttled, scenarios/routing): in the
// container's network namespace the link's socket grew its receive buffer
// to 5 MB and took 600 KB beyond the throttle without pushing back, so the
// router never saw its write buffer pass the high watermark (T2 FAILED in
// about one run of three); with a fixed 128 KiB buffer it does, as on the
// host's loopback. Throughput over the bridge is unaffected at these rates.
var linkSysctls = map[string]string{"net.ipv4.tcp_moderate_rcvbuf": "0"}

// createContext bounds Docker calls that create things by d alone, not by
// ctx's cancellation (see base).
func createContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// probe asks url once, briefly.
func probe(ctx context.Context, url string) error {
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// Reach says how this topology reaches its containers: "direct" or
// "mapped" (known after the first Up).
func (t *Topology) Reach() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.direct {
		return ReachDirect
	}
	return ReachMapped
}

// loopback publishes ports on 127.0.0.1 only, each on a port Docker picks.
// Why not Docker's default (every address): Docker 20.10 then publishes IPv4
// and IPv6 on two different host ports, and testcontainers' MappedPort may
// answer with the IPv6 one while we dial IPv4 (moby#42442); and mixing
// 127.0.0.1 and all-address bindings in one engine makes its port allocator
// hand out ports already taken. The client is on this host anyway.
// sysctls (namespaced ones) go into the same modifier: testcontainers keeps
// only the last one given.
func loopback(sysctls map[string]string, ports ...string) tc.CustomizeRequestOption {
	return tc.WithHostConfigModifier(func(hc *container.HostConfig) {
		if len(sysctls) > 0 {
			hc.Sysctls = sysctls
		}
		if hc.PortBindings == nil {
			hc.PortBindings = nat.PortMap{}
		}
		for _, p := range ports {
			hc.PortBindings[nat.Port(p)] = []nat.PortBinding{{HostIP: "127.0.0.1", HostPort: "0"}}
		}
	})
}

// hostOf is where the host reaches a container's published ports.
func hostOf(ctx context.Context, c tc.Container) (string, error) {
	h, err := c.Host(ctx)
	if err != nil {
		return "", fmt.Errorf("container host: %w", err)
	}
	if h == "localhost" {
		h = "127.0.0.1" // ports are published on IPv4 loopback
	}
	return h, nil
}

// mapAddr turns a link's listen address in the links container into the
// host address clients dial.
func (t *Topology) mapAddr(listen string) (string, error) {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.portMap[port]
	if !ok {
		return "", fmt.Errorf("link port %s is not published by the links container", port)
	}
	return a, nil
}

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

// Close removes every container and the network, also those whose creation
// an interrupt cut short (found by label). It is safe to call more than once
// and bounded by ctx.
func (t *Topology) Close(ctx context.Context) error {
	t.waitPending(ctx) // what is left after ctx is removed below, or by the sweep
	t.mu.Lock()
	t.closed = true
	bg := t.bgErrs
	t.bgErrs = nil
	live := make([]tc.Container, 0, len(t.live))
	for _, c := range t.live {
		live = append(live, c)
	}
	t.live = map[string]tc.Container{}
	nw := t.nw
	t.nw, t.lc = nil, nil
	if t.lctl != nil {
		t.lctl.Close()
		t.lctl = nil
	}
	t.mu.Unlock()

	var mu sync.Mutex
	errs := bg
	var wg sync.WaitGroup
	for _, c := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Terminate(ctx, tc.StopTimeout(0)); err != nil && !notFound(err) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("remove container %s: %w", short(c.GetContainerID()), err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if nw != nil {
		if err := retryBusy(ctx, func() error { return nw.Remove(ctx) }); err != nil && !notFound(err) {
			errs = append(errs, fmt.Errorf("remove network: %w", err))
		}
	}
	if err := t.sweep(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// sweep removes whatever still carries this topology's label.
func (t *Topology) sweep(ctx context.Context) error {
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	f := filters.NewArgs(filters.Arg("label", LabelRun+"="+t.run))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, c := range cs {
		if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !notFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", short(c.ID), err))
		}
	}
	ns, err := cli.NetworkList(ctx, dnetwork.ListOptions{Filters: f})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, n := range ns {
		if err := retryBusy(ctx, func() error { return cli.NetworkRemove(ctx, n.ID) }); err != nil && !notFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

// sweepOrphans removes the containers and networks of faultline runs on this
// host whose process is gone. A process that is alive (or whose pid was
// reused) keeps its own.
func sweepOrphans(ctx context.Context) error {
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	host, _ := os.Hostname()
	orphan := func(labels map[string]string) bool {
		pid, err := strconv.Atoi(labels[LabelPID])
		if err != nil || labels[LabelHost] != host || pid == os.Getpid() {
			return false
		}
		return syscall.Kill(pid, 0) == syscall.ESRCH
	}
	f := filters.NewArgs(filters.Arg("label", LabelRun))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cs {
		if orphan(c.Labels) {
			if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !notFound(err) {
				errs = append(errs, err)
			}
		}
	}
	ns, err := cli.NetworkList(ctx, dnetwork.ListOptions{Filters: f})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, n := range ns {
		if orphan(n.Labels) {
			if err := retryBusy(ctx, func() error { return cli.NetworkRemove(ctx, n.ID) }); err != nil && !notFound(err) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Leftovers lists what of this topology is still there: container and
// network names. After Close it must be empty.
func (t *Topology) Leftovers(ctx context.Context) (containers, networks []string, err error) {
	return LeftoversLabelled(ctx, LabelRun+"="+t.run)
}

// LeftoversLabelled lists containers and networks carrying label
// ("key=value", or "key" for any value).
func LeftoversLabelled(ctx context.Context, label string) (containers, networks []string, err error) {
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer cli.Close()
	f := filters.NewArgs(filters.Arg("label", label))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, nil, err
	}
	for _, c := range cs {
		containers = append(containers, short(c.ID)+" "+strings.Join(c.Names, ","))
	}
	ns, err := cli.NetworkList(ctx, dnetwork.ListOptions{Filters: f})
	if err != nil {
		return containers, nil, err
	}
	for _, n := range ns {
		networks = append(networks, n.Name)
	}
	return containers, networks, nil
}

// retryBusy retries a network removal that Docker refuses because an
// endpoint is still attached: the engine releases a removed container's
// endpoint a moment after the removal returns.
func retryBusy(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil || !strings.Contains(err.Error(), "active endpoints") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func notFound(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "No such container") || strings.Contains(err.Error(), "not found") ||
		strings.Contains(err.Error(), "is already in progress"))
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

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

func (t *Topology) startServer(ctx context.Context, s scenario.Server, seq int, rec history.Recorder, delays *control.Delays) (*serveContainer, error) {
	t.mu.Lock()
	nw := t.nw
	t.mu.Unlock()
	// An alias per run: a container of an earlier run that is still being
	// removed must not answer for this one.
	alias := fmt.Sprintf("%s-%d", s.Name, seq)
	sctx, cancel := createContext(ctx, t.opts.Timeout) // see base
	defer cancel()
	c, err := tc.Run(sctx, t.opts.ServeImage,
		tc.WithCmd("serve", "--control", ":9000", "--server", spec(s)),
		tc.WithExposedPorts(controlPort),
		tc.WithLabels(t.labels()),
		tcnetwork.WithNetwork([]string{alias}, nw),
		loopback(nil, controlPort),
	)
	if c != nil {
		t.track(c)
	}
	sv := &serveContainer{t: t, name: s.Name, cfg: topology.Config(s), rec: rec, c: c, delays: delays}
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

// linkTracker is a run's Toxiproxy that remembers its links by name, so
// that a server restarted at another address can have its link follow it.
type linkTracker struct {
	proxy.Toxiproxy
	mu    sync.Mutex
	links map[string]*proxy.Link
}

func (lt *linkTracker) Link(ctx context.Context, name, upstream string) (*proxy.Link, error) {
	l, err := lt.Toxiproxy.Link(ctx, name, upstream)
	if err == nil {
		lt.mu.Lock()
		lt.links[name] = l
		lt.mu.Unlock()
	}
	return l, err
}

func (lt *linkTracker) get(name string) *proxy.Link {
	if lt == nil {
		return nil
	}
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return lt.links[name]
}

// connect waits for the serve API of a (re)started container.
func (t *Topology) connect(ctx context.Context, c tc.Container) (*control.Client, error) {
	var addr string
	t.mu.Lock()
	direct := t.direct
	t.mu.Unlock()
	if direct {
		// Read again after a restart: the address may have changed.
		ip, err := c.ContainerIP(ctx)
		if err != nil {
			return nil, fmt.Errorf("container address: %w", err)
		}
		addr = net.JoinHostPort(ip, strings.TrimSuffix(controlPort, "/tcp"))
	} else {
		host, err := hostOf(ctx, c)
		if err != nil {
			return nil, err
		}
		mp, err := c.MappedPort(ctx, controlPort)
		if err != nil {
			return nil, fmt.Errorf("control port: %w", err)
		}
		addr = net.JoinHostPort(host, mp.Port())
	}
	cl := control.NewClient(addr)
	if _, err := cl.WaitHealthy(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
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

// deadUpstream is where a killed server's link points until its restart: a
// closed port inside the links container, refused at once, as a dead
// process's port is on a live host (and as in embedded mode, where the
// killed server's listener is closed). Left at the stopped container's
// vanished address, Toxiproxy's accept loop, which dials each upstream
// itself and without a timeout, stood still on every attempt until the
// kernel gave up on the address. Seen under load (process-kill-failover,
// extra failovers onto the killed s2): the teardown's DELETE of that link
// waited on it past Toxiproxy's 25 s API timeout ("invalid character '<'",
// its timeout page).
const deadUpstream = "127.0.0.1:1"

// Kill stops the container at once (SIGKILL): the process and everything it
// held are gone. Its event stream ends first, so that its end is not a problem.
func (s *serveContainer) Kill(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kill(ctx)
}

func (s *serveContainer) kill(ctx context.Context) error {
	if !s.up {
		return errors.New("already killed")
	}
	s.feed.Stop()
	if l := s.links.get(s.name); l != nil {
		// Before the stop: once the address is gone, the repointing itself
		// would wait on a dial to it (see deadUpstream).
		if err := l.SetUpstream(ctx, deadUpstream); err != nil {
			return fmt.Errorf("point link %s away from the dying server: %w", s.name, err)
		}
	}
	zero := time.Duration(0)
	if err := s.c.Stop(ctx, &zero); err != nil {
		return fmt.Errorf("stop container: %w", err)
	}
	s.up = false
	s.Hosted.Client().Close()
	s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindKill, Server: s.name})
	return nil
}

// Restart starts the container again (killing it first if it runs): a fresh
// process with the scenario's configuration, on the same address in the
// network. Its control port may be mapped elsewhere on the host now.
func (s *serveContainer) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.up {
		if err := s.kill(ctx); err != nil {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(ctx, s.t.opts.Timeout)
	defer cancel()
	if err := s.c.Start(sctx); err != nil {
		return fmt.Errorf("start container: %w", err)
	}
	// Docker may give the container another address on its way back; the
	// link points at deadUpstream since the kill either way.
	up, err := upstreamOf(sctx, s.c)
	if err != nil {
		return err
	}
	if l := s.links.get(s.name); l != nil {
		if err := l.SetUpstream(sctx, up); err != nil {
			return fmt.Errorf("point link %s at %s: %w", s.name, up, err)
		}
	}
	s.mu2.Lock()
	s.upstream = up
	s.mu2.Unlock()
	cl, err := s.t.connect(sctx, s.c)
	if err != nil {
		return err
	}
	s.Hosted.SetClient(cl)
	s.Hosted.Rebase()
	if err := s.follow(sctx, cl); err != nil {
		return err
	}
	s.up = true
	s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindRestart, Server: s.name})
	return nil
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
