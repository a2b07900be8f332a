package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/faultline/faultline/harness/history"
)

// Embedded is Toxiproxy v2 running in this process, driven directly (no HTTP).
type Embedded struct {
	srv  *toxiproxy.ApiServer
	rec  history.Recorder
	opts Options
	ids  atomic.Uint64

	mu     sync.Mutex
	links  []*Link
	closed bool
}

var _ Toxiproxy = (*Embedded)(nil)

// NewEmbedded starts an in-process Toxiproxy recording faults into rec.
func NewEmbedded(rec history.Recorder, opts ...Option) (*Embedded, error) {
	o := defaults(opts)
	if rec == nil {
		rec = history.Nop{}
	}
	if o.Logging {
		zerolog.SetGlobalLevel(zerolog.TraceLevel)
	} else {
		// Info, not lower: each link's logger must pass the accept line
		// (accepts.go). The toxics' chatter through zerolog's global logger
		// is Trace and stays out; what they log at Warn and above (a toxic
		// that could not flush after an interrupt) is worth seeing.
		// Process-wide: the last NewEmbedded wins.
		zerolog.SetGlobalLevel(zerolog.InfoLevel)
	}
	e := &Embedded{rec: rec, opts: o}
	// The server's logger is where links made over the API (API) log: each
	// such link's logger is this one with its name added, so its accept
	// lines are recorded under that name (accepts.go). Links made by Link
	// get their own logger.
	logger := zerolog.New(&acceptLog{rec: rec, echo: e.echo()}).Level(zerolog.InfoLevel)
	if o.Logging {
		logger = logger.With().Timestamp().Logger()
	}
	e.srv = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), logger)
	return e, nil
}

// API is Toxiproxy's own HTTP API over this Toxiproxy: the API a Toxiproxy
// server (toxiproxy-server, a container) serves, so that Remote drives it
// unchanged. Links made through it record link.accept and link.dial_fail
// into this Toxiproxy's recorder under the names they were given, as links
// made by Link do; the faults put on them are recorded by whoever drives
// the API (a Remote's recorder), not here. Close removes them too.
func (e *Embedded) API() http.Handler { return e.srv.Routes() }

// echo is where a link's Toxiproxy log lines go besides the history.
func (e *Embedded) echo() io.Writer {
	if e.opts.Logging {
		return zerolog.ConsoleWriter{Out: os.Stderr}
	}
	return nil
}

// Link creates and starts a link on a free port of the listen host.
func (e *Embedded) Link(ctx context.Context, name, upstream string) (*Link, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := checkUpstream(upstream); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	p := toxiproxy.NewProxy(e.srv, name, net.JoinHostPort(e.opts.Listen, "0"), upstream)
	p.Logger = linkLogger(name, e.rec, e.echo()) // before it starts: its accept loop reads it
	if err := e.srv.Collection.Add(p, true); err != nil {
		return nil, fmt.Errorf("proxy: link %s: %w", name, err)
	}
	// Safe to read: Start has returned, and the port is fixed from here on
	// (a restart rebinds this address).
	ops := &embeddedLink{srv: e.srv, p: p, addr: p.Listen, guards: map[string]string{}}
	l := newLink(name, p.Listen, ops, e.rec, &e.ids)
	e.links = append(e.links, l)
	return l, nil
}

// Close heals every fault still in force, then stops and removes every link.
// Toxiproxy's per-connection goroutines end as their connections close.
func (e *Embedded) Close() error {
	e.mu.Lock()
	links := e.links
	e.links, e.closed = nil, true
	e.mu.Unlock()
	var errs []error
	for _, l := range links {
		errs = append(errs, l.shutdown(context.Background()))
	}
	// What the API made (and whatever is left): stopped, with their
	// connections, and removed.
	errs = append(errs, e.srv.Collection.Clear())
	return errors.Join(errs...)
}

// embeddedLink is linkOps on an in-process proxy. It is used under the
// Link's lock.
type embeddedLink struct {
	srv    *toxiproxy.ApiServer
	p      *toxiproxy.Proxy
	addr   string
	guards map[string]string // guarded toxic's name → its guard's key (see guard.go)
}

func (e *embeddedLink) addToxic(ctx context.Context, t toxic) error {
	n, guarded := guardBytes(t)
	if !guarded {
		return e.add(t)
	}
	key := newGuardKey()
	g := toxic{Name: t.Name + "-guard", Type: guardType, Stream: t.Stream, Toxicity: 1,
		Attributes: map[string]any{"key": key, "bytes": n}}
	// Guard first: Toxiproxy chains toxics in the order they are added.
	if err := e.add(g); err != nil {
		return fmt.Errorf("guard: %w", err)
	}
	if err := e.add(t); err != nil {
		_ = e.remove1(ctx, g.Name)
		return err
	}
	armed.Store(key, struct{}{})
	e.guards[t.Name] = key
	return nil
}

func (e *embeddedLink) add(t toxic) error {
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	// In-process toxics are added only as JSON; this returns once every live
	// connection has the toxic.
	_, err = e.p.Toxics.AddToxicJson(bytes.NewReader(body))
	return err
}

func (e *embeddedLink) removeToxic(ctx context.Context, name string) error {
	key, guarded := e.guards[name]
	if !guarded {
		return e.remove1(ctx, name)
	}
	armed.Delete(key) // before the toxic goes: the guard must not drop for it any more
	if err := e.remove1(ctx, name); err != nil {
		armed.Store(key, struct{}{})
		return err
	}
	delete(e.guards, name)
	return e.remove1(ctx, name+"-guard")
}

func (e *embeddedLink) remove1(ctx context.Context, name string) error {
	if err := e.p.Toxics.RemoveToxic(ctx, name); err != nil && err != toxiproxy.ErrToxicNotFound {
		return err
	}
	return nil
}

func (e *embeddedLink) setEnabled(_ context.Context, on bool) error {
	if !on {
		e.p.Stop() // closes the listener and every live connection
		return nil
	}
	if err := e.p.Start(); err != nil && err != toxiproxy.ErrProxyAlreadyStarted {
		return err
	}
	if e.p.Listen != e.addr {
		return fmt.Errorf("restarted on %s, not %s", e.p.Listen, e.addr)
	}
	return nil
}

func (e *embeddedLink) remove(context.Context) error {
	for name, key := range e.guards {
		armed.Delete(key)
		delete(e.guards, name)
	}
	if err := e.srv.Collection.Remove(e.p.Name); err != nil && err != toxiproxy.ErrProxyNotFound {
		return err
	}
	return nil
}
