package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

func init() {
	Register(Spec{Name: "lame_duck", Judges: []string{"M1"}, New: func() Checker { return &LameDuck{} }})
}

// A server's notice that it is going away is the neutral going_away
// (harness/history/EVENTS.md; NATS records it for lame duck mode, gRPC for
// GOAWAY), and the end of a session it closed at the end of its grace is a
// session.disconnect with reason going_away.
const (
	kindGoingAway    = history.KindGoingAway
	reasonGoingAway  = history.DisconnGoingAway
	reasonClientGone = history.DisconnTransport // the client left, or its link went away
)

// The contract term a library declares for a server's "going away" notice
// (docs/driver-protocol.md, "The SDK contract").
const (
	lameDuckMoves    = "reconnect"
	lameDuckNotifies = "notify"
)

// LameDuck judges M1: when a server asks its clients to move (the neutral
// going_away: a NATS server in lame duck mode stops accepting, sends each
// client INFO ldm, and closes whoever is still there after a grace; a gRPC
// server sends a connection GOAWAY), a client whose library moves
// on the notice moves: it lands on a new session on another server before
// the server closes its connection. M1 is the rule this speaks to (a server
// asks the client to move; the client moves); M2's handoff window is
// measured in its spirit (notice → landing, and the time without a
// connection), though NATS has no session to carry: the landing is a new
// session (its scope is the connection, conn_sessions.go), not a resume.
//
// Who is judged comes from the servers: every session the server in lame
// duck mode had created and not ended when it recorded going_away (the
// notice; one naming a connection concerns only that connection's session), owned by the client whose states name it. The landing is the
// client's first CONNECTED_ACTIVE after the notice on another session, held
// against that session's server session.create: it must be another server's
// (after a notice to one connection, a GOAWAY, another connection of the
// same server will do), created after the notice; a claim no server backs
// is FAILED. The old
// session's end is the server's session.disconnect: reason going_away
// means the server closed it at the end of its grace, transport that the
// client left (its conn_reason attribute gives the pack's words).
//
// The library is judged against its own effective contract (the connect
// reply's lame_duck term, Contract.Says in the detail): where it says
// reconnect (the library, or its driver through the public API, moves on
// the notice) the client must land elsewhere before the server's close, OK
// with the handoff measured, FAILED when it stayed until the server closed
// it or never landed elsewhere. Where it says notify, none or nothing, the
// library does not move on its own: INFORMATIONAL with what happened
// measured (notice → the server's close → the landing, the outage) and the
// term cited, never OK. A client whose old connection ended for another
// cause (a loss fault on its link, the server killed) is not judged; with no
// server in lame duck mode, or no client on it, the check is UNKNOWN.
type LameDuck struct{}

// Check implements Checker.
func (c *LameDuck) Check(in Input) Result { return onView(in, c, c.check) }

// ldCase is one client on one server in lame duck mode.
type ldCase struct {
	Client  int
	Server  string
	Session string
	Notice  history.Event // the server's going_away
	// End is the server's record of the old connection's end (nil: it never
	// ended); Why its NATS reason.
	End *history.Event
	Why string
	// Claim is the client's first CONNECTED_ACTIVE on another session after
	// the notice; Create the server session.create backing it.
	Claim  *history.Event
	Create *history.Event
	// Contract is the client's effective contract at the notice.
	Contract *Contract
}

func (k ldCase) String() string {
	return fmt.Sprintf("client %d on %s (session %q, %s notice at %s)", k.Client, k.Server, k.Session, noticeName(k.Notice), dur(k.Notice.T))
}

// noticeName names a going_away notice in its protocol's words.
func noticeName(n history.Event) string {
	switch w := n.Attr("notice"); w {
	case "lame_duck":
		return "lame duck"
	case "goaway":
		return "GOAWAY"
	case "":
		return "going-away"
	default:
		return w
	}
}

// says cites the contract's lame_duck term (Contract.Says, which does not
// take a nil contract: a driver that declared none).
func (k ldCase) says() string {
	if k.Contract == nil {
		return termLameDuck + ": not declared (the driver gave no contract)"
	}
	return k.Contract.Says(termLameDuck)
}

// moves reports whether the contract says the library moves on the notice.
func (k ldCase) moves() bool { return k.Contract.Value(termLameDuck) == lameDuckMoves }

// closedByServer reports whether the server closed the old connection at
// the end of its grace.
func (k ldCase) closedByServer() bool { return k.End != nil && k.Why == reasonGoingAway }

// landedFirst reports whether the landing came before the old connection's
// end (make before break).
func (k ldCase) landedFirst() bool {
	return k.Create != nil && (k.End == nil || k.Create.T < k.End.T)
}

// outage is the time without a connection: from the old connection's end
// to the landing's create, 0 when the landing came first.
func (k ldCase) outage() time.Duration {
	if k.Create == nil || k.End == nil || k.landedFirst() {
		return 0
	}
	return k.Create.T - k.End.T
}

func (c *LameDuck) check(v *view) Result {
	var j judge
	var notices []history.Event
	for _, e := range v.h {
		if e.Source == history.SrcServer && e.Kind == kindGoingAway {
			notices = append(notices, e)
		}
	}
	if len(notices) == 0 {
		return j.inconclusive(v.end, "nothing to judge: no server said it was going away (no server going_away in the history: NATS lame duck mode, gRPC GOAWAY)")
	}
	var cases []ldCase
	for _, n := range notices {
		found := c.casesOn(v, &j, n)
		if len(found) == 0 {
			j.note("no client was connected to %s at its %s notice at %s", n.Server, noticeName(n), dur(n.T))
		}
		cases = append(cases, found...)
	}
	judged, informed, moved := 0, 0, 0
	last := time.Duration(0)
	var handoff, outage time.Duration // the longest of the clients that moved
	var mover ldCase                  // one of them: its contract's term is cited
	var infos []string
	listed := len(cases) <= maxListed
	for i := range cases {
		if !c.backed(v, &j, &cases[i]) {
			continue
		}
		k := cases[i]
		if why := c.interfered(v, k); why != "" {
			j.note("%s not judged: %s", k, why)
			continue
		}
		if listed {
			c.measure(&j, k)
		}
		if k.Create != nil {
			last = max(last, k.Create.T)
		} else if k.End != nil {
			last = max(last, k.End.T)
		}
		if !k.moves() {
			informed++
			infos = append(infos, c.story(k))
			continue
		}
		judged++
		switch {
		case k.Create == nil:
			j.fail(c.failAt(v, k), "%s: %s says it moves on the notice, but it never landed on another server: %s; %s",
				k, k.says(), c.oldEnd(k), v.client().lastStateText(k.Client))
		case k.closedByServer() && !k.landedFirst():
			j.fail(k.End.T, "%s: %s says it moves on the notice, but it stayed until %s closed its connection (%s) at %s, %s after the notice; it landed on %s (session %q) only at %s",
				k, k.says(), k.Server, k.endText(), dur(k.End.T), dur(k.End.T-k.Notice.T), k.Create.Server, k.Create.Session, dur(k.Create.T))
		default:
			moved++
			mover = k
			handoff, outage = max(handoff, k.Create.T-k.Notice.T), max(outage, k.outage())
		}
	}
	c.summarise(&j, cases)
	if j.failed() {
		return j.result(last, "")
	}
	if judged == 0 && informed == 0 {
		return j.inconclusive(v.end, "nothing to judge: %d client(s) on a server in lame duck mode, none judged", len(cases))
	}
	if judged == 0 {
		return j.informational(last, "the library does not move on a lame duck notice by its own contract, so M1 is not asked of it: "+list(infos)+notesOf(&j))
	}
	detail := fmt.Sprintf("%d client(s) moved on the lame duck notice (%s%s) to a new session on another server before the server's close: handoff (notice → landing) at most %s, at most %s without a connection",
		moved, mover.says(), driverAddsText(mover.Contract), dur(handoff), dur(outage))
	if informed > 0 {
		detail += fmt.Sprintf("; %d by their contract do not move on the notice (informational): %s", informed, list(infos))
	}
	return j.result(last, "%s", detail)
}

// casesOn finds the clients connected to n's server when it entered lame
// duck mode: the sessions it created and had not ended by the notice.
func (c *LameDuck) casesOn(v *view, j *judge, n history.Event) []ldCase {
	var out []ldCase
	for _, e := range v.h {
		if e.T > n.T {
			break
		}
		if e.Kind != history.KindSessionCreate || e.Server != n.Server || e.Session == "" ||
			(n.Conn != "" && e.Conn != n.Conn) {
			continue
		}
		k := ldCase{Server: n.Server, Session: e.Session, Notice: n}
		ended := false
		for _, s := range v.bySess[e.Session] {
			if s.Server != n.Server {
				continue
			}
			if s.Kind == history.KindConnClose || s.Kind == history.KindSessionDisconn ||
				s.Kind == history.KindSessionExpire || s.Kind == history.KindSessionClose {
				if s.T < n.T {
					ended = true
					break
				}
			}
		}
		if ended {
			continue
		}
		k.End, k.Why = sessEnd(v, e.Session, n)
		k.Client = v.sessions().owner(e.Session)
		if k.Client < 0 {
			j.note("session %q on %s, open at the lame duck notice, was named by no client", e.Session, n.Server)
			continue
		}
		k.Contract = v.client().contract(k.Client, n.T)
		k.Claim = landingClaim(v, k)
		out = append(out, k)
	}
	return out
}

// sessEnd is the server's record of the end of sess's connection at or after
// the notice, and why in the neutral words (harness/history/EVENTS.md): its
// session.disconnect (going_away, transport, idle, …), else its
// session.close ("closed: " + reason), else its conn.close ("conn.close " +
// the pack's reason: a server kind that maps no session.disconnect).
func sessEnd(v *view, sess string, n history.Event) (*history.Event, string) {
	var closed *history.Event
	why := ""
	for _, s := range v.bySess[sess] {
		if s.T < n.T || s.Server != n.Server {
			continue
		}
		s := s
		switch s.Kind {
		case history.KindSessionDisconn:
			return &s, s.Reason
		case history.KindSessionClose:
			if closed == nil {
				closed, why = &s, "closed: "+s.Reason
			}
		case history.KindConnClose:
			if closed == nil {
				closed, why = &s, "conn.close "+s.Reason
			}
		}
	}
	return closed, why
}

// endText names the old connection's end for a detail: the neutral reason,
// and the server's own words for it when it gave them.
func (k ldCase) endText() string {
	if r := k.End.Attr(history.AttrConnReason); r != "" && r != k.Why {
		return k.Why + ": " + r
	}
	return k.Why
}

// landingClaim is the client's first CONNECTED_ACTIVE after the notice that
// names another session than the one it had on the server.
func landingClaim(v *view, k ldCase) *history.Event {
	for _, e := range v.states[k.Client] {
		if e.T > k.Notice.T && e.To == driver.ConnectedActive && e.Session != "" && e.Session != k.Session {
			e := e
			return &e
		}
	}
	return nil
}

// backed holds the client's landing claim against the servers' record and
// fills k.Create: the claimed session must be one a server created after the
// notice, another server than the one in lame duck mode. It reports false
// when the claim failed (the case is judged no further).
func (c *LameDuck) backed(v *view, j *judge, k *ldCase) bool {
	if k.Claim == nil {
		return true
	}
	var create *history.Event
	for _, e := range v.bySess[k.Claim.Session] {
		if e.Kind == history.KindSessionCreate {
			e := e
			create = &e
			break
		}
	}
	cl := k.Claim
	switch {
	case create == nil:
		j.fail(cl.T, "%s: the client claims CONNECTED_ACTIVE on %s in session %q at %s, which no server created (no server session.create)",
			k, cl.Server, cl.Session, dur(cl.T))
		return false
	case create.Server == k.Server && k.Notice.Conn == "":
		// A server-wide notice (lame duck mode) means the server is going:
		// landing on it again is no move. A notice to one connection (a
		// GOAWAY) lets the client come back to the same server on another.
		j.fail(cl.T, "%s: the client's new session %q at %s is on %s itself, the server in lame duck mode", k, cl.Session, dur(cl.T), k.Server)
		return false
	case create.Server == k.Server && create.Conn == k.Notice.Conn:
		j.fail(cl.T, "%s: the client's new session %q at %s is on the very connection the %s notice went to (%s)", k, cl.Session, dur(cl.T), noticeName(k.Notice), k.Notice.Conn)
		return false
	case create.T < k.Notice.T-v.slack:
		j.fail(cl.T, "%s: the client claims CONNECTED_ACTIVE in session %q at %s, which %s created at %s, before the notice: not a landing",
			k, cl.Session, dur(cl.T), create.Server, dur(create.T))
		return false
	case cl.Server != "" && cl.Server != create.Server:
		j.fail(cl.T, "%s: the client claims CONNECTED_ACTIVE on %s in session %q at %s, but %s created that session",
			k, cl.Server, cl.Session, dur(cl.T), create.Server)
		return false
	}
	k.Create = create
	return true
}

// interfered says why the old connection's end is not the library's doing
// (a loss fault on the server's link, the server killed or closing it for
// another cause), "" when it is.
func (c *LameDuck) interfered(v *view, k ldCase) string {
	if k.End == nil || k.Why == reasonGoingAway || (k.Create != nil && k.Create.T < k.End.T) {
		return ""
	}
	if k.Why != reasonClientGone {
		return fmt.Sprintf("its connection to %s ended at %s for another cause than the server's going away (%s)", k.Server, dur(k.End.T), k.endText())
	}
	if v.lossOnLink(k.Server, k.End.T) {
		f, _ := v.lossFaultBefore(k.Server, k.End.T)
		return fmt.Sprintf("its connection to %s ended at %s with a loss fault in force (%s): the server cannot tell the client's leaving from the fault", k.Server, dur(k.End.T), f)
	}
	return ""
}

// failAt is where a case that never landed failed: the old connection's
// end, else the run's end.
func (c *LameDuck) failAt(v *view, k ldCase) time.Duration {
	if k.End != nil {
		return k.End.T
	}
	return v.end
}

// oldEnd describes the old connection's end for a detail.
func (c *LameDuck) oldEnd(k ldCase) string {
	switch {
	case k.End == nil:
		return fmt.Sprintf("its connection to %s never ended", k.Server)
	case k.Why == reasonGoingAway:
		return fmt.Sprintf("%s closed its connection (%s) at %s, %s after the notice", k.Server, k.endText(), dur(k.End.T), dur(k.End.T-k.Notice.T))
	default:
		return fmt.Sprintf("its connection to %s ended (%s) at %s, %s after the notice", k.Server, k.endText(), dur(k.End.T), dur(k.End.T-k.Notice.T))
	}
}

// story tells what happened to a client whose library does not move on the
// notice, with the term cited.
func (c *LameDuck) story(k ldCase) string {
	s := fmt.Sprintf("%s: %s; %s", k, k.says(), c.oldEnd(k))
	if k.Create == nil {
		return s + "; it never landed on another server"
	}
	s += fmt.Sprintf("; it landed on %s (session %q) at %s, %s after the notice", k.Create.Server, k.Create.Session, dur(k.Create.T), dur(k.Create.T-k.Notice.T))
	if k.End != nil && !k.landedFirst() {
		s += fmt.Sprintf(", %s without a connection", dur(k.outage()))
	}
	return s
}

// measure records one case's windows, drawn where they happened.
func (c *LameDuck) measure(j *judge, k ldCase) {
	who := fmt.Sprintf("client %d on %s: ", k.Client, k.Server)
	if k.End != nil {
		name, ev := "notice → left", "server "+k.Server+" "+k.End.Kind+" ("+k.endText()+") − server going_away"
		if k.Why == reasonGoingAway {
			name = "notice → server close"
		}
		j.measureSpan(who+name, k.Notice.T, k.End.T, ev, "")
	}
	if k.Create == nil {
		return
	}
	expected := ""
	if k.moves() {
		expected = "before the server's close"
		if g, ok := attrMs(k.Notice, "grace_ms"); ok {
			expected += " (grace " + dur(g) + ")"
		}
	}
	j.measureSpan(who+"handoff (notice → landing)", k.Notice.T, k.Create.T,
		"server "+k.Create.Server+" session.create − server "+k.Server+" going_away", expected)
	ev := "server " + k.Create.Server + " session.create − server " + k.Server + " session.disconnect (0: landed before it)"
	if k.End == nil {
		ev = "the old connection never ended (0)"
	}
	if o := k.outage(); o > 0 {
		j.measureSpan(who+"without a connection", k.End.T, k.Create.T, ev, "")
	} else {
		j.measureMs(who+"without a connection", 0, ev, "")
	}
}

// summarise counts the cases and, when they are too many to list, gives the
// longest windows.
func (c *LameDuck) summarise(j *judge, cases []ldCase) {
	j.count("clients on a server in lame duck mode", len(cases), "server session.create, not ended at the server's going_away")
	left, closed := 0, 0
	var worstHandoff, worstOutage time.Duration
	for _, k := range cases {
		switch {
		case k.closedByServer():
			closed++
		case k.End != nil:
			left++
		}
		if k.Create != nil {
			worstHandoff = max(worstHandoff, k.Create.T-k.Notice.T)
			worstOutage = max(worstOutage, k.outage())
		}
	}
	j.count("left before the server's close", left, "server session.disconnect with another reason than going_away (transport: the client closed it)")
	j.count("closed by the server (going_away)", closed, "server session.disconnect reason going_away")
	if len(cases) > maxListed {
		j.measureMs("handoff max (notice → landing)", worstHandoff, "server session.create − server going_away", "")
		j.measureMs("without a connection max", worstOutage, "server session.create − server session.disconnect", "")
	}
}

// driverAddsText names what the driver adds for lame duck mode, if anything.
func driverAddsText(k *Contract) string {
	if k == nil {
		return ""
	}
	var out []string
	for _, a := range k.DriverAdds {
		if strings.Contains(strings.ToLower(a.What+" "+a.Why), "lame") {
			out = append(out, a.What)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "; added by the driver: " + strings.Join(out, ", ")
}

// notesOf renders the judge's notes as result() does.
func notesOf(j *judge) string {
	if len(j.notes) == 0 {
		return ""
	}
	return " (" + strings.Join(j.notes, "; ") + ")"
}
