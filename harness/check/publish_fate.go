package check

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "publish_fate", Judges: []string{"R3"}, New: func() Checker { return &PublishFate{} }})
}

// The contract terms a library declares for what becomes of a publish
// around a loss (docs/driver-protocol.md, "The SDK contract").
const (
	deliveryAtMostOnce  = "at_most_once"
	deliveryAtLeastOnce = "at_least_once"
	deliveryExactlyOnce = "exactly_once"
	bufferReconnecting  = "while_reconnecting"
)

// The fates of a send.
const (
	fateDelivered = "delivered"      // received on the connection the client held when its library took it
	fateBuffered  = "buffered"       // taken while recovering (or on a dead connection), received on a later session
	fateInFlight  = "lost in flight" // never received; the connection it was written to (or flushed into) died
	fateRefused   = "refused"        // the driver answered ok false
	fateDiscarded = "discarded"      // taken while recovering; the client never reconnected
	fateDropped   = "dropped"        // never received although its connection lived on (or later sends on it arrived)
	fateUnknown   = "unaccounted"    // no reply, or nothing in the history explains it
)

// PublishFate judges R3 (client → server, around a loss): every send of a
// client is accounted for. Each send op and its reply (harness evidence)
// is paired with what the servers received (server receive, Seq = the
// client's send number n: the driver numbers the sends its library took,
// 1, 2, … in order, and a refused send takes no number). Each is then
// delivered on the connection the client held when its library took it
// (before the loss, or after the reconnect); buffered: taken while the
// client was RECOVERING_RECONNECT (or on a connection already dead) and
// received on a later session, after the reconnect; lost in flight: never
// received, and the connection it was written to died (the link's loss
// fault, else the server's end of the connection), counting those taken
// after the death while the client still claimed CONNECTED_ACTIVE (between
// a silent death and its detection); refused (the reply said no, e.g. the
// reconnect buffer was full); discarded (taken while recovering, and the
// client never reconnected); dropped (never received although the
// connection that carried it lived on); and duplicated (received twice).
//
// The verdict is the library's own effective contract (the connect reply's
// delivery and buffer terms, cited in the detail): FAILED for what it
// forbids: a duplicate under at_most_once or exactly_once, a loss in flight
// under at_least_once or exactly_once, a send taken while reconnecting and
// dropped after a successful reconnection under buffer while_reconnecting,
// a send dropped from a connection that lived on under any declared
// delivery. INFORMATIONAL for what the contract allows but a user must
// know (the publishes lost in flight, with the death, its detection and
// each lost send's time measured; a buffer discarded with a client that
// never came back), or where the contract is silent. OK only when every
// send is accounted for and nothing of either kind happened. No sends,
// or receives that carry no send number: UNKNOWN.
type PublishFate struct{}

// ValidateFor implements scenario.ScenarioValidator: check has nothing to
// judge without a harness op send.
func (c *PublishFate) ValidateFor(sc *scenario.Scenario) error {
	return needClientOp(sc, "send", "{send: {count: N}}")
}

// Check implements Checker.
func (c *PublishFate) Check(in Input) Result { return onView(in, c, c.check) }

// pfSend is one send op of a client and its fate.
type pfSend struct {
	Op    history.Event
	Reply *history.Event
	N     int64  // the send number (0: the library did not take it)
	Phase string // the client's state when its library took it
	Held  string // the session the client held then
	Recv  []history.Event
	Fate  string
	// Carrier is the session a send never received was (to be) written
	// on; Death and Detect the loss of that connection, when it died.
	Carrier string
	// CarrierServe is the server's start of the carrier's connection (its
	// handshake, create or resume): a session name may outlive one
	// connection (an MQTT broker names a clean session by its client id on
	// every connection), so what a connection carried is told by it.
	CarrierServe   *history.Event
	Death, Detect  time.Duration
	DeathBy        string
	AfterDeath     bool
	LaterOnCarrier bool
}

func (s *pfSend) taken() time.Duration { return s.Reply.T }

// pfClient is one client's account.
type pfClient struct {
	cl         int
	sends      []*pfSend
	k          *Contract
	unnumbered int
	beyond     []history.Event
}

func (c *PublishFate) check(v *view) Result {
	var j judge
	var all []*pfClient
	for _, cl := range v.clients {
		if a := c.account(v, cl); a != nil {
			all = append(all, a)
		}
	}
	counts := map[string]int{}
	nSends, dups, lostAfterDeath, unnumbered := 0, 0, 0, 0
	var info []string
	last := time.Duration(0)
	var refusals []string
	var bufDelay, bufFlush time.Duration
	var bufSessions []string
	rescued := 0 // buffered sends taken on a dead connection the client still claimed
	if r, ok := c.noEvidence(v, all); !ok {
		return r
	}
	for _, a := range all {
		who := fmt.Sprintf("client %d", a.cl)
		unnumbered += a.unnumbered
		if len(a.beyond) > 0 {
			e := a.beyond[0]
			j.unknown(e.T, "%s: server %s received send n=%d at %s, beyond the %d send(s) its library took: the sends cannot be accounted for by number", who, e.Server, e.Seq, dur(e.T), a.taken())
		}
		delivery, buffer := a.k.Value(termDelivery), a.k.Value(termBuffer)
		lost := map[string][]*pfSend{} // per carrier: the sends lost in flight
		var carriers []string
		for _, s := range a.sends {
			nSends++
			counts[s.Fate]++
			if s.Reply != nil {
				last = max(last, s.Reply.T)
			}
			for _, r := range s.Recv {
				last = max(last, r.T)
			}
			if len(s.Recv) > 1 {
				dups += len(s.Recv) - 1
				r := s.Recv[1]
				msg := fmt.Sprintf("%s: send n=%d (taken at %s) was received %d times (again by %s at %s on session %q)", who, s.N, dur(s.taken()), len(s.Recv), r.Server, dur(r.T), r.Session)
				if delivery == deliveryAtMostOnce || delivery == deliveryExactlyOnce {
					j.fail(r.T, "%s, which %s forbids", msg, pfSays(a.k, termDelivery))
				} else {
					info = append(info, msg+" ("+pfSays(a.k, termDelivery)+")")
				}
			}
			switch s.Fate {
			case fateRefused:
				refusals = append(refusals, fmt.Sprintf("%s at %s (%s)", who, dur(s.Reply.T), s.Reply.Reason))
			case fateBuffered:
				r := s.Recv[0]
				bufDelay = max(bufDelay, r.T-s.taken())
				if hs, ok := c.sessionStart(v, r.Session); ok {
					bufFlush = max(bufFlush, r.T-hs)
				}
				if s.Phase == driver.ConnectedActive {
					rescued++
				}
				if !containsStr(bufSessions, r.Session) {
					bufSessions = append(bufSessions, r.Session)
				}
			case fateInFlight:
				if _, seen := lost[s.Carrier]; !seen {
					carriers = append(carriers, s.Carrier)
				}
				lost[s.Carrier] = append(lost[s.Carrier], s)
				if s.AfterDeath {
					lostAfterDeath++
				}
			case fateDiscarded:
				info = append(info, fmt.Sprintf("%s: send n=%d was taken at %s while %s and never sent: the client never reconnected (%s)",
					who, s.N, dur(s.taken()), s.Phase, v.client().lastStateText(a.cl)))
			case fateDropped:
				carried := "the connection that carried it"
				if s.Phase != driver.ConnectedActive {
					carried = "the connection it would be sent on once back"
				}
				where := fmt.Sprintf("%s: send n=%d, taken at %s while %s on session %q, never reached a server although %s (session %q) lived on",
					who, s.N, dur(s.taken()), s.Phase, s.Held, carried, s.Carrier)
				if s.LaterOnCarrier {
					where += " and later sends arrived on it"
				}
				switch {
				case s.Phase != driver.ConnectedActive && buffer == bufferReconnecting:
					j.fail(s.taken(), "%s: the reconnection succeeded, and %s says it buffers while reconnecting", where, pfSays(a.k, termBuffer))
				case s.Phase == driver.ConnectedActive && delivery != "":
					j.fail(s.taken(), "%s: %s loses a publish only with its connection", where, pfSays(a.k, termDelivery))
				default:
					info = append(info, where+" ("+pfSays(a.k, termBuffer)+"; "+pfSays(a.k, termDelivery)+")")
				}
			case fateUnknown:
				if s.Reply == nil {
					j.unknown(s.Op.T, "%s: the send op at %s got no reply", who, dur(s.Op.T))
				} else {
					j.unknown(s.taken(), "%s: send n=%d, taken at %s while %s on session %q, never reached a server, and nothing in the history explains it (its connection was not seen to end, no later send arrived on it)",
						who, s.N, dur(s.taken()), s.Phase, s.Held)
				}
			}
		}
		for _, carrier := range carriers {
			ls := lost[carrier]
			f := ls[0]
			var ns, ts []string
			after := 0
			for _, s := range ls {
				ns = append(ns, fmt.Sprint(s.N))
				ts = append(ts, dur(s.taken()))
				if s.AfterDeath {
					after++
				}
			}
			window := "never detected"
			if f.Detect > 0 {
				window = fmt.Sprintf("detected by the client at %s, %s later", dur(f.Detect), dur(f.Detect-f.Death))
			}
			msg := fmt.Sprintf("%s: %d publish(es) lost in flight on session %q: n=%s taken at %s (%d of them after the connection died at %s (%s) while the client still claimed CONNECTED_ACTIVE; %s)",
				who, len(ls), carrier, strings.Join(ns, ","), strings.Join(ts, ","), after, dur(f.Death), f.DeathBy, window)
			name := fmt.Sprintf("client %d session %q: lost in flight", a.cl, carrier)
			j.ms = append(j.ms, Measurement{Name: name, Value: float64(len(ls)), Unit: "count",
				Evidence: "send replies ok=true with no server receive of their n, before the connection's end (link fault / server conn.close)"})
			if f.Detect > 0 {
				j.ms = append(j.ms, Measurement{Name: fmt.Sprintf("client %d session %q: death → detection", a.cl, carrier), Value: Ms(f.Detect - f.Death), Unit: "ms",
					Evidence: "client state leaving CONNECTED_ACTIVE − " + f.DeathBy, Span: &Span{From: f.Death, To: f.Detect}})
			}
			j.ms = append(j.ms, Measurement{Name: fmt.Sprintf("client %d session %q: lost sends taken", a.cl, carrier), Value: Ms(ls[len(ls)-1].taken() - ls[0].taken()), Unit: "ms",
				Evidence: "last − first lost send's reply", Span: &Span{From: ls[0].taken(), To: ls[len(ls)-1].taken()}})
			last = max(last, f.Detect)
			if delivery == deliveryAtLeastOnce || delivery == deliveryExactlyOnce {
				j.fail(f.Death, "%s, which %s forbids", msg, pfSays(a.k, termDelivery))
			} else {
				info = append(info, msg+": "+pfSays(a.k, termDelivery))
			}
		}
	}
	j.count("sends", nSends, "harness op send")
	for _, f := range []string{fateDelivered, fateBuffered, fateInFlight, fateRefused, fateDiscarded, fateDropped, fateUnknown} {
		j.count(f, counts[f], fateEvidence[f])
	}
	j.count("lost after the silent death", lostAfterDeath, "lost in flight, taken after the link's loss fault (or the server's end) while the client claimed CONNECTED_ACTIVE")
	j.count("duplicates", dups, "server receives of an n already received")
	if counts[fateBuffered] > 0 {
		j.measureMs("buffered: taken → received (max)", bufDelay, "server receive on the new session − send reply ok", "")
		j.measureMs("buffered: new session → received (max)", bufFlush, "server receive − the new session's server handshake", "")
	}
	if nSends == 0 {
		return j.inconclusive(v.end, "nothing to judge: no client sent (no harness op send)")
	}
	taken := nSends - counts[fateRefused] - unanswered(all)
	received := counts[fateDelivered] + counts[fateBuffered]
	if received == 0 && taken > 0 && unnumbered > 0 {
		return j.inconclusive(v.end, "nothing to judge: %d send(s) taken, but the %d receive(s) the servers recorded carry no send number (the driver must publish {\"n\": N, ...})", taken, unnumbered)
	}
	if unnumbered > 0 {
		j.note("%d receive(s) without a send number ignored", unnumbered)
	}
	if j.failed() || len(j.unknowns) > 0 {
		return j.result(last, "")
	}
	summary := c.summary(all, counts, refusals, bufSessions, rescued, len(info) == 0)
	if len(info) > 0 {
		return j.informational(last, list(info)+"; "+summary)
	}
	return j.result(last, "every send accounted for: %s", summary)
}

var fateEvidence = map[string]string{
	fateDelivered: "server receive of n on the session the client held when its library took the send",
	fateBuffered:  "server receive of n on a later session than the one held when taken (taken while recovering, or on a dead connection)",
	fateInFlight:  "no server receive of n; its connection died after (link loss fault, else the server's conn.close)",
	fateRefused:   "harness reply op=send ok=false",
	fateDiscarded: "no server receive of n; taken while recovering, no CONNECTED_ACTIVE after it",
	fateDropped:   "no server receive of n; the connection that carried it lived on, or later sends arrived on it",
	fateUnknown:   "no reply, or no receive and nothing that explains it",
}

// noEvidence is UNKNOWN when the library took sends but no server recorded
// a receive at all: a server kind that cannot tell what a client publishes
// (the real nats-server records no receive) proves nothing either way.
func (c *PublishFate) noEvidence(v *view, all []*pfClient) (Result, bool) {
	taken := 0
	for _, a := range all {
		taken += a.taken()
	}
	if taken == 0 {
		return Result{}, true
	}
	for _, e := range v.h {
		if e.Kind == history.KindReceive {
			return Result{}, true
		}
	}
	var j judge
	j.count("sends taken", taken, "harness reply op=send ok=true")
	return j.inconclusive(v.end, "nothing to judge: the library took %d send(s) but no server recorded a receive (a server kind that cannot record what a client publishes, such as the real nats-server, cannot judge this)", taken), false
}

func unanswered(all []*pfClient) int {
	n := 0
	for _, a := range all {
		for _, s := range a.sends {
			if s.Reply == nil {
				n++
			}
		}
	}
	return n
}

func (a *pfClient) taken() int {
	n := 0
	for _, s := range a.sends {
		if s.N > 0 {
			n++
		}
	}
	return n
}

// summary accounts for the sends; cite: the contract's terms with their
// citations (else their values alone: a finding cited them already).
func (c *PublishFate) summary(all []*pfClient, counts map[string]int, refusals, bufSessions []string, rescued int, cite bool) string {
	parts := []string{fmt.Sprintf("%d delivered on their connection", counts[fateDelivered])}
	if counts[fateBuffered] > 0 {
		b := fmt.Sprintf("%d buffered while reconnecting and received after the reconnect (on %s)", counts[fateBuffered], strings.Join(quoteAll(bufSessions), ", "))
		if rescued > 0 {
			b += fmt.Sprintf(", %d of them taken on the dead connection while the client still claimed CONNECTED_ACTIVE and still unsent when the loss was detected", rescued)
		}
		parts = append(parts, b)
	}
	if counts[fateRefused] > 0 {
		parts = append(parts, fmt.Sprintf("%d refused by the library: %s", counts[fateRefused], list(refusals)))
	}
	s := strings.Join(parts, ", ")
	if len(all) > 0 {
		k := all[0].k
		if cite {
			s += fmt.Sprintf(" (%s; %s)", pfSays(k, termDelivery), pfSays(k, termBuffer))
		} else {
			s += fmt.Sprintf(" (delivery: %s; buffer: %s)", orNot(k.Value(termDelivery)), orNot(k.Value(termBuffer)))
		}
	}
	return s
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// account pairs one client's sends with the servers' receives and gives
// each its fate (nil: the client sent nothing).
func (c *PublishFate) account(v *view, cl int) *pfClient {
	a := &pfClient{cl: cl}
	for _, op := range v.completions()[cl] {
		if op.Op.Op == driver.OpSend {
			a.sends = append(a.sends, &pfSend{Op: op.Op, Reply: op.Reply})
		}
	}
	if len(a.sends) == 0 {
		return nil
	}
	a.k = v.client().contract(cl, a.sends[0].Op.T)
	mine := map[string]bool{}
	for _, s := range v.sessions().of(cl) {
		mine[s] = true
	}
	byN := map[int64][]history.Event{}
	for _, e := range v.h {
		if e.Kind != history.KindReceive || (v.nClients > 1 && !mine[e.Session]) {
			continue
		}
		if e.Seq <= 0 {
			a.unnumbered++
			continue
		}
		byN[e.Seq] = append(byN[e.Seq], e)
	}
	var n int64
	for _, s := range a.sends {
		switch {
		case s.Reply == nil:
			s.Fate = fateUnknown
			continue
		case !s.Reply.OK:
			s.Fate = fateRefused
			continue
		}
		n++
		s.N = n
		if i := v.client().stateAt(cl, s.taken()); i >= 0 {
			st := v.states[cl][i]
			s.Phase, s.Held = st.To, st.Session
		}
		s.Recv = byN[n]
	}
	for k, es := range byN {
		if k > n {
			a.beyond = append(a.beyond, es...)
		}
	}
	sort.Slice(a.beyond, func(i, j int) bool { return a.beyond[i].T < a.beyond[j].T })
	for _, s := range a.sends {
		if s.N > 0 {
			c.fate(v, a, s, byN)
		}
	}
	return a
}

// fate classifies one taken send.
func (c *PublishFate) fate(v *view, a *pfClient, s *pfSend, byN map[int64][]history.Event) {
	held := c.serveAt(v, s.Held, s.taken())
	if len(s.Recv) > 0 {
		if s.Recv[0].Session == s.Held && s.Held != "" && onConn(v, s.Recv[0], held) {
			s.Fate = fateDelivered
		} else {
			s.Fate = fateBuffered
		}
		return
	}
	// Never received: the connection it was written to, or would be
	// flushed into once the client was back.
	switch {
	case s.Phase == driver.ConnectedActive:
		s.Carrier, s.CarrierServe = s.Held, held
	case s.Phase == driver.RecoveringReconnect || s.Phase == driver.Connecting:
		if e, ok := v.client().activeAfter(a.cl, s.taken()); ok {
			s.Carrier, s.CarrierServe = e.Session, c.serveAt(v, e.Session, e.T)
		} else {
			s.Fate = fateDiscarded
			return
		}
	default:
		s.Fate = fateUnknown
		return
	}
	for k, es := range byN {
		if k <= s.N {
			continue
		}
		for _, e := range es {
			if e.Session == s.Carrier && onConn(v, e, s.CarrierServe) {
				s.LaterOnCarrier = true
			}
		}
	}
	death, by, died := c.death(v, s.Carrier, s.CarrierServe)
	switch {
	case died && !s.LaterOnCarrier:
		s.Fate = fateInFlight
		s.Death, s.DeathBy = death, by
		s.AfterDeath = s.Phase == driver.ConnectedActive && s.taken() >= death
		for _, e := range v.states[a.cl] {
			if e.T >= death-v.slack && e.From == driver.ConnectedActive && e.Session == s.Carrier {
				s.Detect = e.T
				break
			}
		}
	case s.LaterOnCarrier || s.Phase != driver.ConnectedActive:
		// A later send arrived on the connection that carried it, or the
		// client was back on a connection that lived on: it was dropped.
		s.Fate = fateDropped
	default:
		s.Fate = fateUnknown
	}
}

// death is when the connection of sess died: the first loss fault on its
// server's link after the server began the session and before its end
// (link evidence: fault.on, from when it was applied), else the server's
// end of the connection (server evidence: conn.close or
// session.disconnect). false: neither is in the history.
func (c *PublishFate) death(v *view, sess string, serve *history.Event) (time.Duration, string, bool) {
	var end history.Event
	found := false
	server := ""
	start := time.Duration(0)
	if serve != nil {
		start, server = serve.T, serve.Server
	} else {
		start, _ = c.sessionStart(v, sess)
	}
	for _, e := range v.bySess[sess] {
		if e.T < start {
			continue // an earlier connection of the same name
		}
		if server == "" {
			server = e.Server
		}
		if e.Kind == history.KindConnClose || e.Kind == history.KindSessionDisconn {
			end, found = e, true
			break
		}
	}
	to := v.end
	if found {
		to = end.T + v.slack
	}
	for _, f := range v.faults {
		if f.Link == server && isLossVerb(f.Verb) && f.began() >= start && f.began() <= to {
			return f.began(), fmt.Sprintf("%s on link %s (link fault.on)", f.Verb, f.Link), true
		}
	}
	if found {
		return end.T, fmt.Sprintf("server %s %s%s", end.Server, end.Kind, reasonText(end)), true
	}
	return 0, "", false
}

// serveAt is the server's start of the connection sess was on at t: its
// latest handshake, session.create or session.resume by t (+ the slack);
// nil when there is none.
func (c *PublishFate) serveAt(v *view, sess string, t time.Duration) *history.Event {
	var out *history.Event
	for i, e := range v.bySess[sess] {
		if e.T > t+v.slack {
			break
		}
		if beginsConn(e) {
			out = &v.bySess[sess][i]
		}
	}
	return out
}

// beginsConn reports a server's record that a connection of a session
// began: its handshake, or the session created or resumed on it.
func beginsConn(e history.Event) bool {
	return e.Kind == history.KindHandshake || e.Kind == history.KindSessionCreate || e.Kind == history.KindSessionResume
}

// onConn reports whether the server's event e happened on the connection
// that serve began (at or after it, and on its Conn where both name one).
func onConn(v *view, e history.Event, serve *history.Event) bool {
	if serve == nil {
		return true
	}
	return e.T >= serve.T-v.slack && (serve.Conn == "" || e.Conn == "" || e.Conn == serve.Conn)
}

// sessionStart is when the server began a session (its handshake or
// session.create).
func (c *PublishFate) sessionStart(v *view, sess string) (time.Duration, bool) {
	for _, e := range v.bySess[sess] {
		if beginsConn(e) {
			return e.T, true
		}
	}
	return 0, false
}

// pfSays is Contract.Says that also speaks for a client whose driver
// declared no contract.
func pfSays(k *Contract, term string) string {
	if k == nil {
		return term + ": not declared (the driver gave no contract)"
	}
	return k.Says(term)
}

func orNot(v string) string {
	if v == "" {
		return "not declared"
	}
	return v
}
