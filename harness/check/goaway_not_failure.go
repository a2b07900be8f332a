package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// DefaultGoawaySettle is how long past a going-away notice's grace
// goaway_not_failure and goaway_streams keep watching.
const DefaultGoawaySettle = time.Second

func init() {
	Register(Spec{Name: "goaway_not_failure", Judges: []string{"M6"}, New: func() Checker { return &GoawayNotFailure{} }})
}

// GoawayNotFailure judges M6 for a server that asks its clients to leave a
// connection without naming a target: the neutral going_away (gRPC's
// GOAWAY, on one connection; a NATS server's lame duck notice, on all of
// them). Such a notice is the end of a connection, not a failure: the
// client's new RPCs go to a new connection, while the old one drains.
//
// Who is judged comes from the servers: every session the notified server
// created, not ended at the notice (only the notified connection's when the
// notice names one), owned by the client whose states name it. From the
// notice until settle after its grace (the notice's grace_ms, else the old
// connection's end), the client
//   - does not close as failed or by the server (CLOSED_FAILED,
//     CLOSED_BY_SERVER) and does not fail over (CONNECTING: the session given
//     up);
//   - has every RPC op it started after the notice (send, request,
//     subscribe) accepted by its driver, and each served by a server on
//     another connection than the notified one (receive, request, subscribe
//     in one of its sessions);
//   - once it started one, is CONNECTED_ACTIVE again on a new session that a
//     server created after the notice.
//
// Leaving CONNECTED_ACTIVE for RECOVERING_RECONNECT between the two
// connections is not held against it: over gRPC the old connection does end
// (grpc-go and grpcio report their channel IDLE at the GOAWAY) and a new one
// is what the notice asks for; the time out of CONNECTED_ACTIVE and the
// time to the new connection are measured. A case whose old connection
// ended under a loss fault on its link is not judged. Without a notice, a
// client on the notified connection, or an RPC started after the notice,
// the check is UNKNOWN: the next RPC is the evidence.
type GoawayNotFailure struct {
	// Settle is how long after the notice's grace to keep watching
	// (default 1s).
	Settle *time.Duration `yaml:"settle"`
}

// Validate checks the parameters.
func (c *GoawayNotFailure) Validate() error { return nonNegative("settle", or(c.Settle, 0)) }

// Check implements Checker.
func (c *GoawayNotFailure) Check(in Input) Result { return onView(in, c, c.check) }

// gaCase is one client on a connection a server told to go away.
type gaCase struct {
	Client  int
	Server  string
	Conn    string // the old connection (the session's create)
	Session string
	Notice  history.Event
	// End is the server's record of the old connection's end (nil: none);
	// Why its neutral reason.
	End   *history.Event
	Why   string
	Until time.Duration // the end of the watch
}

func (k gaCase) String() string {
	return fmt.Sprintf("client %d on %s %s (session %q, %s notice at %s)", k.Client, k.Server, k.Conn, k.Session, noticeName(k.Notice), dur(k.Notice.T))
}

// goawayCases finds the clients on the connections a server told to go
// away, each watched until settle after the notice's grace (else after the
// old connection's end, else to the end of the history).
func goawayCases(v *view, j *judge, settle time.Duration) []gaCase {
	var out []gaCase
	for _, n := range v.h {
		if n.Source != history.SrcServer || n.Kind != kindGoingAway {
			continue
		}
		found := 0
		for _, e := range v.h {
			if e.T > n.T {
				break
			}
			if e.Kind != history.KindSessionCreate || e.Server != n.Server || e.Session == "" || (n.Conn != "" && e.Conn != n.Conn) {
				continue
			}
			if end, ok := v.sessions().firstSessEvent(e.Session, 0, history.KindConnClose, history.KindSessionDisconn, history.KindSessionClose, history.KindSessionExpire); ok && end.T < n.T {
				continue
			}
			k := gaCase{Server: n.Server, Conn: e.Conn, Session: e.Session, Notice: n, Client: v.sessions().owner(e.Session)}
			if k.Client < 0 {
				j.note("session %q on %s, open at the %s notice, was named by no client", e.Session, n.Server, noticeName(n))
				continue
			}
			k.End, k.Why = sessEnd(v, e.Session, n)
			k.Until = v.end
			if g, ok := attrMs(n, "grace_ms"); ok {
				k.Until = min(v.end, n.T+g+settle)
			} else if k.End != nil {
				k.Until = min(v.end, k.End.T+settle)
			}
			found++
			out = append(out, k)
		}
		if found == 0 {
			j.note("no client was on %s %s at its %s notice at %s", n.Server, n.Conn, noticeName(n), dur(n.T))
		}
	}
	return out
}

// rpcOps are the ops that make an RPC (a call the server sees).
func rpcOp(op string) bool {
	return op == driver.OpSend || op == driver.OpRequest || op == driver.OpSubscribe
}

// servedBy is the server event that shows cmd arrived in one of client
// cl's sessions, stamped from the op on (less the slack).
func servedBy(v *view, cl int, cmd command) (history.Event, bool) {
	for _, e := range v.h {
		if e.Source != history.SrcServer || e.T < cmd.Op.T-v.slack || e.Session == "" {
			continue
		}
		var hit bool
		switch cmd.Op.Op {
		case driver.OpSend:
			hit = e.Kind == history.KindReceive && e.Seq == cmd.N
		case driver.OpRequest:
			hit = e.Kind == history.KindRequest && atoi64(e.Attr("req")) == cmd.Req
		case driver.OpSubscribe:
			hit = e.Kind == history.KindSubscribe && e.Topic == cmd.Op.Topic
		}
		if hit && ownedBy(v, e.Session, cl) {
			return e, true
		}
	}
	return history.Event{}, false
}

// ownedBy reports whether session is client cl's: its states name it, or
// it is the only client and no client's states name the session (a client
// that stays CONNECTED_ACTIVE through a move names only its first).
func ownedBy(v *view, session string, cl int) bool {
	o := v.sessions().owner(session)
	return o == cl || (o < 0 && v.nClients == 1 && len(v.clients) == 1 && v.clients[0] == cl)
}

// newSession is the client's first CONNECTED_ACTIVE after the notice on
// another session, and the server session.create backing it (nil: none).
func newSession(v *view, k gaCase) (*history.Event, *history.Event) {
	for _, e := range v.states[k.Client] {
		if e.T <= k.Notice.T || e.T > k.Until || e.To != driver.ConnectedActive || e.Session == k.Session {
			continue
		}
		claim := e
		for _, s := range v.bySess[e.Session] {
			if isSessionServe(s.Kind) {
				s := s
				return &claim, &s
			}
		}
		return &claim, nil
	}
	return nil, nil
}

func (c *GoawayNotFailure) check(v *view) Result {
	settle := or(c.Settle, DefaultGoawaySettle)
	var j judge
	notices := 0
	for _, e := range v.h {
		if e.Source == history.SrcServer && e.Kind == kindGoingAway {
			notices++
		}
	}
	if notices == 0 {
		return j.inconclusive(v.end, "nothing to judge: no server said it was going away (no server going_away in the history: gRPC GOAWAY, NATS lame duck mode)")
	}
	cases := goawayCases(v, &j, settle)
	judged, idle := 0, 0
	last := time.Duration(0)
	var stories []string
	for _, k := range cases {
		if k.End != nil && k.Why != reasonGoingAway && v.lossOnLink(k.Server, k.End.T) {
			j.note("%s not judged: its connection ended at %s under a loss fault on %s", k, dur(k.End.T), k.Server)
			continue
		}
		last = max(last, k.Until)
		s, ok := c.judgeCase(v, &j, k)
		switch {
		case s == "":
			idle++
		case ok:
			judged++
			stories = append(stories, s)
		}
	}
	j.count("clients told to go away", len(cases), "server session.create on the notified connection, not ended at the server's going_away")
	if j.failed() {
		return j.result(last, "")
	}
	if judged == 0 {
		why := "no client was on a notified connection"
		if idle > 0 {
			why = fmt.Sprintf("%d client(s) on a notified connection started no RPC after the notice: its next RPC is the evidence (a send or request step after the goaway)", idle)
		}
		return j.inconclusive(v.end, "nothing to judge: %s", why)
	}
	return j.result(last, "%d client(s) told to go away took it as the end of a connection, not a failure: %s", judged, list(stories))
}

// judgeCase judges one client; it returns its story ("" when it started no
// RPC to judge by) and whether it held.
func (c *GoawayNotFailure) judgeCase(v *view, j *judge, k gaCase) (string, bool) {
	ok := true
	who := k.String()
	prefix := fmt.Sprintf("client %d on %s: ", k.Client, k.Conn)
	// No failure state, no failover.
	var left *history.Event
	for _, e := range v.states[k.Client] {
		if e.T <= k.Notice.T || e.T > k.Until {
			continue
		}
		if e.To == driver.ClosedByClient {
			break
		}
		if e.To == driver.ClosedFailed || e.To == driver.ClosedByServer || e.To == driver.Connecting {
			j.fail(e.T, "%s: %s%s at %s, %s after the notice: a server going away is not a failure", who, e.To, reasonText(e), dur(e.T), dur(e.T-k.Notice.T))
			ok = false
			break
		}
		if left == nil && e.From == driver.ConnectedActive {
			e := e
			left = &e
		}
	}
	// The RPCs started after the notice.
	var cmds []command
	started := 0
	for _, cp := range v.completions()[k.Client] {
		if cp.Op.T <= k.Notice.T || cp.Op.T > k.Until || !rpcOp(cp.Op.Op) {
			continue
		}
		started++
		if !cp.ok() {
			why := "no reply by the end"
			if cp.Reply != nil {
				why = "refused: " + cp.Reply.Reason
			}
			j.fail(cp.Op.T, "%s: its %s at %s, after the notice, failed (%s): the next RPC must go to a new connection", who, cp.Op.Op, dur(cp.Op.T), why)
			ok = false
		}
	}
	for _, cmd := range v.commands().of(k.Client) {
		if cmd.Op.T > k.Notice.T && cmd.Op.T <= k.Until && rpcOp(cmd.Op.Op) {
			cmds = append(cmds, cmd)
		}
	}
	var first string
	for i, cmd := range cmds {
		e, seen := servedBy(v, k.Client, cmd)
		switch {
		case !seen:
			j.fail(cmd.Reply.T, "%s: %s, accepted by the driver, reached no server", who, cmd)
			ok = false
		case e.Server == k.Server && e.Conn == k.Conn:
			j.fail(e.T, "%s: %s was served on the connection told to go away (%s %s %s at %s)", who, cmd, e.Server, e.Conn, e.Kind, dur(e.T))
			ok = false
		case i == 0:
			first = fmt.Sprintf("its next RPC, %s, served on %s %s (session %q) at %s", cmd, e.Server, e.Conn, e.Session, dur(e.T))
			j.measureSpan(prefix+"notice → next RPC served", k.Notice.T, e.T, fmt.Sprintf("server %s %s on %s − server %s going_away", e.Server, e.Kind, e.Conn, k.Server), "on another connection")
		}
	}
	// Back on a new session.
	claim, create := newSession(v, k)
	switch {
	case claim != nil && create == nil:
		j.fail(claim.T, "%s: CONNECTED_ACTIVE in session %q at %s, which no server created", who, claim.Session, dur(claim.T))
		return who, false
	case claim != nil && create.T < k.Notice.T-v.slack:
		j.fail(claim.T, "%s: CONNECTED_ACTIVE in session %q at %s, which %s created at %s, before the notice", who, claim.Session, dur(claim.T), create.Server, dur(create.T))
		return who, false
	case claim == nil && left != nil && started > 0:
		j.fail(k.Until, "%s: it left CONNECTED_ACTIVE (%s at %s) and, though it started RPCs after the notice, was not CONNECTED_ACTIVE on a new session by %s (%s)", who, left.To, dur(left.T), dur(k.Until), v.client().lastStateText(k.Client))
		return who, false
	}
	if started == 0 {
		j.note("%s started no RPC after the notice", who)
		return "", ok
	}
	if !ok {
		return who, false
	}
	story := fmt.Sprintf("%s: %s", who, first)
	if k.End != nil {
		story += fmt.Sprintf("; the old connection ended at %s (%s)", dur(k.End.T), ldEndText(*k.End, k.Why))
	}
	if create != nil {
		story += fmt.Sprintf("; new session %q created by %s on %s at %s, %s after the notice", create.Session, create.Server, create.Conn, dur(create.T), dur(create.T-k.Notice.T))
		j.measureSpan(prefix+"notice → new session", k.Notice.T, create.T, fmt.Sprintf("server %s session.create on %s − server %s going_away", create.Server, create.Conn, k.Server), "")
	}
	if left != nil {
		native := left.Attr("native")
		if native != "" {
			native = " (native " + native + ")"
		}
		story += fmt.Sprintf("; the client reported %s%s at %s, CONNECTED_ACTIVE again at %s (%s between connections)", left.To, native, dur(left.T), dur(claim.T), dur(claim.T-left.T))
		j.measureSpan(prefix+"out of CONNECTED_ACTIVE", left.T, claim.T, "client state CONNECTED_ACTIVE on the new session − its state leaving CONNECTED_ACTIVE (client-reported)", "")
	} else {
		story += "; it stayed CONNECTED_ACTIVE throughout"
	}
	return story, true
}

// ldEndText names a connection's end: its neutral reason and the server's
// own words for it.
func ldEndText(end history.Event, why string) string {
	if r := end.Attr(history.AttrConnReason); r != "" && r != why && !strings.Contains(why, r) {
		return why + ": " + r
	}
	return why
}
