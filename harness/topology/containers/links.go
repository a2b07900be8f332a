package containers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/docker/go-connections/nat"
	"github.com/testcontainers/testcontainers-go/wait"
)

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
		var err error
		if nw, err = t.network(ctx, sctx); err != nil {
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
	lc, err := t.runServe(sctx, nw,
		withArgs("--links", ":8474"),
		withAliases("links"),
		withPorts(append(exposed, linksAPIPort)...),
		withSysctls(linkSysctls),
		withWait(wait.ForHTTP("/version").WithPort(linksAPIPort).WithStatusCodeMatcher(func(status int) bool {
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
