package real

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// The front listener. mosquitto logs nothing of a TCP connection that is
// reset before its loop reads it (getpeername fails, and it closes the
// socket silently), which a link's cut and reset faults do to a client's
// attempt at once. So the address the kind reports is a listener of the
// harness's own: it records accept when it takes a connection, dials
// mosquitto's own port (internal, ephemeral) from a registered local
// address, and copies the bytes both ways. mosquitto's "New connection
// from A:P" maps to the relay's Conn by that address (peers.go); the relay
// records conn.close only for a connection mosquitto never logged.

const (
	relayBuf      = 16 << 10
	shutdownGrace = time.Second // Close: how long the relays have to pass the killed process's closes on
)

// front is the server's listener and its relays.
type front struct {
	s      *Server
	inc    *incarnation
	ln     net.Listener
	lnOnce sync.Once
	lnDone chan struct{} // the accept loop ended

	mu     sync.Mutex
	relays map[*relay]struct{}
	wg     sync.WaitGroup // the relays' goroutines
}

// listen binds the front listener on the server's address, retrying
// while a fixed port is still held (a restart on the address of the broker
// just closed), within readyTimeout.
func (s *Server) listen() (net.Listener, error) {
	addr := net.JoinHostPort(s.host, strconv.Itoa(s.port))
	deadline := time.Now().Add(readyTimeout)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil || s.port == 0 || !isAddrInUse(err) || time.Now().After(deadline) {
			return ln, err
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func isAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }

// startFront begins taking connections on ln for inc.
func startFront(s *Server, inc *incarnation, ln net.Listener) *front {
	f := &front{s: s, inc: inc, ln: ln, lnDone: make(chan struct{}), relays: map[*relay]struct{}{}}
	go f.accept()
	return f
}

func (f *front) accept() {
	defer close(f.lnDone)
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(5 * time.Millisecond) // out of descriptors, or the like: the kernel keeps the queue
			continue
		}
		tc, ok := c.(*net.TCPConn)
		if !ok {
			_ = c.Close()
			continue
		}
		r := &relay{f: f, id: f.s.nextConn(), client: tc, downEnd: make(chan struct{})}
		r.ep = &endpoint{role: peerClient, id: r.id}
		f.s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindAccept, Server: f.s.name, Conn: r.id,
			Attrs: map[string]string{"remote": peerString(tc.RemoteAddr())}})
		f.mu.Lock()
		f.relays[r] = struct{}{}
		f.wg.Add(1)
		f.mu.Unlock()
		go r.run()
	}
}

// peerString prints a TCP address as mosquitto prints a peer: host:port,
// no brackets.
func peerString(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String() + ":" + strconv.Itoa(t.Port)
	}
	return a.String()
}

// closeListener stops taking connections (those still in the listen
// queue are reset, as a dead broker's would be) and waits for the accept
// loop.
func (f *front) closeListener() {
	f.lnOnce.Do(func() { _ = f.ln.Close() })
	<-f.lnDone
}

// shutdown, after the process was killed: every relay has shutdownGrace
// to pass mosquitto's closes on to its client, then is closed; it returns
// when every relay's goroutines have ended.
func (f *front) shutdown() {
	f.closeListener()
	f.mu.Lock()
	rs := make([]*relay, 0, len(f.relays))
	for r := range f.relays {
		rs = append(rs, r)
	}
	f.mu.Unlock()
	grace := time.NewTimer(shutdownGrace)
	defer grace.Stop()
	expired := false
	for _, r := range rs {
		if !expired {
			select {
			case <-r.downEnd:
			case <-grace.C:
				expired = true
			}
		}
		r.close()
	}
	f.wg.Wait()
}

// relay is one client connection taken by the front listener.
type relay struct {
	f       *front
	id      string
	client  *net.TCPConn
	ep      *endpoint
	how     string        // how the client's side ended (for a close mosquitto never logged)
	downEnd chan struct{} // closed when nothing more passes from mosquitto to the client

	mu   sync.Mutex
	up   *net.TCPConn // nil until dialled
	torn bool         // both sockets are closed (a reset passed on, or shutdown): the copiers end quietly
}

func (r *relay) run() {
	defer func() {
		r.f.mu.Lock()
		delete(r.f.relays, r)
		r.f.mu.Unlock()
		r.f.wg.Done()
	}()
	s := r.f.s
	up, err := s.peers.dial(s.target(), r.ep)
	if err != nil {
		// Nothing reached mosquitto: the client sees what a refused dial
		// would have given it, a reset.
		close(r.downEnd)
		r.mu.Lock()
		r.torn = true
		r.mu.Unlock()
		_ = r.client.SetLinger(0)
		_ = r.client.Close()
		reason, native := r.f.inc.goneReason()
		if reason == ReasonEOF {
			reason, native = ReasonErrorPrefix+"relay: "+err.Error(), "relay: "+err.Error()
		}
		r.record(reason, native)
		return
	}
	r.mu.Lock()
	r.up = up
	torn := r.torn
	r.mu.Unlock()
	if torn { // closed by shutdown while dialling
		_ = up.Close()
		close(r.downEnd)
	} else {
		r.copyBoth()
	}
	r.finish()
}

// copyBoth copies both ways until both ends are passed on, then closes
// both sockets.
func (r *relay) copyBoth() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.pipe(r.client, r.up, true)
	}()
	r.pipe(r.up, r.client, false)
	close(r.downEnd)
	wg.Wait()
	r.close()
}

// pipe copies src to dst. An EOF is passed on as a half-close; a read
// that fails (a reset) as a reset of dst; a write that fails (dst was
// reset) as a reset of src, which would have met it. up: dst is mosquitto.
func (r *relay) pipe(src, dst *net.TCPConn, up bool) {
	buf := make([]byte, relayBuf)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				if r.isTorn() {
					return
				}
				r.ended(!up, "client reset")
				r.tear(src)
				return
			}
		}
		if err == nil {
			continue
		}
		if r.isTorn() {
			return
		}
		if errors.Is(err, io.EOF) {
			r.ended(up, "client closed")
			_ = dst.CloseWrite()
			return
		}
		r.ended(up, "client reset")
		r.tear(dst)
		return
	}
}

// ended notes which side ended: ours (the client's, passed on to
// mosquitto) or mosquitto's.
func (r *relay) ended(ours bool, how string) {
	if ours {
		r.mu.Lock()
		if r.how == "" {
			r.how = how
		}
		r.mu.Unlock()
	}
	r.f.s.peers.ended(r.ep, ours)
}

func (r *relay) isTorn() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.torn
}

// tear resets rst (SO_LINGER 0: an RST, not a FIN) and closes the other.
func (r *relay) tear(rst *net.TCPConn) {
	r.mu.Lock()
	if r.torn {
		r.mu.Unlock()
		return
	}
	r.torn = true
	up := r.up
	r.mu.Unlock()
	_ = rst.SetLinger(0)
	_ = r.client.Close()
	_ = up.Close()
}

// close closes both sockets (their ends were passed on already, or the
// broker is gone).
func (r *relay) close() {
	r.mu.Lock()
	r.torn = true
	up := r.up
	r.mu.Unlock()
	_ = r.client.Close()
	if up != nil {
		_ = up.Close()
	}
}

// finish records the connection's close when mosquitto never logged it:
// once the log has caught up with the connection (barrier), either the
// tracker has its "New connection" line, and mosquitto's own close line
// (or the process's end) closes it, or mosquitto dropped it unlogged.
func (r *relay) finish() {
	p := &r.f.s.peers
	if p.logged(r.ep) {
		return
	}
	caught := r.f.s.barrier(r.f.inc)
	r.mu.Lock()
	how := r.how
	r.mu.Unlock()
	if how == "" {
		how = "client closed"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.ep.logged || r.ep.recorded {
		return
	}
	r.ep.recorded = true // a line read after all: the tracker keeps it out of the evidence
	if caught && p.m[r.ep.addr] == r.ep {
		delete(p.m, r.ep.addr) // no line of it can come any more
	}
	reason, native := r.f.inc.goneReason()
	if reason == ReasonEOF {
		native = "not logged by mosquitto: " + how
	}
	r.record(reason, native)
}

func (r *relay) record(reason, native string) {
	r.f.s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindConnClose, Server: r.f.s.name, Conn: r.id,
		Reason: reason, Attrs: map[string]string{"native": native}})
}

// goneReason is the close reason of a connection mosquitto never logged:
// eof while the process runs (the client went: nothing else ends one),
// else the process's end.
func (inc *incarnation) goneReason() (string, string) {
	select {
	case <-inc.p.exited:
		if inc.killing.Load() {
			return ReasonKilled, "killed"
		}
		return ReasonErrorPrefix + "mosquitto exited", "exited"
	default:
		return ReasonEOF, ""
	}
}

// barrier returns once the tracker has handled every line mosquitto will
// write about the connections dialled to it before the call: it dials a
// probe, and mosquitto takes its connections from one listen queue in the
// order they came, logging each or dropping it unlogged, so once the
// probe's "New connection" line is handled nothing more can come of the
// earlier ones. A process that is gone has written everything once its
// lines are drained. false: neither within internalTimeout.
func (s *Server) barrier(inc *incarnation) bool {
	t := time.NewTimer(internalTimeout)
	defer t.Stop()
	select {
	case <-inc.p.exited:
	default:
		ep := &endpoint{role: peerHarness, probe: make(chan struct{})}
		if c, err := s.peers.dial(s.target(), ep); err == nil {
			defer func() {
				s.peers.ended(ep, true)
				_ = c.Close()
			}()
			select {
			case <-ep.probe:
				return true
			case <-inc.p.drained:
				return true
			case <-t.C:
				return false
			}
		}
	}
	select {
	case <-inc.p.drained:
		return true
	case <-t.C:
		return false
	}
}
