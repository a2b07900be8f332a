package check

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// stampSlack is how far apart two observers' records of one instant may be
// stamped. A link records fault.on only once the fault is in force and
// fault.off once it is gone, so a client or server reacting at once can be
// stamped a little before the link's own record.
const stampSlack = 10 * time.Millisecond

// lagOf is how late the history's server evidence may be stamped: the
// largest delay of events streamed from servers in other processes
// (containers, external mode), which the runner records as a harness lag
// event; 0 when the servers ran in the harness's own process.
func lagOf(h history.History) time.Duration {
	var lag time.Duration
	for _, e := range h {
		if e.Source == history.SrcHarness && e.Kind == history.KindLag {
			if d, err := time.ParseDuration(e.Attr("max")); err == nil && d > lag {
				lag = d
			}
		}
	}
	return lag
}

// Fault verbs that take a connection away (the others only degrade it).
const (
	VerbCut       = "cut"
	VerbReset     = "reset"
	VerbBlackhole = "blackhole"
	VerbDown      = "down"
)

func isLossVerb(v string) bool {
	return v == VerbCut || v == VerbReset || v == VerbBlackhole || v == VerbDown
}

// dur renders a duration as milliseconds with one decimal, as details do.
func dur(d time.Duration) string { return fmt.Sprintf("%.1fms", Ms(d)) }

// validator is what a checker's configuration implements when its params can
// be wrong (the scenario loader calls it too).
type validator interface{ Validate() error }

func nonNegative(name string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%s must not be negative (got %s)", name, d)
	}
	return nil
}

// view is a history indexed for the checkers: per-client states, per-session
// server events, connection outcomes and the links' fault spans. It is built
// once per Check and never changes.
type view struct {
	h        history.History
	sc       *scenario.Scenario
	end      time.Duration
	nClients int
	clients  []int
	states   map[int][]history.Event
	bySess   map[string][]history.Event // server events per session, in order
	closes   map[string]history.Event   // first conn.close per server|conn
	served   map[string]history.Event   // session.resume / session.create per server|conn
	accepts  []history.Event            // server accepts on the client's servers
	linkOf   []*history.Event           // per accept, its link's accept (link_accepts.go), or nil
	faults   []faultSpan
	cServers map[string]bool

	walkCache []srvWalk // walks(), computed once

	// lag is the run's evidence lag (lagOf), and slack stampSlack widened
	// by it: how far apart two observers' records of one instant may be in
	// this history. With in-process servers lag is 0 and slack stampSlack.
	lag, slack time.Duration

	// stalls are the spans the machine stood still (stall.go).
	stalls []stallSpan
}

// stalled is the stall time overlapping [from, to].
func (v *view) stalled(from, to time.Duration) time.Duration { return stalledIn(v.stalls, from, to) }

func connKey(server, conn string) string { return server + "|" + conn }

// prepare validates the checker's configuration and the input, and indexes
// the history. On a problem it returns the FAILED result to give.
func prepare(in Input, cfg any) (*view, Result, bool) {
	if val, ok := cfg.(validator); ok {
		if err := val.Validate(); err != nil {
			return nil, Fail(0, nil, "bad parameters: %v", err), false
		}
	}
	if in.Scenario == nil {
		return nil, Inconclusive(0, nil, "no scenario to judge the history against"), false
	}
	return newView(in.History, in.Scenario), Result{}, true
}

func newView(h history.History, sc *scenario.Scenario) *view {
	v := &view{
		h: h, sc: sc, lag: lagOf(h),
		states:   map[int][]history.Event{},
		bySess:   map[string][]history.Event{},
		closes:   map[string]history.Event{},
		served:   map[string]history.Event{},
		cServers: map[string]bool{},
	}
	v.slack = stampSlack + v.lag
	v.stalls = stallsOf(h)
	v.nClients = sc.Clients
	if v.nClients <= 0 {
		v.nClients = 1
	}
	for _, s := range sc.Client.Servers {
		v.cServers[s] = true
	}
	if len(v.cServers) == 0 {
		for _, s := range sc.Servers {
			v.cServers[s.Name] = true
		}
	}
	seen := map[int]bool{}
	for i := 0; i < v.nClients; i++ {
		seen[i] = true
	}
	open := map[string][]int{} // link|id-or-verb -> indexes of open spans
	for _, e := range h {
		if e.T > v.end {
			v.end = e.T
		}
		switch e.Kind {
		case history.KindState:
			v.states[e.Client] = append(v.states[e.Client], e)
			seen[e.Client] = true
		case history.KindAccept:
			if v.cServers[e.Server] {
				v.accepts = append(v.accepts, e)
			}
		case history.KindConnClose:
			k := connKey(e.Server, e.Conn)
			if _, ok := v.closes[k]; !ok {
				v.closes[k] = e
			}
		case history.KindSessionResume, history.KindSessionCreate:
			k := connKey(e.Server, e.Conn)
			if _, ok := v.served[k]; !ok && e.Conn != "" {
				v.served[k] = e
			}
		case history.KindFaultOn:
			v.faults = append(v.faults, faultSpan{Link: e.Link, Verb: e.Verb, On: e})
			k := faultKey(e)
			open[k] = append(open[k], len(v.faults)-1)
		case history.KindFaultOff:
			k := faultKey(e)
			if idx := open[k]; len(idx) > 0 {
				off := e
				v.faults[idx[0]].Off = &off
				open[k] = idx[1:]
			}
		}
		if e.Source == history.SrcServer && e.Session != "" {
			v.bySess[e.Session] = append(v.bySess[e.Session], e)
		}
	}
	for c := range seen {
		v.clients = append(v.clients, c)
	}
	sort.Ints(v.clients)
	v.linkOf = linkOfAccepts(h, v.accepts)
	return v
}

func faultKey(e history.Event) string {
	if id := e.Attr("id"); id != "" {
		return e.Link + "|id:" + id
	}
	return e.Link + "|verb:" + e.Verb
}

// oneClientWhy is why a checker that attributes server-side accepts needs
// one client (the loader says it; needOneClient backs it up at run time).
const oneClientWhy = "server-side accepts cannot be attributed to one client"

// needOneClient is the FAILED result for checkers that attribute server-side
// accepts to a client, which only works with one client.
func (v *view) needOneClient() (Result, bool) {
	if v.nClients > 1 {
		return Fail(0, nil, "needs clients: 1 (the scenario has %d): server-side accepts cannot be attributed to one client", v.nClients), false
	}
	return Result{}, true
}

// server returns a scenario server by name, with defaults when it is unknown.
func (v *view) server(name string) scenario.Server {
	if s, ok := v.sc.Server(name); ok {
		return s
	}
	return scenario.Server{Name: name}
}

func (v *view) connectTimeout() time.Duration {
	if v.sc.Client.ConnectTimeout > 0 {
		return v.sc.Client.ConnectTimeout
	}
	return scenario.DefaultConnectTimeout
}

// firstServer is the server a client connects to first.
func (v *view) firstServer() string {
	if len(v.sc.Client.Servers) > 0 {
		return v.sc.Client.Servers[0]
	}
	return ""
}

// ---- links -------------------------------------------------------------

// faultSpan is one fault on a link, from its fault.on to its fault.off (nil:
// still in force at the end).
type faultSpan struct {
	Link, Verb string
	On         history.Event
	Off        *history.Event
}

// began is when the link began applying the fault: fault.on is recorded
// once it is in force, and a fault acts while it is applied (a cut of 1,000
// connections drops them over tens of ms before its fault.on).
func (f faultSpan) began() time.Duration {
	d, _ := attrMs(f.On, "apply_ms")
	return f.On.T - d
}

func (f faultSpan) inForce(t time.Duration) bool {
	return f.On.T <= t && (f.Off == nil || f.Off.T > t)
}

func (f faultSpan) String() string {
	return fmt.Sprintf("%s on %s at %s", f.Verb, f.Link, dur(f.On.T))
}

// faultInForce reports whether a fault with verb was in force on link at t.
func (v *view) faultInForce(link, verb string, t time.Duration) bool {
	for _, f := range v.faults {
		if f.Link == link && f.Verb == verb && f.inForce(t) {
			return true
		}
	}
	return false
}

// lossFaultBefore is the last loss fault switched on on link at or before t.
func (v *view) lossFaultBefore(link string, t time.Duration) (faultSpan, bool) {
	var out faultSpan
	found := false
	for _, f := range v.faults {
		if f.Link == link && isLossVerb(f.Verb) && f.On.T <= t {
			out, found = f, true
		}
	}
	return out, found
}

// ---- clients -----------------------------------------------------------

// stateAt is the index of the client's last state event at or before t (-1: none).
func (v *view) stateAt(c int, t time.Duration) int {
	st := v.states[c]
	i := sort.Search(len(st), func(i int) bool { return st[i].T > t })
	return i - 1
}

// lastState is the client's last state event.
func (v *view) lastState(c int) (history.Event, bool) {
	st := v.states[c]
	if len(st) == 0 {
		return history.Event{}, false
	}
	return st[len(st)-1], true
}

// firstStateAfter is the client's first state event with T >= t into one of
// the given states (any state when none is given).
func (v *view) firstStateAfter(c int, t time.Duration, to ...string) (history.Event, bool) {
	for _, e := range v.states[c] {
		if e.T < t {
			continue
		}
		if len(to) == 0 {
			return e, true
		}
		for _, s := range to {
			if e.To == s {
				return e, true
			}
		}
	}
	return history.Event{}, false
}

// sessions lists the session ids a client reported, in order of appearance.
func (v *view) sessions(c int) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range v.states[c] {
		if e.Session != "" && !seen[e.Session] {
			seen[e.Session] = true
			out = append(out, e.Session)
		}
	}
	return out
}

// sessionSpan is when a client held a session: from its first state event
// naming it to the first state event naming another (or the end).
func (v *view) sessionSpan(c int, session string) (from, to time.Duration) {
	from, to = -1, v.end
	for _, e := range v.states[c] {
		if e.Session == session && from < 0 {
			from = e.T
		}
		if from >= 0 && e.Session != "" && e.Session != session {
			return from, e.T
		}
	}
	if from < 0 {
		from = 0
	}
	return from, to
}

// owner is the client whose state events name the session (-1: none).
func (v *view) owner(session string) int {
	for _, c := range v.clients {
		for _, e := range v.states[c] {
			if e.Session == session {
				return c
			}
		}
	}
	return -1
}

// closedLostMessages is the client's close with reason lost_messages, if any.
func (v *view) closedLostMessages(c int) (history.Event, bool) {
	for _, e := range v.states[c] {
		if e.To == driver.ClosedFailed && e.Reason == driver.ReasonLostMessages {
			return e, true
		}
	}
	return history.Event{}, false
}

// ---- server ------------------------------------------------------------

// sessEvents are the server events of one kind for a session with T in
// [from, to], in order.
func (v *view) sessEvents(session, kind string, from, to time.Duration) []history.Event {
	var out []history.Event
	for _, e := range v.bySess[session] {
		if e.Kind == kind && e.T >= from && e.T <= to {
			out = append(out, e)
		}
	}
	return out
}

func (v *view) firstSessEvent(session string, from time.Duration, kinds ...string) (history.Event, bool) {
	for _, e := range v.bySess[session] {
		if e.T < from {
			continue
		}
		for _, k := range kinds {
			if e.Kind == k {
				return e, true
			}
		}
	}
	return history.Event{}, false
}

// ---- attempts ----------------------------------------------------------

// attempt is one connection attempt as the servers saw it: its accept, the
// server's close of that connection (if recorded) and the session served on
// it (resume or create, if it succeeded); and the link's accept of it, when
// the link recorded one (it orders attempts: link_accepts.go).
type attempt struct {
	Accept history.Event
	Close  *history.Event
	Served *history.Event
	Link   *history.Event
}

func (a attempt) conn() string { return a.Accept.Conn }

// attempts are the server accepts on the client's servers with T in [from, to].
func (v *view) attempts(from, to time.Duration) []attempt {
	var out []attempt
	// accepts are in time order: start at the first one not before from.
	first := sort.Search(len(v.accepts), func(i int) bool { return v.accepts[i].T >= from })
	for i, e := range v.accepts[first:] {
		if e.T > to {
			break
		}
		a := attempt{Accept: e, Link: v.linkOf[first+i]}
		k := connKey(e.Server, e.Conn)
		if c, ok := v.closes[k]; ok && c.T >= e.T {
			c := c
			a.Close = &c
		}
		if s, ok := v.served[k]; ok {
			s := s
			a.Served = &s
		}
		out = append(out, a)
	}
	return out
}

// acceptsAfter are the server accepts on the client's servers with T > t
// (+ the run's evidence lag: a streamed accept is stamped late).
func (v *view) acceptsAfter(t time.Duration) []history.Event {
	var out []history.Event
	for _, e := range v.accepts {
		if e.T > t+v.lag {
			out = append(out, e)
		}
	}
	return out
}

// describeAccepts names up to three accepts, for details.
func describeAccepts(es []history.Event) string {
	var parts []string
	for i, e := range es {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("… %d more", len(es)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%s at %s", e.Conn, dur(e.T)))
	}
	return strings.Join(parts, ", ")
}

// attemptEnd is when an attempt had failed, as the servers saw it, judged
// from the next attempt's accept at next: the server's conn.close when it was
// recorded before next, else its accept. While a blackhole held the attempt
// the client gave up after its connect timeout, but the held connection's
// close may only be recorded at the heal: the end is then the earlier of the
// close and accept + connect_timeout.
func (v *view) attemptEnd(a attempt, next time.Duration) (time.Duration, string) {
	closed := a.Close != nil && a.Close.T <= next
	if v.faultInForce(a.Accept.Server, VerbBlackhole, a.Accept.T) {
		ct := v.connectTimeout()
		if e := a.Accept.T + ct; e <= next && (!closed || e < a.Close.T) {
			return e, fmt.Sprintf("server accept %s + connect_timeout %s (held by a blackhole)", a.conn(), dur(ct))
		}
	}
	if closed {
		return a.Close.T, "server conn.close " + a.conn()
	}
	return a.Accept.T, "server accept " + a.conn() + " (its close was not recorded before the next attempt)"
}

// ---- outages -----------------------------------------------------------

// outage is a client's stay in RECOVERING_RECONNECT: from the state event
// into it to the next state event (End nil: still recovering at the end).
type outage struct {
	Client int
	N      int // 0-based among the client's outages
	Start  history.Event
	Prev   *history.Event // the state event before Start (normally CONNECTED_ACTIVE)
	End    *history.Event
}

func (v *view) outages(c int) []outage {
	var out []outage
	st := v.states[c]
	for i, e := range st {
		if e.To != driver.RecoveringReconnect {
			continue
		}
		o := outage{Client: c, N: len(out), Start: e}
		if i > 0 {
			p := st[i-1]
			o.Prev = &p
		}
		if i+1 < len(st) {
			n := st[i+1]
			o.End = &n
		}
		out = append(out, o)
	}
	return out
}

// Session is the session being recovered.
func (o outage) Session() string {
	if o.Start.Session != "" {
		return o.Start.Session
	}
	if o.Prev != nil {
		return o.Prev.Session
	}
	return ""
}

// Server is the server the client was on when it lost the connection.
func (o outage) Server(v *view) string {
	if o.Prev != nil && o.Prev.Server != "" {
		return o.Prev.Server
	}
	if o.Start.Server != "" {
		return o.Start.Server
	}
	return v.firstServer()
}

// Until is when the outage ended (the end of the history if it did not).
func (o outage) Until(v *view) time.Duration {
	if o.End != nil {
		return o.End.T
	}
	return v.end
}

// Recovered reports whether the outage ended back in CONNECTED_ACTIVE.
func (o outage) Recovered() bool {
	return o.End != nil && o.End.To == driver.ConnectedActive
}

// Closed reports whether the outage ended in a CLOSED_* state.
func (o outage) Closed() bool { return o.End != nil && driver.IsClosed(o.End.To) }

// Attempts are the server accepts during the outage (including the one
// that succeeded, whose accept precedes the client's CONNECTED_ACTIVE). With
// streamed evidence (a run's lag), an accept on the lost server stamped
// within the lag after the outage's end still belongs to it; one on another
// server there is the next phase's (a failover's first attempt).
func (o outage) Attempts(v *view) []attempt {
	out := v.attempts(o.Start.T, o.Until(v))
	// As for walks (walkReach): streamed evidence may come up to lag late,
	// and the last attempt of an outage that ended closed may have its
	// accept stamped after the close, up to the full slack, because the
	// proxy fails the client's side while still dialling the server.
	reach := v.lag
	if o.Closed() {
		reach = v.slack
	}
	if reach > 0 {
		lost := o.Server(v)
		for _, a := range v.attempts(o.Until(v)+1, o.Until(v)+reach) {
			if a.Accept.Server == lost {
				out = append(out, a)
			}
		}
	}
	return out
}

func (o outage) String() string {
	return fmt.Sprintf("client %d outage %d (RECOVERING_RECONNECT at %s)", o.Client, o.N, dur(o.Start.T))
}

// Ending describes how the outage ended.
func (o outage) Ending(v *view) string {
	switch {
	case o.End == nil:
		return fmt.Sprintf("was still RECOVERING_RECONNECT at the end, %s", dur(v.end))
	case o.Recovered():
		return fmt.Sprintf("recovered (CONNECTED_ACTIVE) at %s", dur(o.End.T))
	default:
		return fmt.Sprintf("went %s%s at %s", o.End.To, reasonText(*o.End), dur(o.End.T))
	}
}

// ---- loss faults hitting a connected client -----------------------------

// lossHit is a loss fault on the link of the server a client was
// CONNECTED_ACTIVE on when it came.
type lossHit struct {
	Client int
	Fault  faultSpan
	Active history.Event  // the CONNECTED_ACTIVE state the client was in
	Leave  *history.Event // the client's next state event (leaving CONNECTED_ACTIVE); nil: never
}

// Server is the server (and link) the client was on.
func (l lossHit) Server(v *view) string {
	if l.Active.Server != "" {
		return l.Active.Server
	}
	return v.firstServer()
}

// lossHits lists, per client in order, each loss fault that hit it while
// CONNECTED_ACTIVE on the faulted link's server. A client's reaction stamped
// up to stampSlack before the link's fault.on still counts as the reaction.
func (v *view) lossHits() []lossHit {
	var out []lossHit
	for _, c := range v.clients {
		st := v.states[c]
		for _, f := range v.faults {
			if !isLossVerb(f.Verb) {
				continue
			}
			i := v.stateAt(c, f.began()-v.slack)
			if i < 0 || st[i].To != driver.ConnectedActive {
				continue
			}
			h := lossHit{Client: c, Fault: f, Active: st[i]}
			if h.Server(v) != f.Link {
				continue
			}
			if i+1 < len(st) {
				n := st[i+1]
				h.Leave = &n
			}
			out = append(out, h)
		}
	}
	return out
}

// reasonText is " (reason)" for an event with a reason, else "".
func reasonText(e history.Event) string {
	if e.Reason == "" {
		return ""
	}
	return " (" + e.Reason + ")"
}

// ---- numbers from attributes --------------------------------------------

// attrMs reads a millisecond attribute (retention_ms, ping_ms).
func attrMs(e history.Event, key string) (time.Duration, bool) {
	s := e.Attr(key)
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if d, err := time.ParseDuration(s); err == nil {
			return d, true
		}
		return 0, false
	}
	return time.Duration(f * float64(time.Millisecond)), true
}
