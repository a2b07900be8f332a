package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// maxSlotMeasurements caps the per-attempt measurements of a result.
const maxSlotMeasurements = 12

func init() {
	Register(Spec{Name: "backoff_schedule", Judges: []string{"R2"}, New: func() Checker { return &BackoffSchedule{} }})
}

// BackoffSchedule judges R2: the reconnection attempts the servers see follow
// the strategy's delays, and a strategy with a limit aborts after it.
type BackoffSchedule struct {
	// Tolerance is the absolute slack on each delay (default 30ms).
	Tolerance *time.Duration `yaml:"tolerance"`
	// TolerancePct adds this percentage of the expected delay (default 10).
	TolerancePct *float64 `yaml:"tolerance_pct"`
	// Abort expects the strategy to abort after strategy.attempts attempts.
	Abort bool `yaml:"abort"`
	// MinAttempts is how many attempts one outage must show to judge the
	// schedule at all (default 2).
	MinAttempts *int `yaml:"min_attempts"`
}

// Validate checks the parameters.
func (c *BackoffSchedule) Validate() error {
	if err := nonNegative("tolerance", or(c.Tolerance, 0)); err != nil {
		return err
	}
	if pct := or(c.TolerancePct, 0); pct < 0 {
		return fmt.Errorf("tolerance_pct must not be negative (got %g)", pct)
	}
	if n := or(c.MinAttempts, 2); n < 1 {
		return fmt.Errorf("min_attempts must be at least 1 (got %d): a schedule is judged on attempts", n)
	}
	return nil
}

func (c *BackoffSchedule) minAttempts() int {
	return or(c.MinAttempts, 2)
}

// NeedsOneClient implements OneClient: attempts are judged from server-side
// accepts, which cannot be attributed to one of several clients.
func (c *BackoffSchedule) NeedsOneClient() string { return oneClientWhy }

// Check implements Checker.
func (c *BackoffSchedule) Check(in Input) Result { return onView(in, c, c.check) }

func (c *BackoffSchedule) check(v *view) Result {
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	st := v.sc.Client.Reconnect.Strategy
	tol := tolerancesOf(c.Tolerance, c.TolerancePct, st)
	var j judge
	var outs []outage
	for _, cl := range v.clients {
		outs = append(outs, v.outages().of(cl)...)
	}
	if len(outs) == 0 {
		return Inconclusive(v.end, nil, "nothing to judge: the client never entered RECOVERING_RECONNECT (no outage)")
	}
	total, most, listed := 0, 0, 0
	var maxDev time.Duration
	last := time.Duration(0)
	var perPass *passPlan // the first per-pass plan (nil: judged per attempt)
	from := ""            // the first outage's contract-derived back-off ("": the scenario's)
	passes := 0
	for _, o := range outs {
		atts := o.Attempts(v)
		total += len(atts)
		if len(atts) > most {
			most = len(atts)
		}
		if st.Attempts > 0 && len(atts) > st.Attempts {
			j.fail(atts[st.Attempts].Accept.T, "%s made %d attempts (server accepts), more than strategy.attempts %d: attempt %d at %s", o, len(atts), st.Attempts, st.Attempts, dur(atts[st.Attempts].Accept.T))
		}
		slots, d, pp := v.outages().schedule(o, atts, tol)
		if d.From != "" && from == "" {
			from = d.From
		}
		if pp != nil { // the library's contract: one sleep per pass over the pool
			if perPass == nil {
				perPass = pp
			}
			if len(slots) > 0 { // pass 0 is empty when a sleep precedes the first attempt
				n := slots[len(slots)-1].Pass
				if slots[0].Pass == 0 {
					n++
				}
				passes = max(passes, n)
			}
		}
		for _, s := range slots {
			if listed < maxSlotMeasurements {
				name := fmt.Sprintf("outage %d attempt %d delay", o.N, s.K)
				if s.PerPass {
					name = fmt.Sprintf("outage %d attempt %d (pass %d) delay", o.N, s.K, s.Pass)
				}
				j.measureMs(name, s.Measured, s.Evidence(), s.ExpectedText())
				j.ms[len(j.ms)-1].Bounds = s.Bounds() // reports draw it against the band
				listed++
			}
			if s.Dev > maxDev {
				maxDev = s.Dev
			}
			if !s.OK {
				j.fail(s.Attempt.Accept.T, "%s", s.Detail())
			}
			last = s.Attempt.Accept.T
		}
	}
	if perPass == nil {
		j.measureMs("max error", maxDev, "largest deviation of a measured delay outside [(1−jitter)·Delay(k), Delay(k)]", "")
	} else {
		j.measureMs("max error", maxDev, "largest deviation of a measured delay outside its pass's band (0 within a pass, [(1−jitter)·sleep, sleep] before the attempt that wraps round the pool)", "")
	}
	j.count("attempts", total, "server accept on client.servers during RECOVERING_RECONNECT")
	if from != "" && perPass == nil {
		j.note("judged against the library's back-off: %s", from)
	}
	if perPass != nil {
		j.count("passes", passes, "the most passes in one outage: "+perPass.Says())
		j.note("%s", perPass.Says())
	}
	if most < c.minAttempts() {
		hint := ""
		for _, f := range v.faults {
			if f.Verb == VerbDown {
				hint = " (a `down` link refuses attempts before any server sees them: judge schedules under cut, reset or blackhole)"
			}
		}
		j.fail(v.end, "only %d attempt(s) seen by the servers in any one outage, fewer than min_attempts %d%s", most, c.minAttempts(), hint)
	}
	if c.Abort {
		c.judgeAbort(v, &j, outs, st.Attempts)
	}
	return j.result(last, "%d attempt(s) over %d outage(s) followed the schedule (max deviation %s)", total, len(outs), dur(maxDev))
}

// judgeAbort expects the first outage that ended in a close to have made
// exactly strategy.attempts attempts, closed CLOSED_FAILED reconnect_aborted,
// and been followed by no server accept.
func (c *BackoffSchedule) judgeAbort(v *view, j *judge, outs []outage, limit int) {
	if limit <= 0 {
		j.fail(0, "abort: true but strategy.attempts is 0 (the strategy never aborts)")
		return
	}
	var closed *outage
	for i := range outs {
		if outs[i].Closed() {
			closed = &outs[i]
			break
		}
	}
	if closed == nil {
		o := outs[len(outs)-1]
		j.fail(o.Until(v), "expected the strategy to abort after %d attempts, but %s %s", limit, o, o.Ending(v))
		return
	}
	o := *closed
	n := len(o.Attempts(v))
	j.count("attempts before abort", n, "server accept on client.servers from RECOVERING_RECONNECT to the close")
	if n != limit {
		j.fail(o.End.T, "aborted after %d attempt(s) seen by the servers, expected exactly strategy.attempts %d; %s %s", n, limit, o, o.Ending(v))
	}
	if o.End.To != driver.ClosedFailed || o.End.Reason != driver.ReasonReconnectAborted {
		j.fail(o.End.T, "expected CLOSED_FAILED (reconnect_aborted) after %d attempts, but %s %s", limit, o, o.Ending(v))
	}
	// + stampSlack (acceptsAfter adds the lag): the last attempt's accept
	// may be stamped just after the close (view.go, outage.Attempts).
	after := v.outages().acceptsAfter(o.End.T + stampSlack)
	j.count("attempts after abort", len(after), "server accept on client.servers after the client's close + the stamp slack")
	if len(after) > 0 {
		j.fail(after[0].T, "attempts continuing after abort: %d server accept(s) after the close at %s (%s)", len(after), dur(o.End.T), describeAccepts(after))
	}
}
