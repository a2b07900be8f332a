package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "retention_expiry", Judges: []string{"R6"}, New: func() Checker { return &RetentionExpiry{} }})
}

// RetentionExpiry judges R6: the server keeps a disconnected session for the
// granted retention, min(requested, server maximum); a later resume is
// refused as unknown and the client closes (unknown_session) without looping.
type RetentionExpiry struct {
	// Tolerance on the expiry time and on attempts in flight (default 100ms).
	Tolerance *time.Duration `yaml:"tolerance"`
}

// Validate checks the parameters.
func (c *RetentionExpiry) Validate() error { return nonNegative("tolerance", or(c.Tolerance, 0)) }

func (c *RetentionExpiry) tolerance() time.Duration {
	return or(c.Tolerance, DefaultTimingTolerance)
}

// NeedsOneClient implements OneClient: attempts are judged from server-side
// accepts, which cannot be attributed to one of several clients.
func (c *RetentionExpiry) NeedsOneClient() string { return oneClientWhy }

// Check implements Checker.
func (c *RetentionExpiry) Check(in Input) Result { return onView(in, c, c.check) }

func (c *RetentionExpiry) check(v *view) Result {
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	tol := c.tolerance()
	expires := v.h.Kind(history.KindSessionExpire)
	if len(expires) == 0 {
		return Inconclusive(v.end, nil, "nothing to judge: no server expired a session (no session.expire)")
	}
	var j judge
	last := time.Duration(0)
	for _, ex := range expires {
		sess := ex.Session
		create, ok := v.sessions().firstSessEvent(sess, 0, history.KindSessionCreate)
		if !ok {
			j.fail(ex.T, "server %s expired session %q at %s, but no session.create was recorded for it", ex.Server, sess, dur(ex.T))
			continue
		}
		srv := v.server(create.Server)
		want := scenario.GrantedRetention(v.sc.Client, srv)
		wantHow := fmt.Sprintf("min(requested %s, server max %s)", dur(v.sc.Client.RequestedRetention()), dur(srv.MaxRetention()))
		if !v.sc.Client.Reconnect.Enabled {
			want, wantHow = 0, "nothing: the client opted out of reconnection"
		}
		granted, ok := attrMs(create, "retention_ms")
		if !ok {
			granted, ok = attrMs(create, "retention")
		}
		if !ok {
			j.fail(create.T, "server %s created session %q at %s without a retention_ms attribute", create.Server, sess, dur(create.T))
			continue
		}
		j.measureMs(fmt.Sprintf("session %q: granted retention", sess), granted, "server session.create retention_ms", fmt.Sprintf("%s = %s", dur(want), wantHow))
		if d := granted - want; d > time.Millisecond || d < -time.Millisecond {
			j.fail(create.T, "server %s granted retention %s to session %q at %s, expected %s = %s", create.Server, dur(granted), sess, dur(create.T), wantHow, dur(want))
		}
		var disc *history.Event
		for _, e := range v.sessions().sessEvents(sess, history.KindSessionDisconn, 0, ex.T) {
			e := e
			disc = &e
		}
		if disc == nil {
			j.fail(ex.T, "server %s expired session %q at %s without a session.disconnect before it", ex.Server, sess, dur(ex.T))
			continue
		}
		held := ex.T - disc.T
		stall := v.stalled(disc.T, ex.T) // the server's expiry timer fires late, never early, when the machine stalls
		j.measureMs(fmt.Sprintf("session %q: held", sess), held, "server session.expire − server session.disconnect", fmt.Sprintf("%s ± %s%s", dur(granted), dur(tol), stallNote(stall)))
		j.measureStall(fmt.Sprintf("session %q", sess), stall)
		switch {
		case held > granted+tol+stall:
			j.fail(ex.T, "expiry late: session %q expired at %s, %s after its disconnect at %s; expected the granted retention %s ± %s", sess, dur(ex.T), dur(held), dur(disc.T), dur(granted), dur(tol))
		case held < granted-tol:
			j.fail(ex.T, "expiry early: session %q expired at %s, %s after its disconnect at %s; expected the granted retention %s ± %s", sess, dur(ex.T), dur(held), dur(disc.T), dur(granted), dur(tol))
		}
		if res := v.sessions().sessEvents(sess, history.KindSessionResume, ex.T, v.end); len(res) > 0 {
			j.fail(res[0].T, "server %s resumed session %q at %s after expiring it at %s", res[0].Server, sess, dur(res[0].T), dur(ex.T))
		}
		unk, ok := v.sessions().firstSessEvent(sess, ex.T, history.KindSessionUnknown)
		if !ok {
			j.fail(ex.T, "no later resume of session %q got session.unknown after its expiry at %s (the client never tried to resume it)", sess, dur(ex.T))
			continue
		}
		last = unk.T
		cl := v.sessions().owner(sess)
		if cl < 0 {
			j.fail(unk.T, "no client reported session %q", sess)
			continue
		}
		closed, ok := v.client().firstStateAfter(cl, unk.T-v.slack, driver.ClosedByClient, driver.ClosedByServer, driver.ClosedFailed)
		switch {
		case !ok:
			j.fail(unk.T, "client %d got session.unknown for %q at %s but never closed (%s)", cl, sess, dur(unk.T), v.client().lastStateText(cl))
		case closed.To != driver.ClosedFailed || closed.Reason != driver.ReasonUnknownSession:
			j.fail(closed.T, "client %d closed %s%s at %s after session.unknown at %s, expected CLOSED_FAILED (unknown_session)", cl, closed.To, reasonText(closed), dur(closed.T), dur(unk.T))
		default:
			j.measureMs(fmt.Sprintf("session %q: close after unknown", sess), closed.T-unk.T, "client CLOSED_FAILED (unknown_session) − server session.unknown", "")
			last = closed.T
		}
		after := v.outages().acceptsAfter(unk.T + tol)
		j.count(fmt.Sprintf("session %q: attempts after unknown", sess), len(after), fmt.Sprintf("server accept on client.servers after session.unknown + tolerance %s", dur(tol)))
		if len(after) > 0 {
			j.fail(after[0].T, "client %d loops after unknown_session: %d server accept(s) after the session.unknown at %s (+ tolerance %s): %s", cl, len(after), dur(unk.T), dur(tol), describeAccepts(after))
		}
	}
	return j.result(last, "%d session(s) kept for the granted retention, then refused as unknown; the client closed without looping", len(expires))
}
