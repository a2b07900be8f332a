package selftest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/stdio"
	"github.com/faultline/faultline/harness/history"
)

// rec is one line the driver wrote, kept to name it in a problem.
type rec struct {
	n  int
	b  []byte
	at time.Time
}

// where names a line for a problem: `line 4 "{\"re\":9,…}"`.
func (r rec) where() string { return fmt.Sprintf("line %d %s", r.n, stdio.Quote(r.b)) }

type replyRec struct {
	rec
	r driver.Reply
}

type evRec struct {
	rec
	e      driver.Event
	client int // the event's client; -1 when it names none
}

// conv is the conversation with one driver process: it sends ops, and
// parses every line the driver writes by the host's own rules
// (stdio.ParseLine), keeping replies by id and events in order, and noting
// every problem with its line. Problems found while reading (a malformed
// line, a reply to an id never sent) are collected here and claimed by the
// step under way.
type conv struct {
	p       *proc
	timeout time.Duration
	log     *history.Log
	// byURL and sessionOf map a driver's server URLs and session names onto
	// the fake server's, as the runner does (history records names).
	byURL     map[string]string
	sessionOf func(server, claimed string) string

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every line and at the end
	hello    *driver.Hello
	helloErr string // the hello's problem, with its line
	helloRec rec
	ended    bool // stdout ended
	multi    bool

	sent     map[int64]driver.Op
	replies  map[int64]replyRec
	events   []evRec
	problems []string

	placed   map[int]bool            // clients this test placed (multi-session)
	urls     map[int][]string        // each client's connect servers
	topics   map[int]map[string]bool // each client's subscriptions
	requests map[int64]bool          // request op ids
	lenient  bool                    // an error event may name no client (answering a line that was not an op)
}

func newConv(p *proc, timeout time.Duration, log *history.Log) *conv {
	c := &conv{p: p, timeout: timeout, log: log, byURL: map[string]string{}, changed: make(chan struct{}),
		sent: map[int64]driver.Op{}, replies: map[int64]replyRec{}, placed: map[int]bool{},
		urls: map[int][]string{}, topics: map[int]map[string]bool{}, requests: map[int64]bool{}}
	go c.read()
	return c
}

// notify wakes every waiter; the caller holds mu.
func (c *conv) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *conv) read() {
	for l := range c.p.lines {
		c.mu.Lock()
		c.line(l)
		c.notify()
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.ended = true
	c.notify()
	c.mu.Unlock()
}

func (c *conv) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// line judges one line; the caller holds mu.
func (c *conv) line(l rawLine) {
	r := rec{n: l.n, b: l.b, at: l.at}
	if l.tooLong {
		c.problem("line %d is longer than %d bytes: a line is at most 1 MiB", l.n, stdio.MaxLine)
		if c.hello == nil && c.helloErr == "" {
			c.helloErr = fmt.Sprintf("line %d is longer than %d bytes", l.n, stdio.MaxLine)
		}
		return
	}
	wantHello := c.hello == nil && c.helloErr == ""
	pl, err := stdio.ParseLine(l.b, wantHello)
	switch {
	case err != nil && wantHello:
		c.helloErr = fmt.Sprintf("%s: %v; expected the hello first, written at once: {\"sdk\": …, \"version\": …, \"features\": […]}", r.where(), err)
		return
	case err != nil:
		c.problem("%s: %v", r.where(), err)
		return
	case pl.Hello != nil:
		c.hello, c.helloRec, c.multi = pl.Hello, r, pl.Hello.Sessions > 1
	case pl.Reply != nil:
		c.reply(r, *pl.Reply)
	case pl.Event != nil:
		c.event(r, *pl.Event, pl.Client)
	}
}

func (c *conv) reply(r rec, rep driver.Reply) {
	op, sent := c.sent[rep.Re]
	if !sent {
		c.problem("%s: a reply to id %d, which no op sent had; expected replies only to the ids sent (%s)", r.where(), rep.Re, c.idsText())
		return
	}
	if first, twice := c.replies[rep.Re]; twice {
		c.problem("%s: a second reply to op #%d %s (the first: line %d); expected one reply per op", r.where(), rep.Re, op.Op, first.n)
		return
	}
	c.replies[rep.Re] = replyRec{rec: r, r: rep}
	c.log.Record(history.Event{Source: history.SrcHarness, Kind: history.KindReply, Client: clientOf(op), Op: op.Op,
		OK: rep.OK, Reason: rep.Error, Attrs: map[string]string{"id": strconv.FormatInt(rep.Re, 10), "line": strconv.Itoa(r.n)}})
}

// idsText lists the ids sent, for a reply to another.
func (c *conv) idsText() string {
	ids := make([]int64, 0, len(c.sent))
	for id := range c.sent {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(ids) > 8 {
		return fmt.Sprintf("%d ops, ids %d … %d", len(ids), ids[0], ids[len(ids)-1])
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return "ids " + strings.Join(s, ", ")
}

func clientOf(op driver.Op) int {
	if op.Client != nil {
		return *op.Client
	}
	return 0
}

func (c *conv) event(r rec, e driver.Event, rawClient json.RawMessage) {
	cl := 0
	if c.multi {
		// The host's rule (stdio host.go): every event of a multi-session
		// driver names a client placed in its process.
		switch {
		case len(rawClient) == 0 || string(rawClient) == "null":
			if !(c.lenient && e.Type == driver.EvError) {
				c.problem("%s: an event without \"client\" from a multi-session driver (its hello declared sessions: %d); expected \"client\": the index of the op's client", r.where(), c.hello.Sessions)
				return
			}
			cl = -1
		default:
			if err := json.Unmarshal(rawClient, &cl); err != nil {
				c.problem("%s: \"client\": %s is not a client index; expected an integer, the op's client", r.where(), stdio.Quote(rawClient))
				return
			}
			if !c.placed[cl] {
				c.problem("%s: an event for client %d, which no op named; expected one of the clients ops were sent for (%s)", r.where(), cl, c.placedText())
				return
			}
		}
	}
	e.Client = nil
	c.shape(r, e, cl)
	c.events = append(c.events, evRec{rec: r, e: e, client: cl})
	if e.Type == driver.EvState {
		c.recordState(r, e, cl)
	}
}

func (c *conv) placedText() string {
	var ks []string
	for k := range c.placed {
		ks = append(ks, strconv.Itoa(k))
	}
	slices.Sort(ks)
	if len(ks) == 0 {
		return "none yet"
	}
	return "clients " + strings.Join(ks, ", ")
}

// shape holds an event to what the protocol says of its fields beyond what
// the host's parser checks: the URLs, topics and requests the ops gave.
func (c *conv) shape(r rec, e driver.Event, cl int) {
	switch e.Type {
	case driver.EvState:
		urls := c.urls[cl]
		switch {
		case e.Server == "":
			c.problem("%s: a state event without \"server\"; expected the URL of the server concerned (one of the connect's servers), which the harness maps to its server", r.where())
		case len(urls) > 0 && !slices.Contains(urls, e.Server):
			c.problem("%s: \"server\": %q is none of the connect's servers (%s); expected one of them exactly: the harness maps servers by their URL", r.where(), e.Server, strings.Join(urls, ", "))
		}
		if driver.IsClosed(e.To) && e.Reason == "" {
			c.problem("%s: a state event into %s without \"reason\"; expected a close reason (closed_by_client, connection_error, …)", r.where(), e.To)
		}
		if e.To == driver.ConnectedActive && e.Session == "" {
			c.problem("%s: CONNECTED_ACTIVE without \"session\"; expected the session's id, which the checks hold to the server's record of it", r.where())
		}
	case driver.EvMessage:
		if !c.topics[cl][e.Topic] {
			c.problem("%s: a message on topic %q, which the client did not subscribe to; expected messages of subscribed topics only", r.where(), e.Topic)
		}
		if e.Seq < 1 {
			c.problem("%s: a message without \"seq\" (or below 1); expected the server's number for it, 1, 2, … per topic", r.where())
		}
	case driver.EvRow, driver.EvDone:
		if !c.requests[e.Request] {
			c.problem("%s: a %s event for request %d, which no request op had as its id; expected \"request\": the id of the request op", r.where(), e.Type, e.Request)
		}
		if e.Type == driver.EvRow && e.N < 1 {
			c.problem("%s: a row event without \"n\" (or below 1); expected the row's number, from 1", r.where())
		}
	}
}

// recordState records a state event into the history as the runner does
// (server URL → name, the session by the kind's naming), with its line
// number for the lifecycle check's findings.
func (c *conv) recordState(r rec, e driver.Event, cl int) {
	ev := history.Event{Source: history.SrcClient, Client: max(cl, 0), Kind: history.KindState, From: e.From, To: e.To,
		Session: e.Session, Reason: e.Reason, Attrs: map[string]string{"line": strconv.Itoa(r.n)}}
	if e.Server != "" {
		ev.Server = c.byURL[e.Server]
		if ev.Server == "" {
			ev.Server = e.Server
		} else if c.sessionOf != nil && ev.Session != "" {
			ev.Session = c.sessionOf(ev.Server, ev.Session)
		}
	}
	c.log.Record(ev)
}

// takeProblems returns the problems found since the last call.
func (c *conv) takeProblems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.problems
	c.problems = nil
	return p
}

// wait blocks until cond (called with mu held) is true, stdout ends, or d
// passes; it reports whether cond held.
func (c *conv) wait(d time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok, ended, ch := cond(), c.ended, c.changed
		c.mu.Unlock()
		if ok {
			return true
		}
		if ended {
			return false
		}
		select {
		case <-ch:
		case <-deadline.C:
			c.mu.Lock()
			ok = cond()
			c.mu.Unlock()
			return ok
		}
	}
}

// mark is the number of events so far: waits for events after it.
func (c *conv) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

// eventsSince returns the events from index i on.
func (c *conv) eventsSince(i int) []evRec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events[min(i, len(c.events)):])
}

// waitEvent waits up to d for an event after index from that match is true
// of, and returns it.
func (c *conv) waitEvent(from int, d time.Duration, match func(evRec) bool) (evRec, bool) {
	var got evRec
	ok := c.wait(d, func() bool {
		for _, e := range c.events[min(from, len(c.events)):] {
			if match(e) {
				got = e
				return true
			}
		}
		return false
	})
	return got, ok
}

// send writes op (its id set by the caller) and notes what it asks, so that
// replies and events can be held to it.
func (c *conv) send(op driver.Op) error {
	b, err := json.Marshal(op)
	if err != nil {
		return err
	}
	cl := clientOf(op)
	c.mu.Lock()
	c.sent[op.ID] = op
	if op.Client != nil {
		c.placed[cl] = true
	}
	switch op.Op {
	case driver.OpConnect:
		c.urls[cl] = append(c.urls[cl], op.Servers...)
	case driver.OpSubscribe:
		if c.topics[cl] == nil {
			c.topics[cl] = map[string]bool{}
		}
		c.topics[cl][op.Topic] = true
	case driver.OpRequest:
		c.requests[op.ID] = true
	}
	c.mu.Unlock()
	c.log.Record(history.Event{Source: history.SrcHarness, Kind: history.KindOp, Client: cl, Op: op.Op, Topic: op.Topic,
		Attrs: map[string]string{"id": strconv.FormatInt(op.ID, 10)}})
	return c.p.send(b, c.timeout)
}

// awaitReply waits up to d for the reply to op id.
func (c *conv) awaitReply(id int64, d time.Duration) (replyRec, bool) {
	var got replyRec
	ok := c.wait(d, func() bool {
		r, ok := c.replies[id]
		got = r
		return ok
	})
	return got, ok
}

// setLenient lets error events name no client (while a line that was not
// an op is answered: no client can be named for it).
func (c *conv) setLenient(on bool) {
	c.mu.Lock()
	c.lenient = on
	c.mu.Unlock()
}
