package check

import (
	"fmt"
	"strings"
	"time"
)

// Defaults of backoff_interop_band: gRPC's interop test's numbers
// (kJitterFactor 0.2 either side, kTransmissionDelay 100 ms).
const (
	DefaultInteropLowFactor  = 0.8
	DefaultInteropHighFactor = 1.2
	DefaultInteropSlack      = 100 * time.Millisecond
	DefaultInteropMinGaps    = 1
)

// maxInteropRows caps the gaps a detail lists per run.
const maxInteropRows = 16

func init() {
	Register(Spec{Name: "backoff_interop_band", Judges: []string{"R2"}, New: func() Checker { return &BackoffInteropBand{} }})
}

// BackoffInteropBand judges R2 by gRPC's own pass criterion for its
// connection back-off: the reconnect interop test (grpc/grpc
// test/cpp/interop/reconnect_interop_server.cc ReconnectServiceImpl::Verify,
// doc/connection-backoff-interop-test-description.md). Its server accepts
// every connection and closes it at once, stamps each accept, and passes a
// client when every gap between consecutive accepts lies within
// [expected·0.8 − 100 ms, expected·1.2 + 100 ms], expected starting at
// 1000 ms and multiplied by 1.6 per gap up to the maximum back-off.
//
// Here a gap is accept to accept within one run (attempt_runs.go: a
// client's attempts on one server in one outage, or in a first connect
// whose client's contract gives its back-off), each accept the link's where
// recorded, else the server's. Expected is the nominal wait before the
// later attempt: the contract's initial_ms × multiplier^n capped at max_ms
// (with first_attempt: immediate gap 1 expects initial_ms, as the interop
// test does; after a delay, it expects the second wait), else the scenario's
// strategy. The factors come from the jitter law in force, the
// contract's (symmetric j: 1 − j and 1 + j, gRPC's 0.2 giving the test's
// 0.8 and 1.2; below: 1 − j and 1; added: 1 and 1 + j), else the strategy's
// (below) when it declares jitter, else the test's 0.8 and 1.2; low_factor
// and high_factor override them. Accept to accept includes the failed
// attempt's own duration, which the slack covers for fast failures (the
// interop server's accept-and-close, faultline's reset or a server's
// accept_then_close); a blackholed attempt lasts its connect timeout
// (connect_timeout judges that). Each band widens by any machine stall
// inside the gap and the run's evidence lag. A library whose contract says
// delay_applies: per_pass over more than one server has no per-attempt
// schedule to hold to this band: backoff_schedule judges it (over one
// server a pass is one attempt, and the band holds).
type BackoffInteropBand struct {
	// LowFactor scales expected to the band's lower end (default: from the
	// jitter law in force, else 0.8).
	LowFactor *float64 `yaml:"low_factor"`
	// HighFactor scales expected to the band's upper end (default: from the
	// jitter law in force, else 1.2).
	HighFactor *float64 `yaml:"high_factor"`
	// Slack widens the band on both sides (default 100ms: the interop
	// test's kTransmissionDelay).
	Slack *time.Duration `yaml:"slack"`
	// MinGaps is how many gaps one run must show to be judged (default 1).
	MinGaps *int `yaml:"min_gaps"`
}

// Validate checks the parameters.
func (c *BackoffInteropBand) Validate() error {
	if err := nonNegative("slack", or(c.Slack, 0)); err != nil {
		return err
	}
	lo, hi := or(c.LowFactor, 0), or(c.HighFactor, 0)
	if lo < 0 || hi < 0 {
		return fmt.Errorf("low_factor and high_factor must not be negative (got %g, %g)", lo, hi)
	}
	if c.LowFactor != nil && c.HighFactor != nil && lo > hi {
		return fmt.Errorf("low_factor %g is above high_factor %g", lo, hi)
	}
	if n := or(c.MinGaps, DefaultInteropMinGaps); n < 1 {
		return fmt.Errorf("min_gaps must be at least 1 (got %d)", n)
	}
	return nil
}

// NeedsOneClient implements OneClient: gaps are measured between
// server-side accepts, which cannot be attributed to one of several clients.
func (c *BackoffInteropBand) NeedsOneClient() string { return oneClientWhy }

// Check implements Checker.
func (c *BackoffInteropBand) Check(in Input) Result { return onView(in, c, c.check) }

// interopGap is one gap of a run against its band.
type interopGap struct {
	N                int // 1-based, as the interop test counts
	Prev, Next       attempt
	Measured         time.Duration
	Expected, Lo, Hi time.Duration
	Stall            time.Duration
	OK               bool
}

func (g interopGap) row() string {
	s := fmt.Sprintf("gap %d: expected %s band [%s, %s] measured %s", g.N, secs(g.Expected), secs(g.Lo), secs(g.Hi), secs(g.Measured))
	if g.Stall > 0 {
		s += " (band + stall " + secs(g.Stall) + ")"
	}
	if !g.OK {
		s += " OUTSIDE"
	}
	return s
}

// factors are the band's factors for a run's law, and where they come from.
func (c *BackoffInteropBand) factors(l runLaw) (lo, hi float64, from string) {
	switch {
	case !l.Declared:
		lo, hi, from = DefaultInteropLowFactor, DefaultInteropHighFactor, "the interop test's 0.8 and 1.2 (no jitter declared)"
	case l.Law.Kind == jitterSymmetric:
		lo, hi = 1-l.Law.J, 1+l.Law.J
	case l.Law.Kind == jitterAdded:
		lo, hi = 1, 1+l.Law.J
	case l.Law.Kind == jitterBelow:
		lo, hi = 1-l.Law.J, 1
	default: // none
		lo, hi = 1, 1
	}
	if from == "" {
		src := "the scenario's strategy"
		if l.Contract {
			src = "the client's effective contract"
		}
		from = fmt.Sprintf("jitter %s %g of %s", l.Law.Kind, l.Law.J, src)
	}
	if c.LowFactor != nil {
		lo, from = *c.LowFactor, "low_factor, high_factor as set"
	}
	if c.HighFactor != nil {
		hi, from = *c.HighFactor, "low_factor, high_factor as set"
	}
	return lo, hi, from
}

func (c *BackoffInteropBand) check(v *view) Result {
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	slack := or(c.Slack, DefaultInteropSlack)
	minGaps := or(c.MinGaps, DefaultInteropMinGaps)
	var j judge
	var tables, outside []string
	judged, total, bad := 0, 0, 0
	last := time.Duration(0)
	bandText, basis := "", ""
	perPass := 0
	for _, r := range v.attemptRuns(true) {
		if r.Outage == nil {
			if _, ok := sleepLawOf(r.Ct); !ok {
				continue // a first connect follows a back-off only by a contract that says so
			}
		}
		if r.Ct.Value(termDelayApplies) == "per_pass" && len(v.sc.Client.Servers) > 1 {
			perPass++ // with one server a pass is one attempt: the per-attempt band holds
			continue
		}
		if len(r.Attempts)-1 < minGaps {
			continue
		}
		law := v.lawOfRun(r)
		flo, fhi, ffrom := c.factors(law)
		if bandText == "" {
			bandText = fmt.Sprintf("[expected·%g − %s, expected·%g + %s]", flo, secs(slack), fhi, secs(slack))
			basis = fmt.Sprintf(" (factors: %s; expected: %s)", ffrom, law.From)
		}
		judged++
		var rows []string
		for k := 1; k < len(r.Attempts); k++ {
			prev, next := r.Attempts[k-1], r.Attempts[k]
			g := interopGap{N: k, Prev: prev, Next: next, Measured: next.at() - prev.at(), Expected: law.Nominal(k - 1)}
			g.Stall = v.stalled(prev.at(), next.at())
			widen := slack + g.Stall + v.lag
			g.Lo = time.Duration(float64(g.Expected)*flo) - widen
			g.Hi = time.Duration(float64(g.Expected)*fhi) + widen
			g.OK = g.Measured >= g.Lo && g.Measured <= g.Hi
			total++
			last = max(last, next.at())
			if !g.OK {
				bad++
				outside = append(outside, fmt.Sprintf("%s %s (%s − %s)", r.What, g.row(), next.evidence(), prev.evidence()))
				if bad == 1 {
					j.fail(next.at(), "first gap outside")
				}
			}
			if len(rows) < maxInteropRows {
				rows = append(rows, g.row())
			} else if len(rows) == maxInteropRows {
				rows = append(rows, fmt.Sprintf("… %d more gap(s)", len(r.Attempts)-1-maxInteropRows))
			}
			if total <= maxSlotMeasurements {
				j.measureMs(fmt.Sprintf("%s gap %d", r.What, k), g.Measured,
					fmt.Sprintf("%s at %s − %s at %s (accept to accept)", acceptWhat(next), dur(next.at()), acceptWhat(prev), dur(prev.at())),
					fmt.Sprintf("expected %s within [%s, %s]%s", dur(g.Expected), dur(g.Lo), dur(g.Hi), stallNote(g.Stall)))
				j.ms[len(j.ms)-1].Bounds = &Bounds{Expected: Ms(g.Expected), Lo: Ms(g.Lo), Hi: Ms(g.Hi)}
			}
		}
		tables = append(tables, r.What+": "+strings.Join(rows, "; "))
	}
	j.count("gaps", total, "accept to accept between consecutive attempts of one run (link accept, else server accept)")
	if judged == 0 {
		why := fmt.Sprintf("no outage (or first connect under a back-off contract) showed %d gap(s) between attempts on one server", minGaps)
		if perPass > 0 {
			why += fmt.Sprintf("; %d run(s) under delay_applies: per_pass, which backoff_schedule judges", perPass)
		}
		return j.inconclusive(v.end, "nothing to judge: %s", why)
	}
	table := strings.Join(tables, " | ")
	r := j.result(last, "")
	if bad > 0 {
		r.Detail = fmt.Sprintf("%d of %d gap(s) outside gRPC's interop band %s: %s. All gaps: %s%s", bad, total, bandText, list(outside), table, basis)
		return r
	}
	r.Detail = fmt.Sprintf("%d gap(s) in %d run(s) within gRPC's interop band %s: %s%s", total, judged, bandText, table, basis)
	return r
}

// acceptWhat names the record an attempt's time is taken from.
func acceptWhat(a attempt) string {
	if a.Link != nil {
		return "link accept of " + a.conn()
	}
	return "server accept " + a.conn()
}
