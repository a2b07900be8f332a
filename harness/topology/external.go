package topology

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/faultline/faultline/fakeserver/control"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/proxy"
)

// ExternalFile describes a Toxiproxy and `faultline serve` processes that
// someone else runs (docker-compose.yml at the repository root starts one):
//
//	toxiproxy: http://127.0.0.1:8474      # its API (--toxiproxy overrides)
//	links_control: http://127.0.0.1:9001  # optional: see below
//	control: http://127.0.0.1:9000        # the serve control API of the servers below
//	listen: 0.0.0.0                       # host links listen on, on the Toxiproxy's side
//	ports: 8666-8673                      # ports links take, in order ("8666-8673" or a list)
//	advertise: 127.0.0.1                  # host the client dials for those ports
//	servers:                              # the scenario's names → the address the
//	  s1: faultline-serve:7001            #   Toxiproxy dials ({upstream, control} to
//	  s2: {upstream: faultline-serve:7002, control: http://127.0.0.1:9000}  # override control)
//	store: http://faultline-serve:9000    # optional: see below
//	userland_proxy: true                  # the ports are Docker-published (see below)
//
// Migration's context store lives in the serve process of a scenario's first
// session server; servers of the same process use it in place, servers of
// other processes reach it at store (default: that process's control URL
// as written here, which must then reach it from them too).
//
// links_control is the control API of the `faultline serve --links` process
// whose Toxiproxy API is toxiproxy: its event stream carries the links'
// link.accept and link.dial_fail, which each run then records as it does
// the servers' events. Without it (a stock Toxiproxy) the links record none.
//
// userland_proxy says the client reaches the link ports through Docker's
// userland proxy (ports a container publishes, as compose does): scenarios
// that judge back-pressure are then UNSUPPORTED (BackPressureReason).
//
// JSON is YAML, so a JSON file works too. The ports must reach the
// Toxiproxy at the same numbers on the advertised host (compose publishes
// them one to one).
type ExternalFile struct {
	Toxiproxy string                    `yaml:"toxiproxy"`
	Links     string                    `yaml:"links_control"`
	Control   string                    `yaml:"control"`
	Listen    string                    `yaml:"listen"`
	Ports     Ports                     `yaml:"ports"`
	Advertise string                    `yaml:"advertise"`
	Servers   map[string]ExternalServer `yaml:"servers"`
	Store     string                    `yaml:"store"`
	Userland  bool                      `yaml:"userland_proxy"`
}

// ExternalServer is one server of the file.
type ExternalServer struct {
	Upstream string `yaml:"upstream"`
	Control  string `yaml:"control"`
}

// UnmarshalYAML takes "host:port" as {upstream: host:port}.
func (s *ExternalServer) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s.Upstream = n.Value
		return nil
	}
	type plain ExternalServer
	return n.Decode((*plain)(s))
}

// Ports is a list of ports, written as a list or as "first-last".
type Ports []int

// UnmarshalYAML reads [8666, 8667] or "8666-8673".
func (p *Ports) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		a, b, isRange := strings.Cut(n.Value, "-")
		lo, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil {
			return fmt.Errorf("line %d: ports: %q is not a port or a range like 8666-8673", n.Line, n.Value)
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(strings.TrimSpace(b)); err != nil || hi < lo {
				return fmt.Errorf("line %d: ports: bad range %q", n.Line, n.Value)
			}
		}
		for x := lo; x <= hi; x++ {
			*p = append(*p, x)
		}
		return nil
	}
	var xs []int
	if err := n.Decode(&xs); err != nil {
		return err
	}
	*p = xs
	return nil
}

// LoadExternal reads and checks a topology file.
func LoadExternal(path string) (*ExternalFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f ExternalFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Listen == "" {
		f.Listen = "0.0.0.0"
	}
	var errs []error
	if len(f.Servers) == 0 {
		errs = append(errs, errors.New("no servers"))
	}
	if len(f.Ports) == 0 {
		errs = append(errs, errors.New("no ports: links need ports published by the Toxiproxy's host"))
	}
	for name, s := range f.Servers {
		if s.Upstream == "" {
			errs = append(errs, fmt.Errorf("server %s: no upstream", name))
		}
		if s.Control == "" && f.Control == "" {
			errs = append(errs, fmt.Errorf("server %s: no control URL (and no top-level control)", name))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	return &f, nil
}

// External drives a Toxiproxy and serve processes someone else started.
// Each run resets its servers to the scenario's configuration (fresh
// sessions, sequence numbers from 1) through the control API, and follows
// the links' events when a serve process hosts them (links_control). It
// cannot kill or restart them: that needs a topology that owns the processes.
type External struct {
	File   *ExternalFile
	delays control.Delays
}

var _ Topology = (*External)(nil)

// NewExternal loads path; toxiproxy, when set, overrides the file's API URL.
func NewExternal(path, toxiproxy string) (*External, error) {
	f, err := LoadExternal(path)
	if err != nil {
		return nil, err
	}
	if toxiproxy != "" {
		f.Toxiproxy = toxiproxy
	}
	if f.Toxiproxy == "" {
		return nil, fmt.Errorf("%s: no toxiproxy URL (set toxiproxy: or pass --toxiproxy)", path)
	}
	return &External{File: f}, nil
}

// Name is "external".
func (*External) Name() string { return "external" }

// Delays is the distribution of the delay streamed events took so far.
func (e *External) Delays() control.DelaySummary { return e.delays.Summary() }

// ProcessFaultReason is why external mode does not run a scenario with
// process faults: the requirements it covers are UNSUPPORTED there.
const ProcessFaultReason = "process faults need a mode that owns the servers (embedded or containers)"

// Refuses names the servers sc would kill or restart (these processes are
// not faultline's to stop), or says why its back-pressure cannot be judged.
func (e *External) Refuses(sc *scenario.Scenario) string {
	if e.File.Userland && NeedsBackPressure(sc) {
		return BackPressureReason
	}
	var faulted []string
	for name := range ProcessFaulted(sc) {
		faulted = append(faulted, name)
	}
	if len(faulted) == 0 {
		return ""
	}
	sort.Strings(faulted)
	return fmt.Sprintf("%s: external mode cannot kill or restart %s", ProcessFaultReason, strings.Join(faulted, ", "))
}

// Up resets each of the scenario's servers, follows their events and
// connects to the Toxiproxy.
func (e *External) Up(ctx context.Context, sc *scenario.Scenario, rec history.Recorder) (*Deployment, error) {
	f := e.File
	if why := e.Refuses(sc); why != "" { // the runner asks first; a caller that did not gets the reason
		return nil, errors.New(why)
	}
	var names []string
	for _, s := range sc.Servers {
		if _, ok := f.Servers[s.Name]; !ok {
			return nil, fmt.Errorf("server %s is not in the topology file (it has %v)", s.Name, keys(f.Servers))
		}
		names = append(names, s.Name)
	}
	if len(sc.Servers) > len(f.Ports) {
		return nil, fmt.Errorf("%d servers need %d link ports; the topology file gives %d", len(sc.Servers), len(sc.Servers), len(f.Ports))
	}
	if err := SweepProxies(f.Toxiproxy, names, f.Ports); err != nil {
		return nil, err
	}

	runDelays := &control.Delays{}
	clients := map[string]*control.Client{}
	targets := map[string][]FeedTarget{}
	nodes := map[string]Node{}
	var feeds []*Feed
	var links *LinkFeed
	stop := func(context.Context) error {
		links.Stop()
		for _, fd := range feeds {
			fd.Stop()
		}
		for _, c := range clients {
			c.Close()
		}
		return nil
	}
	for _, s := range sc.Servers {
		es := f.Servers[s.Name]
		url := es.Control
		if url == "" {
			url = f.Control
		}
		c := clients[url]
		if c == nil {
			c = control.NewClient(url)
			clients[url] = c
		}
		if _, err := c.Health(ctx); err != nil {
			_ = stop(ctx)
			return nil, fmt.Errorf("server %s: %w", s.Name, err)
		}
		r, err := c.Reset(ctx, s.Name, Config(s))
		if err != nil {
			_ = stop(ctx)
			return nil, fmt.Errorf("server %s: reset: %w", s.Name, err)
		}
		h := NewHosted(s.Name, s.Kind, es.Upstream, c, rec)
		targets[url] = append(targets[url], FeedTarget{Server: h, From: r.Next})
		nodes[s.Name] = Node{Server: h, Upstream: es.Upstream}
	}
	for url, ts := range targets {
		fd := StartFeed(clients[url], ts, rec, &e.delays, runDelays)
		feeds = append(feeds, fd)
		if err := fd.Opened(ctx); err != nil {
			_ = stop(ctx)
			return nil, fmt.Errorf("event stream from %s: %w", url, err)
		}
	}
	if f.Links != "" {
		c := clients[f.Links]
		if c == nil {
			c = control.NewClient(f.Links)
			clients[f.Links] = c
		}
		h, err := c.Health(ctx)
		if err == nil && h.Links == "" {
			err = errors.New("it hosts no links (run it as faultline serve --links)")
		}
		if err != nil {
			_ = stop(ctx)
			return nil, fmt.Errorf("links_control %s: %w", f.Links, err)
		}
		// From where its stream is now: earlier runs' link events are not this run's.
		links = StartLinkFeed(c, h.Next, names, rec, &e.delays, runDelays)
		if err := links.Opened(ctx); err != nil {
			_ = stop(ctx)
			return nil, fmt.Errorf("link event stream from %s: %w", f.Links, err)
		}
		for _, n := range nodes {
			n.Server.(*Hosted).AfterLink(links)
		}
	}
	tp, err := proxy.NewRemote(f.Toxiproxy, rec, proxy.WithListen(f.Listen), proxy.WithPorts(f.Ports...), proxy.WithAdvertise(f.Advertise))
	if err != nil {
		_ = stop(ctx)
		return nil, err
	}
	dep := NewDeployment(tp, nodes, stop)
	dep.Delays = runDelays
	if Migrates(sc) {
		dep.Peers = e.peers(sc, clients)
	}
	return dep, nil
}

// controlOf is the control URL of a server of the file.
func (f *ExternalFile) controlOf(name string) string {
	if u := f.Servers[name].Control; u != "" {
		return u
	}
	return f.Control
}

// peers gives sc's session servers their store, hosted by the first one's
// process, and the link URLs.
func (e *External) peers(sc *scenario.Scenario, clients map[string]*control.Client) func(context.Context, map[string]string) error {
	return func(ctx context.Context, urls map[string]string) error {
		ss := SessionServers(sc)
		if len(ss) == 0 {
			return nil
		}
		home := e.File.controlOf(ss[0].Name)
		remote := e.File.Store
		if remote == "" {
			remote = home
		}
		var ts []PeerTarget
		for _, s := range ss {
			u := e.File.controlOf(s.Name)
			t := PeerTarget{Name: s.Name, Client: clients[u]}
			if u != home {
				t.StoreURL = remote
			}
			ts = append(ts, t)
		}
		return SetPeers(ctx, ts, NewStoreID(), urls)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
