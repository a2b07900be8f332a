package control

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
)

// callTimeout bounds one API call made through a Server handle, whose
// fakeserver interfaces carry no context.
const callTimeout = 10 * time.Second

// Server is the harness's handle on a server hosted behind the API: a
// fakeserver.Server, Publisher and SessionCloser. Addr is the upstream the
// link dials (as the Toxiproxy sees it). Failures of the API, which the
// interfaces cannot return, are recorded into the history as harness errors:
// evidence, not silence.
type Server struct {
	name     string
	kind     string // the server's kind, for its URL ("" is the session kind)
	upstream string
	rec      history.Recorder

	mu    sync.Mutex
	c     *Client
	paced time.Duration // the row pacing last set (0: unknown), see PaceRows
}

var (
	_ fakeserver.Server        = (*Server)(nil)
	_ fakeserver.Publisher     = (*Server)(nil)
	_ fakeserver.SessionCloser = (*Server)(nil)
)

// NewServer makes a handle on server name behind c, reached by links at upstream.
func NewServer(name, upstream string, c *Client, rec history.Recorder) *Server {
	if rec == nil {
		rec = history.Nop{}
	}
	return &Server{name: name, upstream: upstream, c: c, rec: rec}
}

// Name is the server's name (the scenario's).
func (s *Server) Name() string { return s.name }

// Addr is the address links dial.
func (s *Server) Addr() string { return s.upstream }

// SetKind names the server's kind (its scenario's), which its URL's scheme
// and path follow; call it before the handle is shared.
func (s *Server) SetKind(kind string) { s.kind = kind }

// Kind is the server's kind as set by SetKind ("": the default kind).
func (s *Server) Kind() string { return s.kind }

// URL is the client-facing URL at Addr, in its kind's scheme (ws:// for the
// session kind, nats:// for NATS kinds). The runner builds the URLs clients
// dial from its links' addresses, not from this.
func (s *Server) URL() string { return fakeserver.URL(s.kind, s.upstream) }

// Close releases the handle; the server's process belongs to its topology.
func (s *Server) Close() error { return nil }

// Client is the API client in use.
func (s *Server) Client() *Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

// SetClient switches to another API client (a restarted container may have
// its control port mapped elsewhere).
func (s *Server) SetClient(c *Client) {
	s.mu.Lock()
	s.c = c
	s.paced = 0 // a fresh process paces at its default
	s.mu.Unlock()
}

// Publish publishes one message; it returns the seq, or 0 after recording
// why it could not.
func (s *Server) Publish(topic string, data json.RawMessage) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	seq, err := s.Client().Publish(ctx, s.name, topic, data)
	if err != nil {
		s.rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Server: s.name,
			Reason: "publish on " + s.name + ": " + err.Error()})
		return 0
	}
	return seq
}

// CloseSessions closes every session deliberately.
func (s *Server) CloseSessions() {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := s.Client().CloseSessions(ctx, s.name); err != nil {
		s.rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Server: s.name,
			Reason: "close sessions on " + s.name + ": " + err.Error()})
	}
}

// Follower reads one event stream in the background.
type Follower struct {
	cancel  context.CancelFunc
	done    chan struct{}
	open    chan struct{}
	resumed atomic.Int64
}

// Resuming a broken stream. The host keeps its recent events, so a stream
// that broke (silence past the heartbeat bound, a connection reset, a line
// cut short) is asked again from the position after the last event handed
// on: nothing is lost or handed on twice, only late, and the lag the
// events' stamps carry says how late. Seen with 10,000 clients in
// containers mode: the harness's own process was too busy to read its
// streams for 5s (events 6s late), and every stream was given up although
// every host was alive. A stream is given up when the host no longer keeps
// the events wanted (ErrGone), or when it has not come back for
// resumeWithin (the host is gone).
var (
	resumeWithin = 10 * time.Second // a variable for tests
	resumePause  = 200 * time.Millisecond
)

// Follow streams c's events from position from into fn until Stop,
// resuming a broken stream where it stopped (see resumeWithin). If it ends
// for good by itself (the host died, or no longer has the events wanted),
// onEnd gets the reason; after Stop it is not called.
func Follow(c *Client, from int64, fn func(Envelope), onEnd func(error)) *Follower {
	ctx, cancel := context.WithCancel(context.Background())
	f := &Follower{cancel: cancel, done: make(chan struct{}), open: make(chan struct{})}
	go func() {
		defer close(f.done)
		var once sync.Once
		opened := func() { once.Do(func() { close(f.open) }) }
		next := from
		take := func(env Envelope) {
			next = env.N + 1
			fn(env)
		}
		var broke time.Time
		for {
			answered := false
			err := c.Stream(ctx, next, take, func() { answered = true; opened() })
			if ctx.Err() != nil {
				return
			}
			if answered || broke.IsZero() {
				broke = time.Now() // the host was there: its stream broke anew
			}
			if errors.Is(err, ErrGone) || time.Since(broke) > resumeWithin {
				if onEnd != nil {
					onEnd(err)
				}
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(resumePause):
			}
			f.resumed.Add(1)
		}
	}()
	return f
}

// Resumed is how many times the stream was asked again after it broke.
func (f *Follower) Resumed() int64 { return f.resumed.Load() }

// Opened waits until the host has answered the stream request (so that
// events from now on arrive as they happen), the stream ended, or ctx ends.
func (f *Follower) Opened(ctx context.Context) error {
	select {
	case <-f.open:
		return nil
	case <-f.done:
		return ErrStreamEnded
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop ends the stream and waits (bounded) for its reader to finish.
func (f *Follower) Stop() {
	f.cancel()
	select {
	case <-f.done:
	case <-time.After(callTimeout):
	}
}

// Done is closed once the reader has finished.
func (f *Follower) Done() <-chan struct{} { return f.done }

// Delays collects how long events took from being recorded by a host to
// arriving at the harness (the wall clock is the kernel's on both sides when
// the host is a container on this machine).
type Delays struct {
	mu sync.Mutex
	d  []time.Duration
}

// maxSamples bounds memory; the summary is of the first maxSamples.
const maxSamples = 1 << 20

// Add notes one event recorded at ts (Unix ns) and arriving now.
func (d *Delays) Add(ts int64) {
	if ts == 0 {
		return
	}
	lag := time.Duration(time.Now().UnixNano() - ts)
	if lag < 0 {
		lag = 0 // a host whose clock runs ahead of ours (external mode, another machine)
	}
	d.mu.Lock()
	if len(d.d) < maxSamples {
		d.d = append(d.d, lag)
	}
	d.mu.Unlock()
}

// DelaySummary is the distribution of the added delay.
type DelaySummary struct {
	N                       int
	P50, P90, P99, Max, Min time.Duration
}

func (s DelaySummary) String() string {
	if s.N == 0 {
		return "no server events streamed"
	}
	r := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	return "n=" + strconv.Itoa(s.N) + " p50=" + r(s.P50).String() + " p90=" + r(s.P90).String() +
		" p99=" + r(s.P99).String() + " max=" + r(s.Max).String()
}

// Summary summarises what was added so far.
func (d *Delays) Summary() DelaySummary {
	d.mu.Lock()
	xs := append([]time.Duration(nil), d.d...)
	d.mu.Unlock()
	if len(xs) == 0 {
		return DelaySummary{}
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	q := func(p float64) time.Duration { return xs[int(p*float64(len(xs)-1))] }
	return DelaySummary{N: len(xs), P50: q(.5), P90: q(.9), P99: q(.99), Max: xs[len(xs)-1], Min: xs[0]}
}
