// Package history is faultline's single record of a scenario run: one ordered
// list of events from the driver (client-reported), the fake servers and the
// links, each stamped with one monotonic clock as it is recorded. Checkers read
// it; nothing in it is ever rewritten.
package history

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Source says who observed an event. Checkers weigh evidence by it: server and
// link events are ground truth, client events are the engine's own word.
type Source string

const (
	SrcClient  Source = "client"  // reported by the driver (the engine under test)
	SrcServer  Source = "server"  // seen by a fake server
	SrcLink    Source = "link"    // applied to / seen by a link (Toxiproxy)
	SrcHarness Source = "harness" // the runner itself (ops sent, steps fired)
)

// Event kinds. Servers and links record the server-side kinds; the driver's
// events keep the driver protocol's names (state, message, error, reply).
const (
	// link (fault injection)
	KindFaultOn  = "fault.on"  // Verb, Link, Attrs["direction"], Attrs[...]
	KindFaultOff = "fault.off" // Verb, Link

	// link (what it saw: embedded links, and links hosted by `faultline serve --links`)
	KindLinkAccept   = "link.accept"    // Link, Conn (the client's address): a client's connection, taken before the server is dialled
	KindLinkDialFail = "link.dial_fail" // Link, Conn, Reason: the link could not reach its server; it closed the client's connection
	KindLinkDead     = "link.dead"      // Link, Reason (the accept error): the link stopped taking connections until a fault restarts it

	// server side
	KindAccept         = "accept"             // a TCP connection reached the server (Server, Conn)
	KindHandshake      = "handshake"          // Server, Conn, OK, Reason (when refused), Attrs["principal"]
	KindSessionCreate  = "session.create"     // Server, Session, Conn, Attrs["retention_ms"] (granted), Attrs["ping_ms"]
	KindSessionResume  = "session.resume"     // Server, Session, Conn
	KindSessionUnknown = "session.unknown"    // Server, Session (resume of an unknown/expired session refused)
	KindSessionLost    = "session.lost"       // Server, Session (recovery buffer could not cover the gap)
	KindSessionDisconn = "session.disconnect" // Server, Session, Reason (transport lost; retention starts)
	KindSessionExpire  = "session.expire"     // Server, Session (retention ran out)
	KindSessionClose   = "session.close"      // Server, Session, Reason (closed_by_client | closed_by_server | no_reconnect | lost_messages)
	KindSubscribe      = "subscribe"          // Server, Session, Topic
	KindPublish        = "publish"            // Server, Topic, Seq: a message entered the topic
	KindDeliver        = "deliver"            // Server, Session, Topic, Seq, Attrs["replay"]="true" when resent on recovery
	KindReceive        = "receive"            // Server, Session, Seq (client->server message n), Attrs["dup"]="true" if seen before
	KindConnClose      = "conn.close"         // Server, Conn, Reason

	// harness / driver protocol
	KindOp      = "op"      // harness sent an op: Op, Client, Attrs["id"]
	KindReply   = "reply"   // driver replied: Op, Client, OK, Reason (error)
	KindState   = "state"   // client: From, To, Server, Session, Reason
	KindMessage = "message" // client: Topic, Seq
	KindError   = "error"   // client: Reason
	KindStep    = "step"    // harness fired a timeline step: Attrs["step"]
	KindProbe   = "probe"   // harness's driver lag probe answered: Attrs["rtt_ms", "driver", "clients"] (never an op of a client)
)

// Event is one observation. Fields not relevant to a kind stay zero.
type Event struct {
	T       time.Duration     `json:"t"` // offset from scenario start (one clock)
	Source  Source            `json:"source"`
	Kind    string            `json:"kind"`
	Client  int               `json:"client"`            // client index (0-based) for client/op/reply events
	Server  string            `json:"server,omitempty"`  // fake server name
	Link    string            `json:"link,omitempty"`    // link name
	Conn    string            `json:"conn,omitempty"`    // server-side connection id
	Session string            `json:"session,omitempty"` // session id
	Topic   string            `json:"topic,omitempty"`
	Seq     int64             `json:"seq,omitempty"`
	From    string            `json:"from,omitempty"` // state events
	To      string            `json:"to,omitempty"`
	Op      string            `json:"op,omitempty"`
	Verb    string            `json:"verb,omitempty"` // fault verb
	OK      bool              `json:"ok,omitempty"`
	Reason  string            `json:"reason,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// Attr returns an attribute or "".
func (e Event) Attr(k string) string {
	if e.Attrs == nil {
		return ""
	}
	return e.Attrs[k]
}

func (e Event) String() string {
	s := fmt.Sprintf("%9.3fms %-7s %-18s", float64(e.T)/float64(time.Millisecond), e.Source, e.Kind)
	add := func(k, v string) {
		if v != "" {
			s += " " + k + "=" + v
		}
	}
	if e.Source == SrcClient || e.Kind == KindOp || e.Kind == KindReply {
		s += fmt.Sprintf(" client=%d", e.Client)
	}
	add("server", e.Server)
	add("link", e.Link)
	add("conn", e.Conn)
	add("session", e.Session)
	add("op", e.Op)
	add("verb", e.Verb)
	if e.From != "" || e.To != "" {
		s += " " + e.From + "->" + e.To
	}
	add("topic", e.Topic)
	if e.Seq != 0 {
		s += fmt.Sprintf(" seq=%d", e.Seq)
	}
	if e.Kind == KindHandshake || e.Kind == KindReply {
		s += fmt.Sprintf(" ok=%v", e.OK)
	}
	add("reason", e.Reason)
	keys := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s += " " + k + "=" + e.Attrs[k]
	}
	return s
}

// Clock is the one monotonic clock of a run. Offsets are from Start.
// StartTimeline may move its start while observers stamp: hence atomic.
type Clock struct{ start atomic.Pointer[time.Time] }

// NewClock starts a clock now.
func NewClock() *Clock {
	c := &Clock{}
	now := time.Now()
	c.start.Store(&now)
	return c
}

// Now is the offset since the clock started (monotonic).
func (c *Clock) Now() time.Duration { return time.Since(*c.start.Load()) }

// Start is the wall-clock instant the clock started (monotonic reading kept).
func (c *Clock) Start() time.Time { return *c.start.Load() }

// At converts an offset to an absolute time (for deadlines and timers).
func (c *Clock) At(d time.Duration) time.Time { return c.start.Load().Add(d) }

// Recorder is the sink that every observer writes to. It is safe for
// concurrent use. Record stamps the event with the clock, so the order of the
// history is the order in which the harness learned of things.
type Recorder interface {
	Record(e Event)
}

// Log is the in-memory Recorder of a run.
type Log struct {
	clock *Clock
	mu    sync.Mutex
	evs   []Event
}

// NewLog returns an empty log stamping with clock.
func NewLog(clock *Clock) *Log { return &Log{clock: clock} }

// Clock returns the log's clock.
func (l *Log) Clock() *Clock { return l.clock }

// Record stamps e with the clock and puts it in time order. The stamp is
// taken before the lock: with a thousand observers recording at once the
// lock's queue (a convoy on two busy cores) held events up to 150ms, and
// stamping on entry made the history say they happened that much later.
// An event that lost the race for the lock goes in before later stamps.
func (l *Log) Record(e Event) {
	start := l.clock.start.Load()
	e.T = time.Since(*start)
	l.mu.Lock()
	if now := l.clock.start.Load(); now != start { // StartTimeline moved the origin meanwhile
		e.T -= now.Sub(*start)
	}
	i := len(l.evs)
	for i > 0 && l.evs[i-1].T > e.T {
		i--
	}
	l.evs = append(l.evs, Event{})
	copy(l.evs[i+1:], l.evs[i:])
	l.evs[i] = e
	l.mu.Unlock()
}

// Events returns a copy of what was recorded so far.
func (l *Log) Events() History {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append(History(nil), l.evs...)
}

// Nop is a Recorder that drops everything (for components used outside a run).
type Nop struct{}

// Record drops e.
func (Nop) Record(Event) {}

// History is an ordered, immutable-by-convention list of events.
type History []Event

// Filter returns the events for which keep is true, in order.
func (h History) Filter(keep func(Event) bool) History {
	var out History
	for _, e := range h {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// Kind returns the events of one kind.
func (h History) Kind(kind string) History {
	return h.Filter(func(e Event) bool { return e.Kind == kind })
}

// Around returns the events within d of t: the slice of the timeline that a
// failure message shows.
func (h History) Around(t, d time.Duration) History {
	return h.Filter(func(e Event) bool { return e.T >= t-d && e.T <= t+d })
}

// String renders the history one event a line.
func (h History) String() string {
	var b strings.Builder // += was quadratic: 40s for the 40,000 events of 1,000 clients
	for _, e := range h {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}
