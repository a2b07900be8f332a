package router

import (
	"context"
	"sync"
)

// ChangeOp says whether an instance joined or left.
type ChangeOp string

// Discovery change operations.
const (
	Add    ChangeOp = "add"
	Remove ChangeOp = "remove"
)

// Change is one membership change of the instance set.
type Change struct {
	Op   ChangeOp
	Name string // the instance's identity (unique in the set); the URL when empty
	URL  string // where the instance listens (Add only)
}

// Discovery is the service a router watches for its platform instances (in
// ThingWorx: Apache ZooKeeper). Watch reports the current members first, as
// Add changes in their order, then every later change, in order, until ctx
// ends; then it closes the channel. A router never restarts to follow it.
type Discovery interface {
	Watch(ctx context.Context) <-chan Change
}

// Registry is the in-process Discovery: a set of instances in join order that
// the owner changes with Add and Remove. It is safe for concurrent use, and
// its watchers never block it (each has its own unbounded queue).
type Registry struct {
	mu       sync.Mutex
	members  []Change // Add changes, in join order
	watchers map[*watcher]bool
}

type watcher struct {
	pending []Change
	wake    chan struct{} // cap 1
}

// NewRegistry returns a registry holding the given instances, in order.
func NewRegistry(initial ...Change) *Registry {
	r := &Registry{watchers: map[*watcher]bool{}}
	for _, c := range initial {
		c.Op = Add
		r.Add(c.Name, c.URL)
	}
	return r
}

// Add makes an instance a member (no-op when a member of that name exists).
func (r *Registry) Add(name, url string) {
	if name == "" {
		name = url
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.members {
		if m.Name == name {
			return
		}
	}
	c := Change{Op: Add, Name: name, URL: url}
	r.members = append(r.members, c)
	r.notifyLocked(c)
}

// Remove takes an instance out (no-op when it is no member).
func (r *Registry) Remove(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, m := range r.members {
		if m.Name == name {
			r.members = append(r.members[:i:i], r.members[i+1:]...)
			r.notifyLocked(Change{Op: Remove, Name: name})
			return
		}
	}
}

// Members lists the current members in join order.
func (r *Registry) Members() []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Change(nil), r.members...)
}

func (r *Registry) notifyLocked(c Change) {
	for w := range r.watchers {
		w.pending = append(w.pending, c)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Watch implements Discovery.
func (r *Registry) Watch(ctx context.Context) <-chan Change {
	out := make(chan Change)
	w := &watcher{wake: make(chan struct{}, 1)}
	r.mu.Lock()
	w.pending = append([]Change(nil), r.members...)
	r.watchers[w] = true
	r.mu.Unlock()
	go func() {
		defer close(out)
		defer func() {
			r.mu.Lock()
			delete(r.watchers, w)
			r.mu.Unlock()
		}()
		for {
			r.mu.Lock()
			var next *Change
			if len(w.pending) > 0 {
				c := w.pending[0]
				w.pending = w.pending[1:]
				next = &c
			}
			r.mu.Unlock()
			if next == nil {
				select {
				case <-w.wake:
					continue
				case <-ctx.Done():
					return
				}
			}
			select {
			case out <- *next:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
