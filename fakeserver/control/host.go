package control

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/proxy"
)

// heartbeat is how often an idle stream gets a line, so that a client can
// bound its reads and tell a quiet server from a dead one.
const heartbeat = time.Second

// Host runs named fake servers and serves the control API over them.
type Host struct {
	boot string
	log  *eventLog

	stores stores // the runs' context stores this process hosts (store.go)

	mu      sync.Mutex
	closed  bool
	order   []string
	servers map[string]*slot
	links   *hostedLinks // ServeLinks
}

// hostedLinks is the embedded Toxiproxy a host serves (ServeLinks).
type hostedLinks struct {
	tp   *proxy.Embedded
	hs   *http.Server
	addr string
	done chan struct{}
}

type slot struct {
	cfg   ServerConfig // Listen is fixed after the first start: resets come back there
	srv   fakeserver.Server
	store *RemoteStore // the store in another process its peers name, if any
}

// dropStore releases the slot's remote store (a reset, new peers, Close).
func (s *slot) dropStore() {
	if s.store != nil {
		s.store.Close()
		s.store = nil
	}
}

// NewHost starts every configured server. Names must be unique; Listen
// defaults to 127.0.0.1:0 (a container passes ":7000").
func NewHost(cfgs []ServerConfig) (*Host, error) {
	h := &Host{boot: rand.Text(), log: newEventLog(1 << 20), servers: map[string]*slot{}}
	for _, c := range cfgs {
		if c.Name == "" {
			_ = h.Close()
			return nil, errors.New("control: a server needs a name")
		}
		if _, dup := h.servers[c.Name]; dup {
			_ = h.Close()
			return nil, fmt.Errorf("control: server %q twice", c.Name)
		}
		s := &slot{cfg: c}
		if err := h.start(s); err != nil {
			_ = h.Close()
			return nil, err
		}
		h.servers[c.Name] = s
		h.order = append(h.order, c.Name)
	}
	return h, nil
}

func (h *Host) start(s *slot) error {
	c := s.cfg
	if c.Kind == "" {
		c.Kind = "session"
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	srv, err := fakeserver.Start(c.Kind, c.Name, h.log, fakeserver.Config{
		Ping: time.Duration(c.Ping), Retention: time.Duration(c.Retention), Buffer: c.Buffer, Listen: c.Listen})
	if err != nil {
		return fmt.Errorf("control: server %s: %w", c.Name, err)
	}
	if _, port, _ := net.SplitHostPort(c.Listen); port == "0" {
		// A port picked by the kernel stays this server's port across resets:
		// the link in front of it dials it.
		host, _, _ := net.SplitHostPort(c.Listen)
		_, bound, _ := net.SplitHostPort(srv.Addr())
		c.Listen = net.JoinHostPort(host, bound)
	}
	s.cfg, s.srv = c, srv
	return nil
}

// Addr returns a hosted server's bound address.
func (h *Host) Addr(name string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.servers[name]
	if !ok || s.srv == nil {
		return "", false
	}
	return s.srv.Addr(), true
}

// ServeLinks hosts links next to the servers: an embedded Toxiproxy whose
// HTTP API, the one a Toxiproxy server serves (proxy.Remote drives it), is
// served on ln until Close. Its links record link.accept and link.dial_fail
// into this host's event log, under the names they were created with, so
// that the event stream carries what they saw of clients: a real server
// behind them gives no accept evidence of its own. One per host.
func (h *Host) ServeLinks(ln net.Listener, opts ...proxy.Option) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return errors.New("control: host is closed")
	case h.links != nil:
		return errors.New("control: links are already served")
	}
	tp, err := proxy.NewEmbedded(h.log, opts...)
	if err != nil {
		return err
	}
	hl := &hostedLinks{tp: tp, addr: ln.Addr().String(), done: make(chan struct{}),
		hs: &http.Server{Handler: tp.API(), ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		defer close(hl.done)
		_ = hl.hs.Serve(ln)
	}()
	h.links = hl
	return nil
}

// LinksAddr is where ServeLinks serves the Toxiproxy API ("" if it does not).
func (h *Host) LinksAddr() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.links == nil {
		return ""
	}
	return h.links.addr
}

// Close closes every server and the links, and ends every event stream.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	var errs []error
	if hl := h.links; hl != nil {
		// The API first, so that nothing makes links meanwhile; then the
		// links, whose last records still reach the log.
		errs = append(errs, hl.hs.Close())
		<-hl.done
		errs = append(errs, hl.tp.Close())
	}
	for _, s := range h.servers {
		if s.srv != nil {
			errs = append(errs, s.srv.Close())
		}
		s.dropStore()
	}
	h.stores.closeAll()
	h.log.close()
	return errors.Join(errs...)
}

// Handler is the control API.
func (h *Host) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", h.health)
	mux.HandleFunc("GET /events", h.events)
	mux.HandleFunc("PUT /servers/{name}", h.reset)
	mux.HandleFunc("POST /servers/{name}/actions/{action}", h.action) // actions.go: every action, the kinds' own and the capabilities
	mux.HandleFunc("POST /stores/{id}/{op}", h.storeCall)             // store.go
	return mux
}

func (h *Host) health(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	out := Health{API: APIVersion, Boot: h.boot, Next: h.log.next()}
	if h.links != nil {
		out.Links = h.links.addr
	}
	for _, n := range h.order {
		s := h.servers[n]
		info := ServerInfo{Name: n, Kind: s.cfg.Kind, Listen: s.cfg.Listen}
		if s.srv != nil {
			info.Addr = s.srv.Addr()
		}
		out.Servers = append(out.Servers, info)
	}
	h.mu.Unlock()
	reply(w, http.StatusOK, out)
}

// slotFor finds a server by its path name; it answers the request itself
// when there is none.
func (h *Host) slotFor(w http.ResponseWriter, r *http.Request) *slot {
	name := r.PathValue("name")
	s, ok := h.servers[name]
	switch {
	case h.closed:
		fail(w, http.StatusServiceUnavailable, "shutting down")
	case !ok:
		fail(w, http.StatusNotFound, fmt.Sprintf("no server %q here (have %v)", name, h.order))
	default:
		return s
	}
	return nil
}

func (h *Host) reset(w http.ResponseWriter, r *http.Request) {
	var cfg ServerConfig
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&cfg); err != nil {
		fail(w, http.StatusBadRequest, "config: "+err.Error())
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.slotFor(w, r)
	if s == nil {
		return
	}
	if s.srv != nil {
		// Close returns once every event of the old server is recorded, so
		// Next below is where the fresh server's events begin.
		_ = s.srv.Close()
		s.srv = nil
	}
	s.dropStore() // the fresh server gets its peers from its next run
	cfg.Name, cfg.Listen = s.cfg.Name, s.cfg.Listen
	next := h.log.next()
	old := s.cfg
	s.cfg = cfg
	if err := h.start(s); err != nil {
		s.cfg = old
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	reply(w, http.StatusOK, Reset{Next: next, Addr: s.srv.Addr()})
}

func (h *Host) publish(w http.ResponseWriter, r *http.Request, a Action) {
	var p Publish
	if err := json.Unmarshal(a.Args, &p); err != nil || p.Topic == "" {
		fail(w, http.StatusBadRequest, fmt.Sprintf("publish needs args {topic, data}: %v", err))
		return
	}
	h.mu.Lock()
	s := h.slotFor(w, r)
	var srv fakeserver.Server
	if s != nil {
		srv = s.srv
	}
	h.mu.Unlock()
	if s == nil {
		return
	}
	pub, ok := srv.(fakeserver.Publisher)
	if !ok {
		fail(w, http.StatusConflict, fmt.Sprintf("server %s (%s) cannot publish", s.cfg.Name, s.cfg.Kind))
		return
	}
	reply(w, http.StatusOK, map[string]int64{"seq": pub.Publish(p.Topic, p.Data)})
}

func (h *Host) closeSessions(w http.ResponseWriter, r *http.Request, _ Action) {
	h.mu.Lock()
	s := h.slotFor(w, r)
	var srv fakeserver.Server
	if s != nil {
		srv = s.srv
	}
	h.mu.Unlock()
	if s == nil {
		return
	}
	c, ok := srv.(fakeserver.SessionCloser)
	if !ok {
		fail(w, http.StatusConflict, fmt.Sprintf("server %s (%s) cannot close sessions", s.cfg.Name, s.cfg.Kind))
		return
	}
	c.CloseSessions()
	reply(w, http.StatusOK, struct{}{})
}

// events streams the log from ?from=N (default 0) as NDJSON until the
// client goes or the host closes.
func (h *Host) events(w http.ResponseWriter, r *http.Request) {
	from, err := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
	if r.URL.Query().Get("from") == "" {
		from, err = 0, nil
	}
	if err != nil || from < 0 {
		fail(w, http.StatusBadRequest, "from must be a stream position (0, 1, …)")
		return
	}
	if first := h.log.first(); from < first {
		fail(w, http.StatusGone, fmt.Sprintf("events before %d are no longer kept", first))
		return
	}
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	if fl != nil {
		fl.Flush() // the client knows the stream is open before any event
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		evs, wait, done := h.log.since(from)
		for _, e := range evs {
			if enc.Encode(e) != nil {
				return
			}
		}
		from += int64(len(evs))
		if len(evs) > 0 {
			if bw.Flush() != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
		if done {
			return
		}
		select {
		case <-wait:
		case <-r.Context().Done():
			return
		case <-tick.C:
			if enc.Encode(Envelope{N: -1}) != nil || bw.Flush() != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
	}
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, msg string) { reply(w, code, apiError{Error: msg}) }

// eventLog is the host's record of everything its servers saw: a
// history.Recorder that keeps the last max events for streams to read.
type eventLog struct {
	max int

	mu     sync.Mutex
	base   int64 // stream position of evs[0]
	evs    []Envelope
	wake   chan struct{} // closed (and replaced) on every append
	closed bool
}

func newEventLog(max int) *eventLog { return &eventLog{max: max, wake: make(chan struct{})} }

// Record keeps e with its position and the wall-clock instant. T stays
// zero: the harness stamps events with its own clock on arrival.
func (l *eventLog) Record(e history.Event) {
	e.T = 0
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.evs = append(l.evs, Envelope{N: l.base + int64(len(l.evs)), TS: time.Now().UnixNano(), Event: e})
	if len(l.evs) > l.max {
		drop := len(l.evs) - l.max
		l.evs = append([]Envelope(nil), l.evs[drop:]...)
		l.base += int64(drop)
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

func (l *eventLog) next() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.base + int64(len(l.evs))
}

func (l *eventLog) first() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.base
}

// since returns the events from position from on, a channel closed on the
// next append, and whether the log is closed (no more will come).
func (l *eventLog) since(from int64) ([]Envelope, <-chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := from - l.base
	if i < 0 {
		i = 0 // trimmed meanwhile: what is left (the stream shows the jump in N)
	}
	var out []Envelope
	if i < int64(len(l.evs)) {
		out = append(out, l.evs[i:]...)
	}
	return out, l.wake, l.closed && len(out) == 0
}

func (l *eventLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.wake)
		l.wake = make(chan struct{})
	}
}

// Serve runs the API on ln until ctx is done, then closes the host.
func (h *Host) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		_ = h.Close()
		return err
	}
	_ = h.Close() // ends the streams, so that Shutdown need not wait for them
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = hs.Close()
	}
	<-errc
	return err
}
