package check

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// Every client a scenario asks to connect is accounted for in every check:
// a check judges the clients that did something, so a client that never
// connected would otherwise drop out of the judgement without a word (10,000
// clients, 6,672 of them reset in the connect burst, every check OK over the
// other 3,328). Account finds them; the runner merges its finding into every
// judged result. It only ever adds a finding: it is never OK on its own.
//
// A client is accounted for when it reached CONNECTED_ACTIVE on a session a
// server created or resumed (the client's word alone connects nothing), or when the
// scenario explains why it did not: a close op sent to it, a fault or a kill
// on one of its servers in force when its connect began, or one that began
// during its connect after a link had taken its attempt. For the others the
// links' and servers' records decide whose failure it is. Where the client's
// errors name its attempts' local addresses (the Go engine's dial errors
// do), each attempt is looked up in the links' accepts: never taken by a link
// (a listen-backlog reset), taken but not dialled, or accepted and never
// answered is the harness's (UNKNOWN: the SDK never had its chance); answered
// by a server is the SDK's (FAILED). Where they do not, attempts cannot be
// attributed (a link knows a client by its address only), and the records
// are counted over the clients' connect windows instead. A client that never
// reported a state after its connect op is the SDK's; one that was never
// sent its connect op, the harness's.

// acctView accounts for every client asked to connect, apart from the
// checks: only Account asks, and it holds the clients' word to the servers'.
type acctView struct {
	*view              // the index
	sv    *sessionView // a connect counts when a server served its session
}

func newAcctView(v *view, sv *sessionView) *acctView { return &acctView{view: v, sv: sv} }

// connectee is what the history says of one client asked to connect.
type connectee struct {
	client   int
	from, to time.Duration  // its connect op (or step) to its first close, connect reply or the end
	until    time.Duration  // the end of what its attempts are judged on: to, or a fault that began during its connect
	op       *history.Event // its first connect op
	reply    *history.Event // the reply to it
	closeOp  *history.Event // a close op sent to it
	states   int
	active   bool
	ghost    *history.Event // a CONNECTED_ACTIVE on a session no server created or resumed
	why      string         // its close reason and last error, for details
	addrs    []string       // the local addresses of its attempts, as its errors name them
}

// Account returns the accounting finding for h, and false when every client
// is accounted for (or the scenario's client is a router: its instances'
// connections are T1–T6's).
func Account(h history.History, sc *scenario.Scenario) (Result, bool) {
	if sc == nil || sc.Client.IsRouter() {
		return Result{}, false
	}
	v := newView(h, sc)
	a := v.accounting()
	l := a.ledger()
	cs := a.connectees()
	var silent, unattributed, doubt, noOp, ghosts []connectee
	fates := map[fate][]connectee{}
	for _, c := range cs {
		if c.active {
			continue
		}
		if c.ghost != nil { // a claim no server backs: the SDK's, whatever the faults
			ghosts = append(ghosts, c)
			continue
		}
		why, began := a.explained(c, l)
		if why != "" {
			continue
		}
		c.until = c.to
		switch {
		case c.op == nil:
			noOp = append(noOp, c)
		case c.states == 0 && c.why == "":
			silent = append(silent, c)
		case began >= 0:
			c.until = began
			doubt = append(doubt, c)
		case len(c.addrs) > 0:
			f := l.fateOf(v, c)
			fates[f] = append(fates[f], c)
		default:
			unattributed = append(unattributed, c)
		}
	}
	// Unattributed clients whose connect a fault ended: explained when the
	// links had taken as many attempts before it as there are such clients.
	if len(doubt) > 0 && a.tally(l, doubt).taken(l) < len(doubt) {
		unattributed = append(unattributed, doubt...)
	}
	n := len(silent) + len(unattributed) + len(noOp) + len(ghosts)
	for _, g := range fates {
		n += len(g)
	}
	if n == 0 {
		return Result{}, false
	}
	var j judge
	j.count("clients asked to connect", len(cs), "scenario connect steps")
	j.count("clients unaccounted", n, "no CONNECTED_ACTIVE (client-reported), and no close op, fault or kill to explain it (harness, link, server records)")
	head := fmt.Sprintf("client accounting: %d of %d client(s) never connected, and no fault, kill or close op explains it", n, len(cs))
	if len(noOp) > 0 {
		j.unknown(noOp[0].from, "the harness could not serve %s: it never sent them their connect op", clientList(noOp))
	}
	if len(ghosts) > 0 {
		g := ghosts[0].ghost
		j.fail(g.T, "%s reported CONNECTED_ACTIVE on a session no server created or resumed (first: client %d, session %q at %s, client-reported; no server session.create or session.resume of it)",
			clientList(ghosts), g.Client, g.Session, dur(g.T))
	}
	if len(silent) > 0 {
		c := silent[0]
		j.fail(c.op.T, "%s never reported a state after their connect op (the SDK never tried; first sent at %s%s)", clientList(silent), dur(c.op.T), connectReplyText(c.reply))
	}
	for f := fateAnswered; f >= fateUnreached; f-- {
		g := fates[f]
		if len(g) == 0 {
			continue
		}
		j.count("clients "+fateNames[f], len(g), "their attempts' addresses (named in their errors) against the links' link.accept, link.dial_fail and the servers' accept, handshake")
		text := fmt.Sprintf("%s tried (%s; connects from %s): %s (first: client %d's %s)",
			clientList(g), reasons(g), dur(g[0].from), fateTexts[f], g[0].client, strings.Join(g[0].addrs, ", "))
		if f == fateAnswered {
			j.fail(g[0].to, "%s", text)
		} else {
			j.unknown(g[0].to, "%s", text)
		}
	}
	if len(unattributed) > 0 {
		a.judgeUnattributed(&j, l, unattributed)
	}
	r := j.result(0, "")
	r.Detail = head + ": " + r.Detail
	return r, true
}

// fate is how far a client's furthest attempt got, as links and servers saw it.
type fate int

const (
	fateUnreached  fate = iota // no link took it
	fateUndialled              // a link took it and could not dial its server
	fateUnheard                // a link took it, no server recorded it
	fateUnanswered             // a server accepted it and never answered
	fateAnswered               // a server answered it (handshake or a session)
)

var fateNames = map[fate]string{
	fateUnreached: "never reached a link", fateUndialled: "not dialled by the link", fateUnheard: "lost between link and server",
	fateUnanswered: "accepted, never answered", fateAnswered: "answered, not connected",
}

var fateTexts = map[fate]string{
	fateUnreached:  "no link took their attempts: there is no link.accept of the addresses their errors name (a listen-backlog reset, or a harness failure): the harness could not serve them",
	fateUndialled:  "the links took their attempts and could not reach the live server (link.dial_fail): the harness could not serve them",
	fateUnheard:    "the links took their attempts and no server recorded them: the harness could not serve them",
	fateUnanswered: "the servers accepted their attempts and never answered them (a server too slow to read the hello, or an SDK that never sent it): the harness cannot tell which",
	fateAnswered:   "the servers answered their attempts and the SDK did not connect",
}

// ledger indexes the links' and servers' records of attempts.
type ledger struct {
	byAddr   map[string][]history.Event // link accepts by the client's address
	dialFail map[string]bool            // link|address of a failed dial
	server   map[string]int             // link accept (link|address|T) → its server accept's index in v.accepts
	hands    map[string]bool            // server|conn with a handshake
	claimed  map[string]bool            // session ids some client's state names
	remote   bool                       // the links recorded no accepts (a remote Toxiproxy)
	kills    []history.Event            // process.kill and process.start, in order
	restarts []history.Event
}

func (v *acctView) ledger() *ledger {
	l := &ledger{byAddr: map[string][]history.Event{}, dialFail: map[string]bool{}, server: map[string]int{},
		hands: map[string]bool{}, claimed: map[string]bool{}}
	for _, e := range v.h {
		switch {
		case e.Kind == history.KindLinkAccept:
			l.byAddr[e.Conn] = append(l.byAddr[e.Conn], e)
		case e.Kind == history.KindLinkDialFail:
			l.dialFail[e.Link+"|"+e.Conn] = true
		case e.Kind == history.KindHandshake:
			l.hands[connKey(e.Server, e.Conn)] = true
		case e.Kind == history.KindState && e.Session != "":
			l.claimed[e.Session] = true
		case e.Kind == history.KindKill:
			l.kills = append(l.kills, e)
		case e.Kind == history.KindRestart:
			l.restarts = append(l.restarts, e)
		}
	}
	l.remote = len(l.byAddr) == 0
	for i, la := range v.linkOf {
		if la != nil {
			l.server[linkKey(*la)] = i
		}
	}
	return l
}

func linkKey(e history.Event) string { return fmt.Sprintf("%s|%s|%d", e.Link, e.Conn, e.T) }

// taken is the links' accepts of the client's attempts during its connect.
func (l *ledger) taken(v *view, c connectee) []history.Event {
	var out []history.Event
	for _, a := range c.addrs {
		for _, e := range l.byAddr[a] {
			if e.T >= c.from-v.slack && e.T <= c.to+v.slack {
				out = append(out, e)
			}
		}
	}
	return out
}

// fateOf is how far the client's furthest attempt got.
func (l *ledger) fateOf(v *view, c connectee) fate {
	best := fateUnreached
	for _, la := range l.taken(v, c) {
		f := fateUnheard
		if l.dialFail[la.Link+"|"+la.Conn] {
			f = fateUndialled
		} else if i, ok := l.server[linkKey(la)]; ok {
			a := v.accepts[i]
			k := connKey(a.Server, a.Conn)
			f = fateUnanswered
			if _, served := v.served[k]; served || l.hands[k] {
				f = fateAnswered
			}
		}
		best = max(best, f)
	}
	return best
}

var localAddr = regexp.MustCompile(`((?:\d{1,3}\.){3}\d{1,3}:\d+|\[[0-9a-fA-F:]+\]:\d+)->`)

// connectees lists the clients the scenario asks to connect, in order.
func (v *acctView) connectees() []connectee {
	asked := map[int]time.Duration{}
	for _, st := range v.sc.Steps {
		if st.Client == nil || st.Client.Op != driver.OpConnect {
			continue
		}
		for c := 0; c < v.nClients; c++ {
			if _, ok := asked[c]; !ok && (len(st.Client.Only) == 0 || slices.Contains(st.Client.Only, c)) {
				asked[c] = st.At
			}
		}
	}
	by := map[int]*connectee{}
	for c, at := range asked {
		by[c] = &connectee{client: c, from: at, to: -1}
	}
	lastErr := map[int]string{}
	for i := range v.h {
		e := &v.h[i]
		c := by[e.Client]
		if c == nil {
			continue
		}
		switch {
		case e.Kind == history.KindOp && e.Op == driver.OpConnect && c.op == nil:
			c.op, c.from = e, e.T
		case e.Kind == history.KindOp && e.Op == driver.OpClose && c.closeOp == nil:
			c.closeOp = e
		case e.Kind == history.KindReply && e.Op == driver.OpConnect && c.op != nil && c.reply == nil:
			c.reply = e
		case e.Source == history.SrcClient && e.Kind == history.KindError:
			lastErr[e.Client] = e.Reason
			for _, m := range localAddr.FindAllStringSubmatch(e.Reason, -1) {
				if !slices.Contains(c.addrs, m[1]) {
					c.addrs = append(c.addrs, m[1])
				}
			}
		case e.Kind == history.KindState:
			c.states++
			// Connected on the servers' word, not the client's: the
			// session it names must be one a server created or resumed.
			if e.To == driver.ConnectedActive {
				if _, served := v.sv.firstSessEvent(e.Session, math.MinInt64, history.KindSessionCreate, history.KindSessionResume); served {
					c.active = true
				} else if c.ghost == nil {
					c.ghost = e
				}
			}
			if driver.IsClosed(e.To) && c.why == "" {
				c.why = e.To + reasonText(*e)
				if c.to < 0 {
					c.to = e.T
				}
			}
		}
	}
	out := make([]connectee, 0, len(by))
	for _, c := range by {
		if c.to < 0 && c.reply != nil {
			c.to = c.reply.T
		}
		if c.to < c.from {
			c.to = v.end
		}
		if err := lastErr[c.client]; err != "" {
			if c.why != "" {
				c.why += ": "
			}
			c.why += lastClause(err)
		}
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].client < out[j].client })
	return out
}

// explained says what in the scenario kept the client from connecting, ""
// when nothing did: a close op; a fault or a kill on one of its servers in
// force when its connect began; or one that began during its connect after
// a link had taken one of its attempts (an attempt the harness held for
// seconds is not one the fault was meant for). For a client whose attempts
// cannot be told apart, a fault or kill that began during its connect is
// returned as began (else -1): whether the links had taken its attempt by
// then is counted over all such clients (Account).
func (v *acctView) explained(c connectee, l *ledger) (why string, began time.Duration) {
	from, to := c.from-v.slack, c.to+v.slack
	if c.closeOp != nil && c.closeOp.T <= to {
		return "closed by the harness at " + dur(c.closeOp.T), -1
	}
	took := time.Duration(-1) // when a link first took one of its attempts
	for _, la := range l.taken(v.view, c) {
		if took < 0 || la.T < took {
			took = la.T
		}
	}
	began = -1
	meant := func(t time.Duration) bool {
		switch {
		case t <= c.from+v.slack || took >= 0 && took <= t:
			return true
		case len(c.addrs) == 0 && (began < 0 || t < began):
			began = t
		}
		return false
	}
	for _, f := range v.faults {
		off := v.end
		if f.Off != nil {
			off = f.Off.T
		}
		if v.cServers[f.Link] && f.began() <= to && off >= from && meant(f.began()) {
			return f.String(), -1
		}
	}
	for _, k := range l.kills {
		if k.T > to {
			break
		}
		if v.cServers[k.Server] && !l.restartedBefore(k, from) && meant(k.T) {
			return fmt.Sprintf("server %s killed at %s", k.Server, dur(k.T)), -1
		}
	}
	ri := v.refusals()
	i := sort.Search(len(ri.refused), func(i int) bool { return ri.refused[i].T >= from })
	for _, e := range ri.refused[i:] {
		if e.T > to {
			break
		}
		if at, ok := ri.firstStep[e.Server]; v.cServers[e.Server] && ok && at <= e.T {
			return fmt.Sprintf("server %s refused its handshake at %s (%s), as the scenario asked", e.Server, dur(e.T), e.Reason), -1
		}
	}
	return "", began
}

// refusalIndex is the failed handshakes, in history order, and per server
// when a step first acted on it (a refusal the scenario asked for, such as
// the mqtt kind's refuse_connack, follows that step). Derived once per
// view: every unaccounted client's explanation reads it, and a scan of the
// history per refusal per client took minutes at 10,000 clients.
type refusalIndex struct {
	refused   []history.Event
	firstStep map[string]time.Duration
}

type refusalsKey struct{}

func (v *acctView) refusals() refusalIndex {
	return derive(v.memo, refusalsKey{}, func() refusalIndex {
		ri := refusalIndex{firstStep: map[string]time.Duration{}}
		for _, e := range v.h {
			switch {
			case e.Kind == history.KindHandshake && !e.OK:
				ri.refused = append(ri.refused, e)
			case e.Kind == history.KindStep:
				if s := stepServer(e); s != "" {
					if _, ok := ri.firstStep[s]; !ok {
						ri.firstStep[s] = e.T
					}
				}
			}
		}
		return ri
	})
}

// stepServer is the server a fired step acted on ("" for none). Histories
// recorded before steps carried Attrs["server"] name it only in the step's
// text ("server s1 refuse_connack ..."): read so that `faultline check`
// judges them as it did.
func stepServer(e history.Event) string {
	if s := e.Attr("server"); s != "" {
		return s
	}
	if rest, ok := strings.CutPrefix(e.Attr("step"), "server "); ok {
		name, _, _ := strings.Cut(rest, " ")
		return name
	}
	return ""
}

// restartedBefore reports whether the killed server was up again by t.
func (l *ledger) restartedBefore(kill history.Event, t time.Duration) bool {
	for _, e := range l.restarts {
		if e.T > t {
			return false
		}
		if e.Server == kill.Server && e.T > kill.T {
			return true
		}
	}
	return false
}

// tally is what the links and servers recorded over some clients' connect
// windows (from their connects to their until).
type tally struct {
	from, to                                         time.Duration
	linkAcc, dialFail, servedLinks, srvAcc, answered int
}

func (v *acctView) tally(l *ledger, cs []connectee) tally {
	t := tally{from: cs[0].from, to: cs[0].until}
	for _, c := range cs {
		t.from, t.to = min(t.from, c.from), max(t.to, c.until)
	}
	in := func(x time.Duration) bool { return x >= t.from && x <= t.to+v.slack }
	for _, e := range v.h {
		switch {
		case e.Kind == history.KindLinkAccept && v.cServers[e.Link] && in(e.T):
			t.linkAcc++
		case e.Kind == history.KindLinkDialFail && v.cServers[e.Link] && in(e.T):
			t.dialFail++
		}
	}
	for i, a := range v.accepts {
		if !in(a.T) {
			continue
		}
		k := connKey(a.Server, a.Conn)
		if s, ok := v.served[k]; ok {
			if v.linkOf[i] != nil {
				t.servedLinks++
			}
			if s.Kind == history.KindSessionCreate && !l.claimed[s.Session] {
				t.answered++ // created, and no client ever named it
			}
			continue
		}
		t.srvAcc++
		if l.hands[k] {
			t.answered++
		}
	}
	return t
}

// taken is how many attempts the links took that did not become sessions
// (the servers' accepts where the links record none: a remote Toxiproxy).
func (t tally) taken(l *ledger) int {
	if l.remote {
		return t.srvAcc
	}
	return t.linkAcc - t.servedLinks
}

// judgeUnattributed weighs the records for clients whose attempts cannot be
// told apart: over their connect windows, the attempts the links took that
// did not become sessions, those the servers accepted, and those they
// answered, against how many clients tried.
func (v *acctView) judgeUnattributed(j *judge, l *ledger, tried []connectee) {
	t := v.tally(l, tried)
	j.count("link accepts not served", t.linkAcc-t.servedLinks-t.dialFail, "link.accept in the unaccounted clients' connect windows, less those that became sessions and failed dials")
	j.count("server accepts not served", t.srvAcc, "server accept with no session.create/resume on its connection, in those windows")
	j.count("attempts answered, not connected", t.answered, "server handshake on such an accept, or a session.create no client named")
	what := fmt.Sprintf("%s tried (%s; connects from %s to %s)", clientList(tried), reasons(tried), dur(t.from), dur(t.to))
	seen := fmt.Sprintf("in that time the links took %d connection(s) that did not become sessions (%d dial(s) to a server failed), the servers accepted %d such and answered %d",
		t.linkAcc-t.servedLinks, t.dialFail, t.srvAcc, t.answered)
	where := "the links"
	if l.remote {
		where = "the servers"
		seen = fmt.Sprintf("in that time the servers accepted %d connection(s) that did not become sessions and answered %d (the links record no accepts)", t.srvAcc, t.answered)
	}
	taken, at := t.taken(l), tried[0].until
	switch {
	case t.answered >= len(tried):
		j.fail(at, "%s; %s: the servers answered them and the SDK did not connect", what, seen)
	case taken < len(tried):
		j.unknown(at, "%s; %s: the attempts of at least %d client(s) never reached %s (a listen-backlog reset, or a harness failure): the harness could not serve them",
			what, seen, len(tried)-taken, where)
	case taken-t.dialFail < len(tried):
		j.unknown(at, "%s; %s: the links took them but could not reach their live servers for %d (link.dial_fail): the harness could not serve them",
			what, seen, len(tried)-(taken-t.dialFail))
	default:
		j.unknown(at, "%s; %s: the servers did not answer %d client(s) (a server too slow to read its hello, or an SDK that never sent it): the harness cannot tell which",
			what, seen, len(tried)-t.answered)
	}
}

// clientList names up to maxListed clients and how many there are.
func clientList(cs []connectee) string {
	if len(cs) == 1 {
		return fmt.Sprintf("client %d", cs[0].client)
	}
	var ids []string
	for i, c := range cs {
		if i == maxListed {
			ids = append(ids, "…")
			break
		}
		ids = append(ids, fmt.Sprint(c.client))
	}
	return fmt.Sprintf("%d clients (%s)", len(cs), strings.Join(ids, ", "))
}

// reasons sums up how the clients' connects ended, most common first.
func reasons(cs []connectee) string {
	n := map[string]int{}
	for _, c := range cs {
		w := c.why
		if w == "" {
			w = "still CONNECTING at the end"
		}
		n[w]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return n[keys[i]] > n[keys[j]] || n[keys[i]] == n[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for i, k := range keys {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d other reason(s)", len(keys)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%q ×%d", k, n[k]))
	}
	return strings.Join(parts, ", ")
}

// lastClause is an error text's last clause ("…: connection reset by
// peer"): addresses and ports differ per client, the cause does not.
func lastClause(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

func connectReplyText(r *history.Event) string {
	switch {
	case r == nil:
		return "; no reply"
	case r.OK:
		return fmt.Sprintf("; replied ok at %s", dur(r.T))
	default:
		return fmt.Sprintf("; replied %q at %s", r.Reason, dur(r.T))
	}
}
