package check

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

func init() {
	Register(Spec{Name: "refusal", Judges: []string{"C1", "R2"}, New: func() Checker { return &Refusal{} }})
}

// The refusal contract term (docs/driver-protocol.md, "The SDK contract"):
// what a library does once a server refused its handshake (an MQTT CONNACK
// with a non-zero return code: bad credentials, not authorised).
const (
	termRefusal = "refusal"
	// retry: a refusal is a failed attempt like any other: the library goes
	// on to the next server of its list, and a reconnection goes on by its
	// schedule, the refusing server included (the first connect still ends
	// where its walk ends, as first_connect says).
	refusalRetry = "retry"
	// next: on to the next server of the list, never the refusing one
	// again: once every server refused, the library gives up.
	refusalNext = "next"
	// ends: the refusal ends the connect or the reconnection at once: no
	// further attempt on any server.
	refusalEnds = "ends"
)

// Refusal judges what a client does after a server refuses its handshake
// (server evidence: a handshake with OK false, its Reason and code, and
// the accepts that follow on the client's servers), against the library's
// own refusal term: with retry, another attempt follows (during the first
// connect, one that reaches a later server of the list); with next, the
// next attempt goes to another server and the refusing one is not tried
// again before a success; with ends, no attempt follows. FAILED when the
// client does otherwise; INFORMATIONAL, with what it did, when the
// contract is silent. Filed under C1 for a first connect over a list (a
// refusal is one way an initial attempt fails), under R2 for a
// reconnection (does the schedule go on?).
type Refusal struct {
	// Settle: a refusal within this long of the history's end is not
	// judged for what followed it (default 3s).
	Settle *time.Duration `yaml:"settle"`
}

// DefaultRefusalSettle is refusal's default settle.
const DefaultRefusalSettle = 3 * time.Second

// Validate checks the parameters.
func (c *Refusal) Validate() error { return nonNegative("settle", or(c.Settle, 0)) }

// NeedsOneClient implements OneClient: the attempts after a refusal are
// the servers' accepts.
func (c *Refusal) NeedsOneClient() string { return oneClientWhy }

// Check implements Checker.
func (c *Refusal) Check(in Input) Result { return onView(in, c, c.check) }

// refusalSeen is one refusal and what followed it.
type refusalSeen struct {
	ev      history.Event   // the server's handshake, OK false
	first   bool            // during the first connect (no CONNECTED_ACTIVE before it)
	after   []history.Event // accepts after it, up to the next success (or the end)
	landed  *history.Event  // the next accepted handshake, if any
	closed  *history.Event  // the client's close after it, if before any later attempt
	tooLate bool            // within settle of the end
}

func (c *Refusal) check(v *view) Result {
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	var j judge
	settle := or(c.Settle, DefaultRefusalSettle)
	const cl = 0
	var seen []refusalSeen
	for _, e := range v.h {
		if e.Kind == history.KindHandshake && !e.OK && v.cServers[e.Server] {
			seen = append(seen, c.follow(v, cl, e, settle))
		}
	}
	j.count("refusals", len(seen), "server handshake ok=false on the client's servers (the refusal's code in its reason)")
	if len(seen) == 0 {
		return j.inconclusive(v.end, "nothing to judge: no server refused a handshake (server handshake ok=false)")
	}
	var info, notes []string
	judged, went := 0, 0
	last := time.Duration(0)
	for i, r := range seen {
		k := refusalContract(v, cl, r.ev.T)
		head, what, at := c.describe(v, r)
		last = max(last, at)
		if len(r.after) > 0 {
			went++
			d := r.after[0].T - r.ev.T
			j.ms = append(j.ms, Measurement{Name: fmt.Sprintf("refusal %d → next attempt", i+1), Value: Ms(d), Unit: "ms",
				Evidence: "server accept after the refusal − server handshake ok=false", Span: &Span{From: r.ev.T, To: r.after[0].T}})
		}
		if r.tooLate {
			notes = append(notes, fmt.Sprintf("the refusal at %s is within settle %s of the end: not judged", dur(r.ev.T), dur(settle)))
			continue
		}
		value := k.Value(termRefusal)
		if value == "" {
			judged++
			info = append(info, what)
			continue
		}
		verdict, why := c.judgeOne(v, r, value)
		switch verdict {
		case "":
			notes = append(notes, what+": "+why)
		case Failed:
			judged++
			j.fail(at, "%s: %s; %s", head, why, k.Says(termRefusal))
		default:
			judged++
		}
	}
	j.count("followed by another attempt", went, "refusals with a later server accept before the next success")
	if judged == 0 {
		return j.inconclusive(last, "nothing to judge: %s", list(notes))
	}
	for _, n := range notes {
		j.note("%s", n)
	}
	if j.failed() {
		return j.result(last, "")
	}
	k := refusalContract(v, cl, seen[0].ev.T)
	if len(info) > 0 {
		return j.informational(last, list(info)+"; not judged: "+k.Says(termRefusal))
	}
	var done []string
	for _, r := range seen {
		if !r.tooLate {
			_, w, _ := c.describe(v, r)
			done = append(done, w)
		}
	}
	return j.result(last, "%s, as %s says", list(done), k.Says(termRefusal))
}

// follow gathers what the client did after refusal e.
func (c *Refusal) follow(v *view, cl int, e history.Event, settle time.Duration) refusalSeen {
	r := refusalSeen{ev: e, tooLate: e.T > v.end-settle, first: true}
	for _, s := range v.states[cl] {
		if s.T < e.T && s.To == driver.ConnectedActive {
			r.first = false
		}
	}
	for _, h := range v.h {
		if h.T <= e.T || h.Kind != history.KindHandshake || !h.OK || !v.cServers[h.Server] {
			continue
		}
		h := h
		r.landed = &h
		break
	}
	until := v.end
	if r.landed != nil {
		until = r.landed.T
	}
	for _, a := range v.accepts {
		if a.T > e.T && a.T <= until {
			r.after = append(r.after, a)
		}
	}
	if s, ok := v.client().firstStateAfter(cl, e.T, driver.ClosedFailed, driver.ClosedByClient, driver.ClosedByServer); ok && (len(r.after) == 0 || s.T < r.after[0].T) {
		r.closed = &s
	}
	return r
}

// refusalContract is the contract of the connect a refusal at t belongs
// to: the latest connect reply by t, else (a refusal during the first
// connect, answered only once it ends) the first reply after it.
func refusalContract(v *view, cl int, t time.Duration) *Contract {
	if k := v.client().contract(cl, t); k != nil {
		return k
	}
	for _, e := range v.h {
		if e.T > t && e.Kind == history.KindReply && e.Client == cl && e.Op == driver.OpConnect {
			if k, ok := parseContract(e); ok {
				return k
			}
		}
	}
	return nil
}

// laterServers are the servers after s in the client's list.
func laterServers(v *view, s string) []string {
	l := v.sc.Client.Servers
	if i := slices.Index(l, s); i >= 0 {
		return l[i+1:]
	}
	return nil
}

// judgeOne holds one refusal to the contract's value: "" (not judged, why
// says so), OK or FAILED (why says what broke it).
func (c *Refusal) judgeOne(v *view, r refusalSeen, value string) (string, string) {
	s := r.ev.Server
	later := laterServers(v, s)
	again := false
	for _, a := range r.after {
		again = again || a.Server == s
	}
	onLater := false
	for _, a := range r.after {
		onLater = onLater || slices.Contains(later, a.Server)
	}
	switch value {
	case refusalEnds:
		if len(r.after) > 0 {
			a := r.after[0]
			return Failed, fmt.Sprintf("yet the client made another attempt, on %s at %s (server accept %s)", a.Server, dur(a.T), a.Conn)
		}
		return OK, ""
	case refusalNext:
		if again {
			for _, a := range r.after {
				if a.Server == s {
					return Failed, fmt.Sprintf("yet the client tried %s again at %s (server accept %s) before any success", s, dur(a.T), a.Conn)
				}
			}
		}
		if len(later) > 0 && !onLater {
			return Failed, fmt.Sprintf("yet the client never tried the next server of its list (%s)", strings.Join(later, ", "))
		}
		return OK, ""
	case refusalRetry:
		if r.first {
			if len(later) == 0 {
				return "", "the first connect's walk ended with it (" + s + " is the last server of the list): whether to go on is first_connect's"
			}
			if !onLater {
				return Failed, fmt.Sprintf("yet the client never went on to the next server of its list (%s)", strings.Join(later, ", "))
			}
			return OK, ""
		}
		if len(r.after) == 0 {
			if r.closed != nil {
				return Failed, fmt.Sprintf("yet the client closed %s (%s) at %s without another attempt", r.closed.To, r.closed.Reason, dur(r.closed.T))
			}
			return Failed, "yet the client made no other attempt before the end"
		}
		return OK, ""
	}
	return "", fmt.Sprintf("the contract's refusal value %q is none this check knows (retry, next, ends)", value)
}

// describe says what refusal r was (head) and, with it, what followed
// (what), and when that was decided.
func (c *Refusal) describe(v *view, r refusalSeen) (head, what string, at time.Duration) {
	e := r.ev
	why := e.Reason
	if code := e.Attr("code"); code != "" {
		why += ", code " + code
	}
	phase := "during the reconnection"
	if r.first {
		phase = "during the first connect"
	}
	head = fmt.Sprintf("%s refused the handshake on %s at %s (%s) %s", e.Server, e.Conn, dur(e.T), why, phase)
	s := head
	at = e.T
	switch {
	case len(r.after) > 0:
		var tried []string
		for i, a := range r.after {
			if i == 3 {
				tried = append(tried, fmt.Sprintf("… %d in all", len(r.after)))
				break
			}
			tried = append(tried, fmt.Sprintf("%s at %s", a.Server, dur(a.T)))
		}
		s += fmt.Sprintf("; the client went on: %s", strings.Join(tried, ", "))
		at = r.after[0].T
		if r.landed != nil {
			s += fmt.Sprintf("; accepted by %s at %s", r.landed.Server, dur(r.landed.T))
			at = r.landed.T
		}
	case r.closed != nil:
		s += fmt.Sprintf("; no other attempt: the client closed %s (%s) at %s", r.closed.To, r.closed.Reason, dur(r.closed.T))
		at = r.closed.T
	default:
		s += "; no other attempt before the end"
	}
	return head, s, at
}
