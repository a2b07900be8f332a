package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

func init() {
	Register(Spec{Name: "reconnect_timeout", Judges: []string{"R5"}, New: func() Checker { return &ReconnectTimeout{} }})
}

// ReconnectTimeout judges R5: the reconnection timeout is one overall timer
// from the loss; when it passes the session closes CLOSED_FAILED
// (reconnect_timeout) and no further attempt reaches a server.
type ReconnectTimeout struct {
	// Tolerance on the close time and on attempts in flight (default 100ms).
	Tolerance *time.Duration `yaml:"tolerance"`
}

// DefaultTimingTolerance is reconnect_timeout's and retention_expiry's default tolerance.
const DefaultTimingTolerance = 100 * time.Millisecond

// Validate checks the parameters.
func (c *ReconnectTimeout) Validate() error { return nonNegative("tolerance", or(c.Tolerance, 0)) }

func (c *ReconnectTimeout) tolerance() time.Duration {
	return or(c.Tolerance, DefaultTimingTolerance)
}

// NeedsOneClient implements OneClient: attempts are judged from server-side
// accepts, which cannot be attributed to one of several clients.
func (c *ReconnectTimeout) NeedsOneClient() string { return oneClientWhy }

// Check implements Checker.
func (c *ReconnectTimeout) Check(in Input) Result { return onView(in, c, c.check) }

func (c *ReconnectTimeout) check(v *view) Result {
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	tol := c.tolerance()
	rt := v.sc.Client.ReconnectTimeout()
	var j judge
	var outs []outage
	for _, cl := range v.clients {
		outs = append(outs, v.outages().of(cl)...)
	}
	if len(outs) == 0 {
		return Inconclusive(v.end, nil, "nothing to judge: the client never entered RECOVERING_RECONNECT, so the session never timed out")
	}
	judged := 0
	last := time.Duration(0)
	for _, o := range outs {
		if !o.Closed() || o.End.To != driver.ClosedFailed || o.End.Reason != driver.ReasonReconnectTimeout {
			continue
		}
		judged++
		elapsed := o.End.T - o.Start.T
		last = o.End.T
		stall := v.stalled(o.Start.T, o.End.T) // a timer held up by the machine fires late, never early
		j.measureMs(fmt.Sprintf("outage %d: elapsed", o.N), elapsed, "client CLOSED_FAILED (reconnect_timeout) − client RECOVERING_RECONNECT (client-reported)",
			fmt.Sprintf("%s ± %s%s", dur(rt), dur(tol), stallNote(stall)))
		j.measureStall(fmt.Sprintf("outage %d", o.N), stall)
		if f, ok := v.lossFaultBefore(o.Server(v), o.Start.T+v.slack); ok {
			j.measureMs(fmt.Sprintf("outage %d: close after fault", o.N), o.End.T-f.On.T, "client CLOSED_FAILED − link fault.on", "")
		}
		switch {
		case elapsed > rt+tol+stall:
			j.fail(o.End.T, "%s closed (reconnect_timeout) %s after the loss at %s, later than the reconnect timeout %s + tolerance %s%s (one overall timer from the first loss; a late close suggests a per-attempt timer)", o, dur(elapsed), dur(o.Start.T), dur(rt), dur(tol), stallNote(stall))
		case elapsed < rt-tol:
			j.fail(o.End.T, "%s closed (reconnect_timeout) %s after the loss at %s, earlier than the reconnect timeout %s − tolerance %s", o, dur(elapsed), dur(o.Start.T), dur(rt), dur(tol))
		}
		after := v.outages().acceptsAfter(o.End.T + tol)
		j.count(fmt.Sprintf("outage %d: attempts after close", o.N), len(after), fmt.Sprintf("server accept on client.servers after the close + tolerance %s", dur(tol)))
		if len(after) > 0 {
			j.fail(after[0].T, "%d attempt(s) after the timeout close at %s (+ tolerance %s): server accept %s", len(after), dur(o.End.T), dur(tol), describeAccepts(after))
		}
	}
	if judged == 0 {
		o := outs[len(outs)-1]
		return Fail(o.Until(v), j.ms, "the session never timed out: %s %s (reconnect timeout %s), not CLOSED_FAILED (reconnect_timeout)", o, o.Ending(v), dur(rt))
	}
	return j.result(last, "%d outage(s) closed by the reconnect timeout %s ± %s with no attempt after", judged, dur(rt), dur(tol))
}
