package proxy

import (
	"context"
	"errors"
)

// upstreamSetter is implemented by backends whose links can be pointed at
// another upstream.
type upstreamSetter interface {
	setUpstream(ctx context.Context, upstream string) error
}

// SetUpstream points the link at another upstream, keeping its listen
// address and the faults in force. Live connections through it are dropped
// (Toxiproxy restarts the proxy). Why: a server restarted in a container may
// come back at another address on its network, and the link in front of it
// must follow. Only the remote backend supports it (an embedded server comes
// back on its own port).
func (l *Link) SetUpstream(ctx context.Context, upstream string) error {
	if err := checkUpstream(upstream); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	s, ok := l.ops.(upstreamSetter)
	if !ok {
		return errors.New("proxy: this backend cannot point a link elsewhere")
	}
	return s.setUpstream(ctx, upstream)
}

// setUpstream saves the proxy with the new upstream; its Enabled (the
// link's up or down state, as this same object last saved it) is kept.
func (r *remoteLink) setUpstream(ctx context.Context, upstream string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	old := r.p.Upstream
	r.p.Upstream = upstream
	if err := r.p.Save(); err != nil {
		r.p.Upstream = old
		return err
	}
	return nil
}
