package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	tpclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/faultline/faultline/harness/history"
)

// Remote drives a Toxiproxy elsewhere over its HTTP API with Toxiproxy's Go
// client. That client takes no context: each call is bounded by its own 30 s
// HTTP timeout, and ctx is checked between calls.
type Remote struct {
	api  string
	c    *tpclient.Client
	rec  history.Recorder
	opts Options
	ids  atomic.Uint64

	mu     sync.Mutex
	links  []*Link
	closed bool
	nport  int // next of opts.Ports to take
}

var _ Toxiproxy = (*Remote)(nil)

// NewRemote connects to the Toxiproxy API at apiURL ("http://host:8474" or
// "host:8474") and checks that it answers.
func NewRemote(apiURL string, rec history.Recorder, opts ...Option) (*Remote, error) {
	c := tpclient.NewClient(apiURL)
	if _, err := c.Version(); err != nil {
		return nil, fmt.Errorf("proxy: remote Toxiproxy at %s: %w", apiURL, err)
	}
	return &Remote{api: apiURL, c: c, rec: rec, opts: defaults(opts)}, nil
}

// Link creates a proxy on the remote Toxiproxy listening on port 0 of the
// listen host, and reads back the port it got.
func (r *Remote) Link(ctx context.Context, name, upstream string) (*Link, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := checkUpstream(upstream); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	port := "0"
	if len(r.opts.Ports) > 0 {
		if r.nport >= len(r.opts.Ports) {
			return nil, fmt.Errorf("proxy: link %s: all %d ports given to this Toxiproxy are taken", name, len(r.opts.Ports))
		}
		port = strconv.Itoa(r.opts.Ports[r.nport])
		r.nport++
	}
	p, err := r.c.CreateProxy(name, net.JoinHostPort(r.opts.Listen, port), upstream)
	if err != nil {
		return nil, fmt.Errorf("proxy: link %s: %w", name, err)
	}
	addr, err := r.advertised(p.Listen)
	if err != nil {
		_ = p.Delete()
		return nil, fmt.Errorf("proxy: link %s: %w", name, err)
	}
	l := newLink(name, addr, &remoteLink{p: p}, r.rec, &r.ids)
	r.links = append(r.links, l)
	return l, nil
}

// advertised turns the remote listen address into the one clients dial.
func (r *Remote) advertised(listen string) (string, error) {
	if r.opts.MapAddr != nil {
		return r.opts.MapAddr(listen)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", listen, err)
	}
	switch {
	case r.opts.Advertise != "":
		host = r.opts.Advertise
	case host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified():
		u, err := url.Parse(r.api)
		if err != nil || !strings.Contains(r.api, "://") {
			u, err = url.Parse("http://" + r.api)
		}
		if err != nil {
			return "", fmt.Errorf("API URL %q: %w", r.api, err)
		}
		host = u.Hostname()
	}
	return net.JoinHostPort(host, port), nil
}

// Close heals every fault still in force and deletes every proxy it made.
func (r *Remote) Close() error {
	r.mu.Lock()
	links := r.links
	r.links, r.closed = nil, true
	r.mu.Unlock()
	var errs []error
	for _, l := range links {
		errs = append(errs, l.shutdown(context.Background()))
	}
	// The Go client uses the default transport: its keep-alive connections
	// (and their goroutines) would outlive us. Closing idle ones is harmless
	// to other users, as httptest.Server.Close does the same.
	if t, ok := http.DefaultTransport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	return errors.Join(errs...)
}

// remoteLink is linkOps over the HTTP API. Calls on one proxy are serialised
// by the Link's lock, as the client's Proxy is not safe for concurrent use.
type remoteLink struct{ p *tpclient.Proxy }

func (r *remoteLink) addToxic(ctx context.Context, t toxic) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := r.p.AddToxic(t.Name, t.Type, t.Stream, t.Toxicity, tpclient.Attributes(t.Attributes))
	return err
}

func (r *remoteLink) removeToxic(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.p.RemoveToxic(name); err != nil && !notFound(err) {
		return err
	}
	return nil
}

func (r *remoteLink) setEnabled(ctx context.Context, on bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Save posts the Listen read back at creation, so enabling rebinds the
	// same port.
	if on {
		return r.p.Enable()
	}
	return r.p.Disable()
}

func (r *remoteLink) remove(context.Context) error {
	if err := r.p.Delete(); err != nil && !notFound(err) {
		return err
	}
	return nil
}

func notFound(err error) bool {
	var ae *tpclient.ApiError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}
