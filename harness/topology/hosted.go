package topology

import (
	"context"
	"fmt"
	"sync/atomic"

	tpclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/faultline/faultline/fakeserver/control"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// Hosted is a fake server run by a `faultline serve` process, seen from the
// harness: the control API handle (Publisher, SessionCloser) with its events
// renumbered into the run's history. Topologies that can kill the process
// wrap it.
type Hosted struct {
	*control.Server
	rn *renumber

	gate    atomic.Pointer[LinkFeed] // the feed of its link's events, when they stream in too
	accepts atomic.Int64             // its accepts fed so far
}

// AfterLink makes the server's accepts wait for its link's (links.go): set
// when the link's events stream in from another process too.
func (h *Hosted) AfterLink(lf *LinkFeed) { h.gate.Store(lf) }

// NewHosted makes the handle on server name of the given kind behind c,
// reached by links at upstream, recording into rec.
func NewHosted(name, kind, upstream string, c *control.Client, rec history.Recorder) *Hosted {
	srv := control.NewServer(name, upstream, c, rec)
	srv.SetKind(kind)
	return &Hosted{Server: srv, rn: newRenumber(rec)}
}

// Rebase marks a new incarnation of the server (a restarted process): its
// connection ids continue after every id seen so far.
func (h *Hosted) Rebase() { h.rn.rebase() }

// Config is the serve form of a scenario server's configuration.
func Config(s scenario.Server) control.ServerConfig {
	return control.ServerConfig{Kind: s.Kind, Ping: control.Duration(s.Ping),
		Retention: control.Duration(s.Retention), Buffer: s.Buffer}
}

// Feed follows one serve process's event stream and records each event of
// a server it was given into that server's history, stamped on arrival. The
// delay each event took is added to delays.
type Feed struct {
	f *control.Follower
}

// FeedTarget is where one server's events go, and from which stream
// position on (earlier ones belong to a previous incarnation).
type FeedTarget struct {
	Server *Hosted
	From   int64
}

// StartFeed follows c from the lowest From of targets, adding each event's
// delay to every one of delays. When the stream ends by itself, the reason
// is recorded into rec as evidence.lost for each of its servers: events may
// be missing from then on, and the history says so.
func StartFeed(c *control.Client, targets []FeedTarget, rec history.Recorder, delays ...*control.Delays) *Feed {
	by := map[string]FeedTarget{}
	from := int64(-1)
	var names []string
	for _, t := range targets {
		by[t.Server.Name()] = t
		names = append(names, t.Server.Name())
		if from < 0 || t.From < from {
			from = t.From
		}
	}
	if from < 0 {
		from = 0
	}
	fn := func(env control.Envelope) {
		t, ok := by[env.Event.Server]
		if !ok || env.N < t.From {
			return // another server of the same process, or an older incarnation
		}
		if env.Event.Kind == history.KindAccept {
			n := t.Server.accepts.Add(1)
			if lf := t.Server.gate.Load(); lf != nil {
				lf.await(t.Server.Name(), n, awaitLink)
			}
		}
		// The delay is taken as the event is recorded: a wait above is part of it.
		for _, d := range delays {
			d.Add(env.TS)
		}
		t.Server.rn.Record(env.Event)
	}
	onEnd := func(err error) {
		for _, n := range names {
			rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindEvidenceLost, Server: n,
				Reason: fmt.Sprintf("event stream of %v from %s: %v", names, c.URL(), err)})
		}
	}
	return &Feed{f: control.Follow(c, from, fn, onEnd)}
}

// Opened waits (within ctx) until the stream is open: from then on events
// arrive as they happen, not in a catch-up burst.
func (f *Feed) Opened(ctx context.Context) error { return f.f.Opened(ctx) }

// Stop ends the feed; events still in flight are dropped.
func (f *Feed) Stop() {
	if f != nil {
		f.f.Stop()
	}
}

// SweepProxies deletes, on the Toxiproxy at api, every proxy that would stand
// in the way of this run's links: one with a name the run uses, or listening
// on a port given to faultline. A run that was killed before its Close
// leaves such proxies; they are faultline's by that convention.
func SweepProxies(api string, names []string, ports []int) error {
	c := tpclient.NewClient(api)
	ps, err := c.Proxies()
	if err != nil {
		return fmt.Errorf("toxiproxy %s: %w", api, err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	ours := map[string]bool{}
	for _, p := range ports {
		ours[fmt.Sprint(p)] = true
	}
	var errs []error
	for name, p := range ps {
		_, port := splitPort(p.Listen)
		if want[name] || ours[port] {
			if err := p.Delete(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("toxiproxy %s: delete stale proxies: %v", api, errs)
	}
	return nil
}

func splitPort(addr string) (string, string) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:]
		}
	}
	return addr, ""
}
