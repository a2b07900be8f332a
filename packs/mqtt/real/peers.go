package real

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// peerRole is what the harness knows of a connection mosquitto logs as
// "New connection from A:P": every connection the harness makes to
// mosquitto's own port (its monitor, its takeovers, its probes, and the
// front listener's relays) comes from a local address it picked and
// registered before dialling, so the line is known by its address even
// when it is read before the dial returns.
type peerRole int

const (
	peerUnknown peerRole = iota // not dialled by the harness: the tracker numbers it and records its accept
	peerHarness                 // the harness's own connection: in no event
	peerClient                  // a client's connection through the front listener: the relay's Conn, accept already recorded
	peerSilent                  // a relayed connection whose close the relay already recorded: nothing more of it
)

// endpoint is one connection the harness dialled to mosquitto.
type endpoint struct {
	role  peerRole      // peerHarness or peerClient
	id    string        // peerClient: the relay's Conn
	probe chan struct{} // a barrier's probe: closed when the tracker reaches its accept line
	addr  string        // the local host:port, as mosquitto prints its peer (set by dial)

	// Under peers.mu:
	logged   bool      // the tracker has handled its "New connection" line
	recorded bool      // the relay recorded its conn.close (mosquitto never logged it)
	ourEnd   time.Time // the harness closed, reset or half-closed its side to mosquitto
	theirEnd time.Time // mosquitto closed its side (the relay read EOF or a reset from it)
}

// peers is the registry of the connections the harness dialled to
// mosquitto, by local address.
type peers struct {
	mu sync.Mutex
	m  map[string]*endpoint
}

// lookup: the tracker has reached "New connection from addr".
func (p *peers) lookup(addr string) (peerRole, string, *endpoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ep := p.m[addr]
	if ep == nil {
		return peerUnknown, "", nil
	}
	if ep.probe != nil {
		select {
		case <-ep.probe:
		default:
			close(ep.probe)
		}
	}
	if ep.role == peerClient {
		if ep.recorded {
			return peerSilent, "", ep
		}
		ep.logged = true
		return peerClient, ep.id, ep
	}
	return ep.role, "", ep
}

// gone: the tracker saw mosquitto close the connection from addr (or the
// process end), so the address may serve another connection.
func (p *peers) gone(addr string, ep *endpoint) {
	if ep == nil {
		return
	}
	p.mu.Lock()
	if p.m[addr] == ep {
		delete(p.m, addr)
	}
	p.mu.Unlock()
}

// logged tells whether the tracker has handled ep's "New connection" line.
func (p *peers) logged(ep *endpoint) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ep.logged
}

// ended notes that one side of ep's connection ended: ours (the harness
// closed, reset or half-closed it towards mosquitto) or theirs (mosquitto
// closed it). The first of each counts.
func (p *peers) ended(ep *endpoint, ours bool) {
	now := time.Now()
	p.mu.Lock()
	if ours && ep.ourEnd.IsZero() {
		ep.ourEnd = now
	}
	if !ours && ep.theirEnd.IsZero() {
		ep.theirEnd = now
	}
	p.mu.Unlock()
}

// reset forgets every address (the process they reached is gone).
func (p *peers) reset() {
	p.mu.Lock()
	p.m = nil
	p.mu.Unlock()
}

// closedWait bounds how long a close line of a connection without a
// CONNECT waits for its relay to see mosquitto close the socket (mosquitto
// logs the close just before it closes it).
const closedWait = 50 * time.Millisecond

// closed tells which of cands (the local addresses of waiting connections,
// oldest first) mosquitto has just closed, with native as the close line's
// reason ("" for the close after a refusing CONNACK): mosquitto names a
// connection that sent no CONNECT "<unknown>". A close that mosquitto
// logged because it read an EOF or a reset ("closed its connection",
// "Connection reset by peer", "Broken pipe") is of a connection whose
// harness side ended first, and the earliest such; any other (a protocol
// error, a keepalive, a refusal) is of one that mosquitto closed first: its
// relay sees that within microseconds of the line, and the earliest is
// taken. "" when none can be told within closedWait.
func (p *peers) closed(cands []string, native string) string {
	ours := CloseReason(native) == ReasonEOF
	deadline := time.Now().Add(closedWait)
	for {
		p.mu.Lock()
		best, bestAt, any, anyAt := "", time.Time{}, "", time.Time{}
		for _, a := range cands {
			ep := p.m[a]
			if ep == nil {
				continue
			}
			at := ep.ourEnd
			if at.IsZero() || !ep.theirEnd.IsZero() && ep.theirEnd.Before(at) {
				at = ep.theirEnd
			}
			if !at.IsZero() && (any == "" || at.Before(anyAt)) {
				any, anyAt = a, at
			}
			var mine time.Time
			switch {
			case ours:
				mine = ep.ourEnd
			case !ep.theirEnd.IsZero() && (ep.ourEnd.IsZero() || !ep.ourEnd.Before(ep.theirEnd)):
				mine = ep.theirEnd
			}
			if !mine.IsZero() && (best == "" || mine.Before(bestAt)) {
				best, bestAt = a, mine
			}
		}
		p.mu.Unlock()
		if best != "" {
			return best
		}
		if time.Now().After(deadline) {
			return any
		}
		time.Sleep(time.Millisecond)
	}
}

// dialHarness makes one of the harness's own connections.
func (p *peers) dialHarness(target string) (net.Conn, string, error) {
	ep := &endpoint{role: peerHarness}
	c, err := p.dial(target, ep)
	if err != nil {
		return nil, "", err
	}
	return c, ep.addr, nil
}

// dial connects to target (host:port) from a free local port of its host
// that no registered connection holds, registered as ep (ep.addr is set)
// before the dial.
func (p *peers) dial(target string, ep *endpoint) (*net.TCPConn, error) {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, fmt.Errorf("dial %s: not an IP address", target)
	}
	var last error
	for range 20 {
		port, err := freePort(host)
		if err != nil {
			return nil, err
		}
		addr := ip.String() + ":" + strconv.Itoa(port) // mosquitto's form: no brackets
		p.mu.Lock()
		if p.m[addr] != nil { // mosquitto may still write about the connection that had it
			p.mu.Unlock()
			last = fmt.Errorf("local port %d still registered", port)
			continue
		}
		if p.m == nil {
			p.m = map[string]*endpoint{}
		}
		ep.addr = addr
		p.m[addr] = ep
		p.mu.Unlock()
		nd := net.Dialer{Timeout: internalTimeout, LocalAddr: &net.TCPAddr{IP: ip, Port: port}}
		c, err := nd.Dial("tcp", target)
		if err == nil {
			return c.(*net.TCPConn), nil
		}
		p.gone(addr, ep)
		last = err
		if !errors.Is(err, syscall.EADDRINUSE) { // the port was taken meanwhile: another
			break
		}
	}
	return nil, last
}
