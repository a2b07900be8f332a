package real

import (
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
	// Listen is the host:port of the front listener, the address clients
	// dial (default "127.0.0.1:0": a free port). mosquitto itself listens
	// on a free port of the same host (127.0.0.1 for every interface).
	Listen string
	// Binary is the mosquitto to run (default DefaultBinary, else
	// mosquitto on PATH).
	Binary string
}

// Server is a mosquitto process. Its methods are safe for concurrent use.
type Server struct {
	name string
	rec  history.Recorder
	bin  string
	host string // as given ("" = every interface)
	port int    // the front listener's (Listen's, or the free one picked for port 0)
	dial string // mosquitto's own listener's host: where the relays and the harness's own connections go

	conns atomic.Int64 // the last n of "<name>#<n>"
	peers peers        // the connections the harness dialled to mosquitto
	box   *inbox
	inc   *incarnation // the process, from Start on
	front *front       // the listener the clients reach, from Start on

	mu     sync.Mutex // guards closed; Close holds it while it stops the process
	closed bool

	pubMu sync.Mutex // serialises publishes and takeovers; taken before mu, never after
}

// incarnation is one mosquitto process and what its log told.
type incarnation struct {
	p       *process
	port    int         // mosquitto's own listener: an ephemeral port on Server.dial
	killing atomic.Bool // stop was asked: the process's end is ours
	mon     *monitor    // nil until connected; replaced if it dies (under Server.pubMu)

	mu  sync.Mutex // the tracker's: held while a line is handled
	t   *tracker
	seq map[string]int64 // publish seqs, per topic (under Server.pubMu)
}

var _ fakeserver.Server = (*Server)(nil)

// Start runs a mosquitto named name, recording into rec. It returns once
// the front listener is bound on opts.Listen, mosquitto listens on its own
// port, and the harness's own connection is in place.
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
	ln, err := s.listen()
	if err != nil {
		return nil, fmt.Errorf("mosquitto %s: %w", name, err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	inc, err := s.startIncarnation()
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	s.inc = inc
	s.front = startFront(s, inc, ln)
	go s.watch(inc)
	return s, nil
}

// startIncarnation runs mosquitto on a free port of s.dial (mosquitto
// cannot take port 0), retrying while the port is taken: one picked for it
// may have been taken meanwhile.
func (s *Server) startIncarnation() (*incarnation, error) {
	deadline := time.Now().Add(readyTimeout)
	for {
		port, err := freePort(s.dial)
		if err != nil {
			return nil, fmt.Errorf("mosquitto %s: %w", s.name, err)
		}
		inc := &incarnation{port: port, seq: map[string]int64{}}
		inc.t = newTracker(s.deps())
		p, err := spawn(s.bin, s.dial, port, func(l Line) {
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
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("mosquitto %s on %s: %w", s.name, net.JoinHostPort(s.dial, strconv.Itoa(port)), err)
		}
		s.inc = inc // target() is its port
		mon, err := dialMonitor(&s.peers, s.target(), s.box)
		if err != nil {
			s.stop(inc, ReasonKilled, "killed")
			s.inc = nil
			return nil, fmt.Errorf("mosquitto %s: %w", s.name, err)
		}
		inc.mon = mon
		return inc, nil
	}
}

func (s *Server) deps() trackerDeps {
	return trackerDeps{
		name:      s.name,
		record:    s.rec.Record,
		connID:    s.nextConn,
		peer:      s.peers.lookup,
		monitorID: MonitorID,
		payload:   func(g string, k int) (int64, bool) { return s.box.take(g, k, payloadWait) },
		closed:    s.peers.closed,
		gone:      s.peers.gone,
	}
}

// nextConn is the next "<name>#<n>".
func (s *Server) nextConn() string { return s.name + "#" + strconv.FormatInt(s.conns.Add(1), 10) }

// target is mosquitto's own listener: where the relays and the harness's
// own connections go.
func (s *Server) target() string { return net.JoinHostPort(s.dial, strconv.Itoa(s.inc.port)) }

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
	s.front.closeListener() // new connections are refused, as by a dead broker; the relays end as their clients go
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
	s.peers.reset() // the connections died with the process: their ports may serve others next
	inc.mu.Lock()
	inc.t.killed(reason, native)
	inc.mu.Unlock()
}

// Name is the server's scenario name.
func (s *Server) Name() string { return s.name }

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// URL is "mqtt://" + Addr().
func (s *Server) URL() string { return "mqtt://" + s.Addr() }

// LastLines are the last lines of the running mosquitto's log (nil once
// closed): for error reports.
func (s *Server) LastLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	return s.inc.p.ring.last()
}

// Close stops the broker for good (SIGKILL: the topology's kill, or the
// run's end); its clients' connections close with reason killed. It
// records no process event. It returns once the front listener, its
// relays and the process are gone.
func (s *Server) Close() error {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.front.closeListener()
		s.stop(s.inc, ReasonKilled, "killed")
		s.front.shutdown()
	}
	return nil
}

// running is the broker's process, nil once closed.
func (s *Server) running() (*incarnation, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, "the server is closed"
	}
	return s.inc, ""
}
