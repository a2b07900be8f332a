package containers

import (
	"context"
	"sync"

	"github.com/faultline/faultline/proxy"
)

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
