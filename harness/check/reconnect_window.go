package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "reconnect_window", Judges: []string{"R4"}, New: func() Checker { return &ReconnectWindow{} }})
}

// ReconnectWindow judges R4: from a link's heal to the server resuming the
// session of a client that was recovering towards it takes no longer than the
// strategy's next scheduled attempt plus tolerance (or an explicit bound).
// Where the server keeps nothing past a connection (session.create scope connection: core NATS),
// the client is back when a server creates the new session it names. The
// client's CONNECTED_ACTIVE is held against the server's record: a claim out
// of step with it beyond the stamps' slack is NON-STRICT.
type ReconnectWindow struct {
	// Within is an explicit bound on the window (unset: derived from the schedule).
	Within *time.Duration `yaml:"within"`
	// Tolerance is added to the derived bound (default 50ms).
	Tolerance *time.Duration `yaml:"tolerance"`
}

// Validate checks the parameters.
func (c *ReconnectWindow) Validate() error {
	if err := nonNegative("within", or(c.Within, 0)); err != nil {
		return err
	}
	return nonNegative("tolerance", or(c.Tolerance, 0))
}

func (c *ReconnectWindow) tolerance() time.Duration { return or(c.Tolerance, DefaultLossTolerance) }

// NeedsOneClient implements OneClient: without within, the bound is derived
// from attempts the servers saw, which cannot be attributed to one of several
// clients.
func (c *ReconnectWindow) NeedsOneClient() string {
	if c.Within == nil {
		return oneClientWhy + " to derive the bound from the schedule (or give within)"
	}
	return ""
}

// ValidateFor implements scenario.ScenarioValidator: check measures from the
// heals of loss faults only (heals, faults.go) and, with none, has nothing
// to judge.
func (c *ReconnectWindow) ValidateFor(sc *scenario.Scenario) error {
	if !hasLossFault(sc) {
		return errNoLossFault
	}
	return nil
}

// Check implements Checker.
func (c *ReconnectWindow) Check(in Input) Result { return onView(in, c, c.check) }

func (c *ReconnectWindow) check(v *view) Result {
	if c.Within == nil {
		if r, ok := v.needOneClient(); !ok {
			r.Detail += " to derive the bound from the schedule (or give within)"
			return r
		}
	}
	var j judge
	judged := 0
	last := time.Duration(0)
	var gap *claimGap // the widest client-vs-server gap
	freshN := 0       // heals judged on a new session (scope connection)
	for _, f := range v.heals() {
		heal := f.Off.T
		for _, cl := range v.clients {
			var o *outage
			for _, oo := range v.outages().of(cl) {
				if oo.Start.T <= heal-v.slack && (oo.End == nil || oo.End.T > heal-v.slack) {
					oo := oo
					o = &oo
				}
			}
			if o == nil || o.Server(v) != f.Link {
				continue
			}
			judged++
			sess := o.Session()
			name := fmt.Sprintf("client %d heal at %s (%s)", cl, dur(heal), f)
			var bound time.Duration
			var how, boundEv string
			if c.Within != nil {
				bound, how, boundEv = *c.Within, "within "+dur(*c.Within), "the check's within parameter"
			} else {
				boundEv = "derived from the strategy and the attempts the servers saw"
				due, derived := v.outages().nextDue(*o, heal, f.Verb)
				next := due - heal
				if next < 0 {
					next = 0
				}
				bound = next + c.tolerance()
				how = fmt.Sprintf("next scheduled attempt %s + tolerance %s; %s", dur(next), dur(c.tolerance()), derived)
			}
			j.measureMs(name+": bound", bound, boundEv, how)
			res, resOK := v.sessions().firstSessEvent(sess, heal-v.slack, history.KindSessionResume)
			back, fresh := "session.resume", v.sessions().endsWithConn(sess)
			if fresh { // conn_sessions.go: back on a new session, the one the client names
				freshN++
				back, resOK = "session.create", false
				// (The new session may bear the old one's name: an MQTT
				// broker names a clean session by its client id.)
				if o.Recovered() && o.End.Session != "" {
					res, resOK = v.sessions().firstSessEvent(o.End.Session, heal-v.slack, history.KindSessionCreate)
				} else if !o.Recovered() {
					if cr, ok := v.createdOn(f.Link, heal-v.slack); ok {
						j.fail(cr.T, "client %d: server %s created session %q at %s after the heal at %s, but the client never reported CONNECTED_ACTIVE (it %s)", cl, cr.Server, cr.Session, dur(cr.T), dur(heal), o.Ending(v))
						continue
					}
				}
			}
			if resOK && o.End != nil && driver.IsClosed(o.End.To) && res.T > o.End.T {
				resOK = false
			}
			if !resOK {
				if fresh {
					j.fail(heal, "client %d: no server session.create of the new session the client named after the heal at %s (%s; session %q was its connection (scope connection)); the client %s", cl, dur(heal), f, sess, o.Ending(v))
					continue
				}
				j.fail(heal, "client %d: no server session.resume of %q after the heal at %s (%s); the client %s", cl, sess, dur(heal), f, o.Ending(v))
				continue
			}
			window := res.T - heal
			stall := v.stalled(heal, res.T)
			how += stallNote(stall)
			j.measureSpan(name+": window", heal, res.T, fmt.Sprintf("server %s %s − link fault.off", res.Server, back), "≤ "+dur(bound+stall))
			j.measureStall(name, stall)
			if res.T > last {
				last = res.T
			}
			if o.Recovered() {
				j.measureSpan(name+": window_client", heal, o.End.T, "client CONNECTED_ACTIVE − link fault.off (client-reported)", "")
				near := res
				if !fresh {
					near = v.sessions().resumeNear(sess, res, o.End.T)
				}
				g := v.sessions().claimGap(cl, o.End.T, near.T, near.Server)
				gap = widest(gap, g)
				if g.OutOfStep() {
					j.warn(max(g.Claim, g.Evidence), "client %d: %s", cl, g.describe(fmt.Sprintf("client %d CONNECTED_ACTIVE", cl), "server "+near.Server+" "+back))
				}
			} else {
				j.fail(res.T, "client %d: the server resumed %q at %s after the heal at %s, but the client never reported CONNECTED_ACTIVE (it %s)", cl, sess, dur(res.T), dur(heal), o.Ending(v))
			}
			if window > bound+stall {
				j.fail(res.T, "client %d: reconnect window %s > bound %s (%s); heal at %s, %s at %s", cl, dur(window), dur(bound), how, dur(heal), strings.TrimPrefix(back, "session."), dur(res.T))
			}
		}
	}
	j.measureClaimGap("client claim gap (widest)", gap, "client CONNECTED_ACTIVE − server session.resume")
	if judged == 0 {
		return j.inconclusive(v.end, "nothing to judge: no loss fault was healed while a client was RECOVERING_RECONNECT towards its link")
	}
	if freshN > 0 {
		return j.result(last, "%d heal(s): each client back within its bound (%d on a new session: their sessions are their connections)", judged, freshN)
	}
	return j.result(last, "%d heal(s): each session resumed within its bound", judged)
}
