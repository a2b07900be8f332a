package topology

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/faultline/faultline/fakeserver/control"
	"github.com/faultline/faultline/harness/scenario"
)

// Migration across processes (Open Server's shared client context). The
// session servers of a run share one context store: one serve process hosts
// it (the first session server's), and the others reach it over its control
// API. Each server is told, once the links are up, the store and every
// server's link URL by name.

// Migrates says whether sc has migrate steps: only then do its servers need
// peers (a call per server that other scenarios need not wait for).
func Migrates(sc *scenario.Scenario) bool {
	for _, st := range sc.Steps {
		if st.Migrate != nil {
			return true
		}
	}
	return false
}

// SessionServers are sc's session-kind servers, in the scenario's order:
// the ones that migrate sessions and share a store.
func SessionServers(sc *scenario.Scenario) []scenario.Server {
	var out []scenario.Server
	for _, s := range sc.Servers {
		if s.Kind == "" || s.Kind == "session" {
			out = append(out, s)
		}
	}
	return out
}

// PeerTarget is one session server to give its peers.
type PeerTarget struct {
	Name   string
	Client *control.Client
	// StoreURL is the store host's API as this server's process reaches it;
	// empty when this process hosts the store.
	StoreURL string
}

// NewStoreID names a run's store on its host: unique per run, so that a
// store left by an earlier run (or another harness) is never shared.
func NewStoreID() string {
	return "run-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// SetPeers tells every target the store id and the link URLs.
func SetPeers(ctx context.Context, targets []PeerTarget, storeID string, urls map[string]string) error {
	for _, t := range targets {
		p := control.Peers{URLs: urls, Store: control.StoreRef{URL: t.StoreURL, ID: storeID}}
		if err := t.Client.SetPeers(ctx, t.Name, p); err != nil {
			return fmt.Errorf("server %s: %w", t.Name, err)
		}
	}
	return nil
}

// BackPressureReason is why a scenario that judges a router's back-pressure
// is not run where the client reaches the links through Docker's userland
// proxy (published ports): seen here, the proxy reads what a throttled link
// holds back into its own buffers, so the router never sees its write buffer
// pass the high watermark (routing-throttled's T2 failed every time).
const BackPressureReason = "back-pressure needs links the client reaches directly: behind Docker's userland proxy (published ports) the proxy buffers what a throttled link holds back, and the client never feels it (run it embedded, or in containers mode with direct reach)"

// NeedsBackPressure says whether sc judges a router's back-pressure: a
// router whose link is throttled (bandwidth), which is what makes its
// writes pile up.
func NeedsBackPressure(sc *scenario.Scenario) bool {
	if sc.Client.Router == nil {
		return false
	}
	for _, st := range sc.Steps {
		if st.Link != "" && st.Fault == "throttle" {
			return true
		}
	}
	return false
}
