package check

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// dur renders a duration as milliseconds with one decimal, as details do.
func dur(d time.Duration) string { return fmt.Sprintf("%.1fms", Ms(d)) }

func nonNegative(name string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%s must not be negative (got %s)", name, d)
	}
	return nil
}

// view is a history indexed for the R, F, C and M checkers: on the shared
// base (base.go: fault spans, lag, memo), per-client states, per-session
// server events and the servers' accepts, closes and serves. It is built
// once per Check and never changes. It is the trunk: it holds only that
// index and its sub-views, the typed views of the facts derived from it
// (a client's word, outages, walks, sessions, migrations, commands,
// accounting), each built on first use and kept for the view's life, each
// in its own file with the facts it memoises.
type view struct {
	base
	nClients int
	clients  []int
	states   map[int][]history.Event
	bySess   map[string][]history.Event // server events per session, in order
	closes   map[string]history.Event   // first conn.close per server|conn
	served   map[string]history.Event   // session.resume / session.create per server|conn
	accepts  []history.Event            // server accepts on the client's servers
	linkOf   []*history.Event           // per accept, its link's accept (link_accepts.go), or nil
	cServers map[string]bool

	// stalls are the spans the machine stood still (stall.go).
	stalls []stallSpan

	subs subViews
}

// subViews are a view's sub-views, nil until first asked for.
type subViews struct {
	client   *clientView
	outages  *outageView
	walks    *walkView
	sessions *sessionView
	migs     *migView
	commands *commandView
	acct     *acctView
}

// client is the clients' own word (clients.go).
func (v *view) client() *clientView {
	if v.subs.client == nil {
		v.subs.client = newClientView(v)
	}
	return v.subs.client
}

// outages is the servers' attempts and the clients' outages (outages.go).
func (v *view) outages() *outageView {
	if v.subs.outages == nil {
		v.subs.outages = newOutageView(v, v.client())
	}
	return v.subs.outages
}

// walks is the clients' walks over their server lists (walks.go).
func (v *view) walks() *walkView {
	if v.subs.walks == nil {
		v.subs.walks = newWalkView(v, v.outages())
	}
	return v.subs.walks
}

// sessions is the sessions the clients named and the servers served
// (sessions.go).
func (v *view) sessions() *sessionView {
	if v.subs.sessions == nil {
		v.subs.sessions = newSessionView(v, v.walks())
	}
	return v.subs.sessions
}

// migrations is the migrations the servers recorded (migration_view.go).
func (v *view) migrations() *migView {
	if v.subs.migs == nil {
		v.subs.migs = newMigView(v, v.sessions())
	}
	return v.subs.migs
}

// commands is the ops the clients' drivers accepted and what became of
// them (commands.go).
func (v *view) commands() *commandView {
	if v.subs.commands == nil {
		v.subs.commands = newCommandView(v, v.sessions())
	}
	return v.subs.commands
}

// accounting is every client asked to connect, accounted for
// (accounting.go).
func (v *view) accounting() *acctView {
	if v.subs.acct == nil {
		v.subs.acct = newAcctView(v, v.sessions())
	}
	return v.subs.acct
}

// stalled is the stall time overlapping [from, to].
func (v *view) stalled(from, to time.Duration) time.Duration { return stalledIn(v.stalls, from, to) }

func connKey(server, conn string) string { return server + "|" + conn }

func newView(h history.History, sc *scenario.Scenario) *view {
	v := &view{
		base:     newBase(h, sc),
		states:   map[int][]history.Event{},
		bySess:   map[string][]history.Event{},
		closes:   map[string]history.Event{},
		served:   map[string]history.Event{},
		cServers: map[string]bool{},
	}
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
	for _, e := range h {
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
