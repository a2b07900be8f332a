package containers

import (
	"context"
	"net"
	"strings"

	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
)

// peers gives sc's session servers their shared context store, hosted by
// the first one's container, which the others reach at its address on the
// run's network (the control API's port), and the link URLs.
func peers(sc *scenario.Scenario, servers []*serveContainer) func(context.Context, map[string]string) error {
	return func(ctx context.Context, urls map[string]string) error {
		by := map[string]*serveContainer{}
		for _, s := range servers {
			by[s.name] = s
		}
		var ts []topology.PeerTarget
		home := ""
		for _, s := range topology.SessionServers(sc) {
			c := by[s.Name]
			t := topology.PeerTarget{Name: s.Name, Client: c.Hosted.Client()}
			if home == "" {
				host, _, _ := net.SplitHostPort(c.Addr())
				home = "http://" + net.JoinHostPort(host, strings.TrimSuffix(controlPort, "/tcp"))
			} else {
				t.StoreURL = home
			}
			ts = append(ts, t)
		}
		return topology.SetPeers(ctx, ts, topology.NewStoreID(), urls)
	}
}
