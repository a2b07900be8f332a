package real

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
)

// Kind is the server kind's name in scenarios.
const Kind = "mosquitto"

// Defaults.
const (
	DefaultListen = "127.0.0.1:0"
	readyTimeout  = 5 * time.Second // a start, with its retries on a taken port
	payloadWait   = 2 * time.Second // the monitor's copy of a message the log just named
)

// Options configure the broker. Zero values mean the defaults.
type Options struct {
	// Listen is the host:port to listen on (default "127.0.0.1:0": a free
	// port). The port bound at the first start is kept: a restart comes
	// back on the same address.
	Listen string
	// Binary is the mosquitto to run (default DefaultBinary, else
	// mosquitto on PATH).
	Binary string
}

// Server is a mosquitto process that can be killed and restarted in place.
// Its methods are safe for concurrent use.
type Server struct {
	name string
	rec  history.Recorder
	bin  string
	host string // as given ("" = every interface)
	port int    // 0 until the first start bound one
	dial string // where the harness's own connections go

	conns atomic.Int64 // the last n of "<name>#<n>", across incarnations
	d     dialer
	box   *inbox

	mu     sync.Mutex // serialises start, kill, restart and close
	cur    *incarnation
	closed bool

	pubMu sync.Mutex // serialises publishes and takeovers; taken before mu, never after
}

// incarnation is one mosquitto process and what its log told.
type incarnation struct {
	p       *process
	killing atomic.Bool // stop was asked: the process's end is ours
	mon     *monitor    // nil until connected; replaced if it dies (under Server.pubMu)

	mu  sync.Mutex // the tracker's: held while a line is handled
	t   *tracker
	seq map[string]int64 // publish seqs, per topic (under Server.pubMu)
}

var (
	_ fakeserver.Server    = (*Server)(nil)
	_ fakeserver.Killer    = (*Server)(nil)
	_ fakeserver.Restarter = (*Server)(nil)
)

// Start runs a mosquitto named name, recording into rec. It returns once
// mosquitto listens and the harness's own connection is in place.
func Start(name string, rec history.Recorder, opts Options) (*Server, error) {
	if rec == nil {
		rec = history.Nop{}
	}
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	bin, err := findBinary(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("mosquitto %s: %w", name, err)
	}
	host, ps, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("mosquitto %s: listen %q: %w", name, opts.Listen, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("mosquitto %s: listen %q: bad port", name, opts.Listen)
	}
	dial := host
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		dial = "127.0.0.1"
	} else if ip == nil {
		return nil, fmt.Errorf("mosquitto %s: listen %q: the host must be an IP address", name, opts.Listen)
	}
	s := &Server{name: name, rec: rec, bin: bin, host: host, port: port, dial: dial, box: newInbox()}
	inc, err := s.startIncarnation()
	if err != nil {
		return nil, err
	}
	s.cur = inc
	return s, nil
}

// startIncarnation runs a fresh mosquitto on the server's port (the first
// time on 0: a free one, kept from then on), retrying while the port is
// taken: one picked for it may have been taken meanwhile, and a fixed one
// may still be held by the process just killed.
func (s *Server) startIncarnation() (*incarnation, error) {
	deadline := time.Now().Add(readyTimeout)
	for {
		port := s.port
		if port == 0 {
			p, err := freePort(s.listenHost())
			if err != nil {
				return nil, fmt.Errorf("mosquitto %s: %w", s.name, err)
			}
			port = p
		}
		inc := &incarnation{seq: map[string]int64{}}
		inc.t = newTracker(s.deps(port))
		p, err := spawn(s.bin, s.host, port, func(l Line) {
			inc.mu.Lock()
			inc.t.handle(l)
			inc.mu.Unlock()
		})
		if err != nil {
			return nil, fmt.Errorf("mosquitto %s: %w", s.name, err)
		}
		inc.p = p
		err = p.waitReady(time.Until(deadline) + 100*time.Millisecond)
		if errors.Is(err, errBind) && time.Now().Before(deadline) {
			if s.port != 0 {
				time.Sleep(25 * time.Millisecond)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("mosquitto %s on %s: %w", s.name, net.JoinHostPort(s.host, strconv.Itoa(port)), err)
		}
		if s.port == 0 {
			s.port = port // from now on, the server's: restarts come back here
		}
		mon, err := dialMonitor(&s.d, s.target(), s.box)
		if err != nil {
			s.stop(inc, ReasonKilled, "killed")
			return nil, fmt.Errorf("mosquitto %s: %w", s.name, err)
		}
		inc.mon = mon
		go s.watch(inc)
		return inc, nil
	}
}

func (s *Server) deps(port int) trackerDeps {
	return trackerDeps{
		name:      s.name,
		record:    s.rec.Record,
		connID:    func() string { return s.name + "#" + strconv.FormatInt(s.conns.Add(1), 10) },
		internal:  s.d.is,
		monitorID: MonitorID,
		payload:   func(g string, k int) (int64, bool) { return s.box.take(g, k, payloadWait) },
		closed:    func(c []string) string { return closedPeer(port, c) },
		gone:      s.d.forget,
	}
}

func (s *Server) listenHost() string {
	if s.host == "" {
		return "0.0.0.0"
	}
	return s.host
}

func (s *Server) target() string { return net.JoinHostPort(s.dial, strconv.Itoa(s.port)) }

// watch records a process that ended by itself (a crash): its connections
// close, and the harness says why, with its last lines.
func (s *Server) watch(inc *incarnation) {
	<-inc.p.exited
	<-inc.p.drained
	if inc.killing.Load() {
		return
	}
	inc.mu.Lock()
	inc.t.killed(ReasonErrorPrefix+"mosquitto exited", "exited")
	inc.mu.Unlock()
	s.rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Server: s.name,
		Reason: fmt.Sprintf("mosquitto %s exited by itself (%v): %s", s.name, inc.p.exitErr, inc.p.ring.text())})
}

// stop kills inc's process and closes what it still had open.
func (s *Server) stop(inc *incarnation, reason, native string) {
	inc.killing.Store(true)
	inc.p.kill()
	if inc.mon != nil {
		inc.mon.close()
		s.box.drop(inc.mon.peer)
	}
	s.d.reset() // the harness's connections died with the process: their ports may serve clients next
	inc.mu.Lock()
	inc.t.killed(reason, native)
	inc.mu.Unlock()
}

// Name is the server's scenario name.
func (s *Server) Name() string { return s.name }

// Addr is host:port, the same across restarts.
func (s *Server) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// URL is "mqtt://" + Addr().
func (s *Server) URL() string { return "mqtt://" + s.Addr() }

// LastLines are the last lines of the running mosquitto's log (nil when
// killed): for error reports.
func (s *Server) LastLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return nil
	}
	return s.cur.p.ring.last()
}

// Close stops the broker for good (SIGKILL); its clients' connections
// close with reason killed. It records no process event.
func (s *Server) Close() error {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.cur != nil {
		s.stop(s.cur, ReasonKilled, "killed")
		s.cur = nil
	}
	return nil
}

// Kill kills the process at once (SIGKILL): every connection goes (reason
// killed), and with it what mosquitto held (sessions, retained messages,
// publish seqs; persistence is off). Dials are refused until Restart.
func (s *Server) Kill(context.Context) error {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server is closed")
	}
	if s.cur == nil {
		return errors.New("already killed")
	}
	s.stop(s.cur, ReasonKilled, "killed")
	s.cur = nil
	s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindKill, Server: s.name})
	return nil
}

// Restart runs a fresh mosquitto on the same address, killing the running
// one first if there is one (a bounce).
func (s *Server) Restart(context.Context) error {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server is closed")
	}
	if s.cur != nil {
		s.stop(s.cur, ReasonKilled, "killed")
		s.cur = nil
		s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindKill, Server: s.name})
	}
	inc, err := s.startIncarnation()
	if err != nil {
		return fmt.Errorf("start again: %w", err)
	}
	s.cur = inc
	s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindRestart, Server: s.name})
	return nil
}

// running is the live incarnation, nil when killed or closed.
func (s *Server) running() (*incarnation, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, "the server is closed"
	case s.cur == nil:
		return nil, "the server is killed"
	}
	return s.cur, ""
}
