package real

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/faultline/faultline/harness/history"
)

// incarnation is the nats-server a Server runs (in this process) and what
// its hooks told; the hooks' receiver. Its cids are the nats-server's;
// connection ids are the Server's.
type incarnation struct {
	s  *Server
	ns *server.Server
	id string // server_id

	lameDuck atomic.Bool // LameDuck was asked: "Server Shutdown" means lame_duck
	killing  atomic.Bool // Close: "Server Shutdown" means killed
	bg       sync.WaitGroup

	mu       sync.Mutex
	conns    map[uint64]*conn // open client connections by cid
	pubCids  map[uint64]bool  // the publisher's
	seq      map[string]int64
	fatalMsg string
}

// pubDials knows the publisher's connections by their local address: the
// server may create its client before the dial returns, so the address is
// all its hooks can go by.
type pubDials struct {
	mu      sync.Mutex
	addrs   map[string]bool
	dialing chan struct{} // closed when the publisher's dial in progress ends
}

type conn struct {
	id      string // "<name>#<n>"
	session string // "<server_id>/<cid>" once the handshake was seen
}

func newIncarnation(s *Server) *incarnation {
	return &incarnation{s: s, conns: map[uint64]*conn{}, pubCids: map[uint64]bool{}, seq: map[string]int64{}}
}

// shutdown kills the nats-server: every close that follows says killed,
// unless lame duck mode closed the connection first.
func (inc *incarnation) shutdown() {
	inc.killing.Store(true)
	inc.ns.Shutdown()
	inc.ns.WaitForShutdown()
	inc.bg.Wait()
}

func (inc *incarnation) fatal() string {
	inc.mu.Lock()
	defer inc.mu.Unlock()
	return inc.fatalMsg
}

func (inc *incarnation) isPublisherCid(cid uint64) bool {
	inc.mu.Lock()
	defer inc.mu.Unlock()
	return inc.pubCids[cid]
}

// begin marks a publisher dial in progress: until end, a new client's
// creation waits to learn whether it is the publisher's.
func (d *pubDials) begin() {
	d.mu.Lock()
	d.dialing = make(chan struct{})
	d.mu.Unlock()
}

// end ends the dial in progress, from local ("" when it failed).
func (d *pubDials) end(local string) {
	d.mu.Lock()
	if local != "" {
		if d.addrs == nil {
			d.addrs = map[string]bool{}
		}
		d.addrs[local] = true
	}
	if d.dialing != nil {
		close(d.dialing)
		d.dialing = nil
	}
	d.mu.Unlock()
}

// is says whether the connection from addr is the publisher's, waiting
// (bounded) for a publisher dial in progress to say where it came from: the
// server may create its client before the dial returns.
func (d *pubDials) is(addr string) bool {
	d.mu.Lock()
	ch := d.dialing
	d.mu.Unlock()
	if ch != nil {
		t := time.NewTimer(readyTimeout)
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.addrs[addr]
}

// known says whether addr is the publisher's, without waiting.
func (d *pubDials) known(addr string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.addrs[addr]
}

// forget drops a closed publisher connection's address: the port may serve
// a client next.
func (d *pubDials) forget(addr string) {
	d.mu.Lock()
	delete(d.addrs, addr)
	d.mu.Unlock()
}

func (inc *incarnation) setPubCid(cid uint64) {
	inc.mu.Lock()
	inc.pubCids[cid] = true
	inc.mu.Unlock()
}

func (inc *incarnation) record(e history.Event) {
	e.Source = history.SrcServer
	e.Server = inc.s.name
	inc.s.rec.Record(e)
}

// created: the server made its client for a new TCP connection.
func (inc *incarnation) created(addr string, cid uint64) {
	if inc.s.dials.is(addr) {
		inc.setPubCid(cid)
		return
	}
	c := &conn{id: fmt.Sprintf("%s#%d", inc.s.name, inc.s.conns.Add(1))}
	inc.mu.Lock()
	inc.conns[cid] = c
	inc.mu.Unlock()
	inc.record(history.Event{Kind: history.KindAccept, Conn: c.id,
		Attrs: map[string]string{"remote": addr, "client_id": strconv.FormatUint(cid, 10)}})
}

// closed: the server closed its client for reason (a ClosedState's text).
func (inc *incarnation) closed(addr string, cid uint64, reason string) {
	pub := inc.s.dials.known(addr)
	if pub {
		inc.s.dials.forget(addr)
	}
	inc.mu.Lock()
	c := inc.conns[cid]
	delete(inc.conns, cid)
	if pub || inc.pubCids[cid] {
		delete(inc.pubCids, cid)
		c = nil
	}
	inc.mu.Unlock()
	if c == nil {
		return
	}
	inc.record(history.Event{Kind: history.KindConnClose, Conn: c.id, Session: c.session,
		Reason: CloseReason(reason, inc.lameDuck.Load() && !inc.killing.Load()),
		Attrs:  map[string]string{"native": reason}})
}

// connected: CONNECT arrived and is being authorised (always admitted).
func (inc *incarnation) connected(ca server.ClientAuthentication) {
	if ca.Kind() != server.CLIENT {
		return
	}
	o := ca.GetOpts()
	cid := ca.GetID()
	addr := ""
	if ra := ca.RemoteAddress(); ra != nil {
		addr = ra.String()
	}
	pub := inc.s.dials.known(addr)
	inc.mu.Lock()
	if pub || o != nil && o.Name == PublisherName || inc.pubCids[cid] {
		inc.pubCids[cid] = true
		inc.mu.Unlock()
		return
	}
	c := inc.conns[cid]
	if c == nil { // its creation line was not seen: give it an id all the same
		c = &conn{id: fmt.Sprintf("%s#%d", inc.s.name, inc.s.conns.Add(1))}
		inc.conns[cid] = c
	}
	first := c.session == ""
	if first {
		c.session = inc.id + "/" + strconv.FormatUint(cid, 10)
	}
	inc.mu.Unlock()
	var name string
	attrs := map[string]string{}
	if o != nil {
		name = o.Name
		attrs = map[string]string{
			"name":          o.Name,
			"verbose":       strconv.FormatBool(o.Verbose),
			"pedantic":      strconv.FormatBool(o.Pedantic),
			"echo":          strconv.FormatBool(o.Echo),
			"headers":       strconv.FormatBool(o.Headers),
			"lang":          o.Lang,
			"version":       o.Version,
			"protocol":      strconv.Itoa(o.Protocol),
			"no_responders": strconv.FormatBool(o.NoResponders),
		}
	}
	inc.record(history.Event{Kind: KindConnect, Conn: c.id, Attrs: attrs})
	if first {
		inc.record(history.Event{Kind: history.KindHandshake, Conn: c.id, OK: true, Session: c.session,
			Attrs: map[string]string{"name": name}})
	}
}

// CloseReason maps a nats-server ClosedState text to the pack's conn.close
// reason. lameDuck says the server was in lame duck mode (and not killed).
func CloseReason(native string, lameDuck bool) string {
	switch native {
	case server.ClientClosed.String(), server.ReadError.String():
		return "eof"
	case server.StaleConnection.String():
		return "stale"
	case server.ServerShutdown.String():
		if lameDuck {
			return "lame_duck"
		}
		return "killed"
	case server.Kicked.String():
		return "server_close"
	}
	return "error:" + native
}

// auth admits every CONNECT and records it.
type auth struct{ inc *incarnation }

func (a auth) Check(c server.ClientAuthentication) bool {
	a.inc.connected(c)
	return true
}

// logger turns nats-server's client debug lines into evidence and drops the
// rest (it must never exit the process, as the default logger's Fatalf does).
type logger struct{ inc *incarnation }

// parseClientLine reads nats-server's client debug lines:
//
//	"<addr> - cid:<n> - Client connection created"
//	"<addr> - cid:<n> - \"<version>:<lang>:<name>\" - Client connection closed: <reason>"
//
// (the quoted part appears once CONNECT was processed; the name is the
// client's own, so the line is cut from both ends, never by pattern inside).
func parseClientLine(msg string) (addr string, cid uint64, created bool, reason string, ok bool) {
	addr, rest, ok := strings.Cut(msg, " - cid:")
	if !ok || addr == "" || strings.ContainsAny(addr, " ") {
		return "", 0, false, "", false
	}
	num, rest, ok := strings.Cut(rest, " - ")
	if !ok {
		return "", 0, false, "", false
	}
	cid, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return "", 0, false, "", false
	}
	const createdSuffix, closedMark = "Client connection created", "Client connection closed: "
	if rest == createdSuffix || strings.HasSuffix(rest, " - "+createdSuffix) {
		return addr, cid, true, "", true
	}
	if strings.HasPrefix(rest, closedMark) {
		return addr, cid, false, rest[len(closedMark):], true
	}
	if i := strings.LastIndex(rest, " - "+closedMark); i >= 0 {
		return addr, cid, false, rest[i+len(" - "+closedMark):], true
	}
	return "", 0, false, "", false
}

func (l logger) Debugf(format string, v ...any) {
	if !strings.Contains(format, "connection created") && !strings.Contains(format, "connection closed") {
		return
	}
	addr, cid, created, reason, ok := parseClientLine(fmt.Sprintf(format, v...))
	switch {
	case !ok:
	case created:
		l.inc.created(addr, cid)
	default:
		l.inc.closed(addr, cid, reason)
	}
}

func (l logger) Fatalf(format string, v ...any) {
	l.inc.mu.Lock()
	if l.inc.fatalMsg == "" {
		l.inc.fatalMsg = fmt.Sprintf(format, v...)
	}
	l.inc.mu.Unlock()
}

func (logger) Noticef(string, ...any) {}
func (logger) Warnf(string, ...any)   {}
func (logger) Errorf(string, ...any)  {}
func (logger) Tracef(string, ...any)  {}
