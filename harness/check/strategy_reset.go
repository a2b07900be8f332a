package check

import (
	"fmt"
	"time"
)

func init() {
	Register(Spec{Name: "strategy_reset", Judges: []string{"R9"}, New: func() Checker { return &StrategyReset{} }})
}

// StrategyReset judges R9: after a successful reconnect the strategy starts
// again from its first delay: each later outage's attempts follow Delay(0),
// Delay(1), … rather than continuing the earlier count.
type StrategyReset struct {
	// Tolerance is the absolute slack on each delay (default 30ms).
	Tolerance *time.Duration `yaml:"tolerance"`
	// TolerancePct adds this percentage of the expected delay (default 10).
	TolerancePct *float64 `yaml:"tolerance_pct"`
}

// Validate checks the parameters.
func (c *StrategyReset) Validate() error {
	if err := nonNegative("tolerance", or(c.Tolerance, 0)); err != nil {
		return err
	}
	if pct := or(c.TolerancePct, 0); pct < 0 {
		return fmt.Errorf("tolerance_pct must not be negative (got %g)", pct)
	}
	return nil
}

// NeedsOneClient implements OneClient: attempts are judged from server-side
// accepts, which cannot be attributed to one of several clients.
func (c *StrategyReset) NeedsOneClient() string { return oneClientWhy }

// Check implements Checker.
func (c *StrategyReset) Check(in Input) Result { return onView(in, c, c.check) }

func (c *StrategyReset) check(v *view) Result {
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	st := v.sc.Client.Reconnect.Strategy
	tol := tolerancesOf(c.Tolerance, c.TolerancePct, st)
	var j judge
	var info []string // not reset, where the contract does not promise it
	judged, withAttempts, outCount := 0, 0, 0
	last := time.Duration(0)
	for _, cl := range v.clients {
		outs := v.outages().of(cl)
		outCount += len(outs)
		earlier := 0 // attempts since the first loss: where an un-reset strategy would be
		for i, o := range outs {
			atts := o.Attempts(v)
			if len(atts) > 0 {
				withAttempts++
			}
			if i > 0 && outs[i-1].Recovered() && len(atts) > 0 {
				judged++
				slots, d, _ := v.outages().schedule(o, atts, tol)
				ct := v.client().contract(cl, o.Start.T)
				for _, s := range slots {
					if s.K == 0 {
						j.measureMs(fmt.Sprintf("outage %d: first delay", o.N), s.Measured, s.Evidence(),
							fmt.Sprintf("%s; un-reset continuation Delay(%d) %s", s.ExpectedText(), earlier, dur(d.Delay(earlier))))
						j.ms[len(j.ms)-1].Bounds = s.Bounds() // reports draw it against the band
					}
					switch {
					case s.OK:
					case !promisesReset(ct):
						info = append(info, fmt.Sprintf("%s attempt %d came %s after %s at %s, not %s as a reset strategy would: %s",
							o, s.K, dur(s.Measured), s.OriginWhat, dur(s.Origin), s.expectedBand(), ct.Says(termReset)))
					default:
						j.fail(s.Attempt.Accept.T, "strategy not reset: %s attempt %d came %s after %s at %s, expected %s (%s); an un-reset strategy would continue with Delay(%d) %s after the %d earlier attempt(s)",
							o, s.K, dur(s.Measured), s.OriginWhat, dur(s.Origin), s.expectedBand(), s.tol.describe(s.Expected),
							earlier+s.K, dur(d.Delay(earlier+s.K)), earlier)
					}
					last = s.Attempt.Accept.T
				}
			}
			earlier += len(atts)
		}
	}
	if withAttempts < 2 || judged == 0 {
		return j.inconclusive(v.end, "nothing to judge: needs ≥ 2 outages that each had ≥ 1 attempt seen by the servers, the later after a successful recovery (seen: %d outage(s), %d with attempts, %d after a recovery)", outCount, withAttempts, judged)
	}
	if !j.failed() && len(info) > 0 {
		return j.informational(last, "the library does not promise a reset on success, and did not reset: "+list(info))
	}
	return j.result(last, "%d outage(s) after a recovery started again from Delay(0)", judged)
}

// promisesReset: a library promises a reset on success unless its
// effective contract says otherwise (faultline's own engines declare none:
// the requirement R9 itself).
func promisesReset(ct *Contract) bool {
	v := ct.Value(termReset)
	return v == "" || v == "on_success"
}
