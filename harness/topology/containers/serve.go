package containers

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
	tc "github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/faultline/faultline/fakeserver/control"
)

// Fixed container ports: each container has its own network namespace, and
// only the host side of a mapping varies.
const (
	controlPort   = "9000/tcp" // serve's control API
	linksAPIPort  = "8474/tcp" // the links container's Toxiproxy API
	serverPort    = 7000       // the fake server, inside its container
	firstLinkPort = 8666       // link ports, as Toxiproxy's images number them
)

// serveSpec is one `faultline serve --control :9000` container: what
// runServe starts, set by serveOptions.
type serveSpec struct {
	args    []string          // serve's arguments after --control
	aliases []string          // its names on the network
	ports   []string          // published besides the control port
	sysctls map[string]string // namespaced kernel settings
	wait    wait.Strategy     // readiness; none: the caller waits on the control API (connect)
}

type serveOption func(*serveSpec)

func withArgs(args ...string) serveOption {
	return func(s *serveSpec) { s.args = append(s.args, args...) }
}

func withAliases(aliases ...string) serveOption {
	return func(s *serveSpec) { s.aliases = append(s.aliases, aliases...) }
}

func withPorts(ports ...string) serveOption {
	return func(s *serveSpec) { s.ports = append(s.ports, ports...) }
}

func withSysctls(sysctls map[string]string) serveOption {
	return func(s *serveSpec) { s.sysctls = sysctls }
}

func withWait(w wait.Strategy) serveOption { return func(s *serveSpec) { s.wait = w } }

// runServe starts a serve container from the topology's image on nw, with
// its control port and the spec's ports published on loopback and the
// topology's labels. The container comes back with the error when it was
// created (nil when it was not): the caller tracks it for removal either way.
func (t *Topology) runServe(ctx context.Context, nw *tc.DockerNetwork, opts ...serveOption) (*tc.DockerContainer, error) {
	var s serveSpec
	for _, o := range opts {
		o(&s)
	}
	ports := append(append([]string(nil), s.ports...), controlPort)
	req := []tc.ContainerCustomizer{
		tc.WithCmd(append([]string{"serve", "--control", ":9000"}, s.args...)...),
		tc.WithExposedPorts(ports...),
		tc.WithLabels(t.labels()),
		tcnetwork.WithNetwork(s.aliases, nw),
		loopback(s.sysctls, ports...),
	}
	if s.wait != nil {
		req = append(req, tc.WithWaitStrategy(s.wait))
	}
	return tc.Run(ctx, t.opts.ServeImage, req...)
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

// createContext bounds Docker calls that create things by d alone, not by
// ctx's cancellation (see base).
func createContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), d)
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
