package main

import (
	"fmt"
	"slices"
	"sync"

	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// Run-time service discovery (docs/driver-protocol.md, Routing: the ops
// discovery.add and discovery.remove, each with servers): the harness
// tells a channel of backends that join or leave, as an application's
// resolver would, and the driver hands the channel its new list through
// the channel's own manual resolver: resolver/manual Resolver.UpdateState()
// -> ccResolverWrapper.UpdateState() -> the balancer's
// UpdateClientConnState(). Under round_robin, endpointsharding makes a
// child (a pick_first that connects at once) for each new endpoint and
// closes the child of each removed one, its subchannel and connection
// with it (balancer/endpointsharding/endpointsharding.go
// UpdateClientConnState()); under pick_first the list is its next pass's
// (pickfirst.go UpdateClientConnState()). The order of the list is kept:
// the servers connect gave, each added one at the end.

// discovery is one channel's resolver and the list it last gave.
type discovery struct {
	mu   sync.Mutex // one update at a time
	r    *manual.Resolver
	urls []string // the resolver's list, in order

	errMu sync.Mutex
	err   error // the channel's answer to the last update (UpdateStateCallback)
}

// discoveries holds each session's discovery, by session (a connect makes
// a new session, so an entry outlives its channel only as garbage of the
// process: one small struct per connect).
var discoveries sync.Map // *session -> *discovery

// trackDiscovery keeps r, the resolver connect built for session s over
// servers, for the discovery ops. It must run before the channel is made:
// the resolver's UpdateStateCallback may not change once it may be built.
func (d *Driver) trackDiscovery(s *session, r *manual.Resolver, servers []string) {
	dc := &discovery{r: r, urls: append([]string(nil), servers...)}
	r.UpdateStateCallback = func(err error) {
		dc.errMu.Lock()
		dc.err = err
		dc.errMu.Unlock()
	}
	discoveries.Store(s, dc)
}

// discover serves discovery.add and discovery.remove: the new list goes to
// the channel through its resolver; the reply says whether the channel
// took it.
func (d *Driver) discover(o op, s *session) reply {
	v, ok := discoveries.Load(s)
	if !ok {
		return reply{Error: o.Op + ": this session has no resolver"}
	}
	dc := v.(*discovery)
	if len(o.Servers) == 0 {
		return reply{Error: o.Op + ": no servers"}
	}
	for _, u := range o.Servers {
		if hostPort(u) == "" {
			return reply{Error: fmt.Sprintf("%s: bad server URL %q (want grpc://host:port)", o.Op, u)}
		}
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	next := append([]string(nil), dc.urls...)
	for _, u := range o.Servers {
		i := slices.Index(next, u)
		switch {
		case o.Op == "discovery.add" && i >= 0:
			return reply{Error: fmt.Sprintf("%s: %s is in the list already", o.Op, u)}
		case o.Op == "discovery.add":
			next = append(next, u)
		case i < 0:
			return reply{Error: fmt.Sprintf("%s: %s is not in the list", o.Op, u)}
		default:
			next = slices.Delete(next, i, i+1)
		}
	}
	if len(next) == 0 {
		return reply{Error: o.Op + ": that would leave the channel no server (grpc-go answers an empty list with balancer.ErrBadResolverState)"}
	}
	// The channel's new connections are named by URL (dial events, the
	// state's server) before it may dial them.
	s.mu.Lock()
	for _, u := range o.Servers {
		if _, known := s.urls[hostPort(u)]; !known {
			s.urls[hostPort(u)] = u
		}
	}
	s.mu.Unlock()
	eps := make([]resolver.Endpoint, 0, len(next))
	for _, u := range next {
		eps = append(eps, resolver.Endpoint{Addresses: []resolver.Address{{Addr: hostPort(u)}}})
	}
	dc.errMu.Lock()
	dc.err = nil
	dc.errMu.Unlock()
	dc.r.UpdateState(resolver.State{Endpoints: eps}) // calls UpdateStateCallback with the channel's answer
	dc.errMu.Lock()
	err := dc.err
	dc.errMu.Unlock()
	if err != nil {
		return reply{Error: "grpc-go resolver UpdateState: " + err.Error()}
	}
	dc.urls = next
	return reply{OK: true}
}
