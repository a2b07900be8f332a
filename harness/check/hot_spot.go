package check

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "hot_spot", Judges: []string{"F3"}, New: func() Checker { return &HotSpot{} }})
}

// Hot-spot defaults: nats.go's TestHotSpotReconnect allows each server 40 %
// off its share; the margin must leave a fair shuffle a false-FAIL
// probability of at most 1e-4.
const (
	DefaultHotSpotMargin       = 0.4
	DefaultHotSpotMaxFalseFail = 1e-4
)

// HotSpot judges F3 in the spirit of nats.go's TestHotSpotReconnect: after
// a server is lost, no other server takes more than its fair share of the
// failovers plus a stated margin. Samples are verified landings, as for
// shuffle_uniform. The checker also computes the probability that a fair
// shuffle breaks the bound (union bound over the candidates of the exact
// binomial tail) and FAILS a margin too tight to be a fair test.
type HotSpot struct {
	// Margin is the fraction of the share a server may exceed it by
	// (default 0.4): at most ⌊N/k · (1 + margin)⌋ landings each.
	Margin *float64 `yaml:"margin"`
	// MaxFalseFail bounds the probability that a fair shuffle FAILS the
	// check (default 1e-4).
	MaxFalseFail *float64 `yaml:"max_false_fail"`
}

// Validate checks the parameters.
func (c *HotSpot) Validate() error {
	if m := or(c.Margin, DefaultHotSpotMargin); m < 0 {
		return fmt.Errorf("margin must not be negative (got %g)", m)
	}
	if ff := or(c.MaxFalseFail, DefaultHotSpotMaxFalseFail); ff < 0 || ff >= 1 {
		return fmt.Errorf("max_false_fail must be in [0, 1) (got %g)", ff)
	}
	return nil
}

// ValidateFor implements scenario.ScenarioValidator: check FAILS a scenario
// without autofailover outright.
func (c *HotSpot) ValidateFor(sc *scenario.Scenario) error {
	if !sc.Client.Failover.Auto {
		return errors.New("it judges where failovers land, and client.failover.auto is off")
	}
	return nil
}

// Check implements Checker.
func (c *HotSpot) Check(in Input) Result { return onView(in, c, c.check) }

func (c *HotSpot) check(v *view) Result {
	if !v.sc.Client.Failover.Auto {
		return Fail(0, nil, "the scenario has failover.auto off: hot_spot judges where failovers land")
	}
	margin, maxFF := or(c.Margin, DefaultHotSpotMargin), or(c.MaxFalseFail, DefaultHotSpotMaxFalseFail)
	var j judge
	groups := v.sessions().landingGroups(&j, walkFailover)
	if len(groups) == 0 || len(groups[0].Candidates) < 2 {
		return j.inconclusive(v.end, "nothing to judge: no verified failover landings over two or more candidates%s", failText(j))
	}
	g := groups[0]
	if g.N < 5*len(g.Candidates) {
		return j.inconclusive(v.end, "nothing to judge: too few samples: %d verified failover landing(s) from %s over %d servers, need at least %d%s", g.N, g.Lost, len(g.Candidates), 5*len(g.Candidates), failText(j))
	}
	if len(groups) > 1 {
		j.note("judged the largest group (%d failovers from %s); %d smaller group(s) not judged", g.N, g.Lost, len(groups)-1)
	}
	k := len(g.Candidates)
	share := float64(g.N) / float64(k)
	bound := int(math.Floor(share * (1 + margin)))
	falseFail := math.Min(1, float64(k)*BinomialSF(g.N, 1/float64(k), bound+1))
	ev := "server session.create matched to the client's CONNECTED_ACTIVE by session id"
	most, hot := 0, ""
	var counts []string
	for i, s := range g.Candidates {
		n := g.Counts[i]
		j.measure("landed on "+s, float64(n), "count", ev, fmt.Sprintf("≤ %d (share %.1f + %g%%)", bound, share, margin*100))
		counts = append(counts, fmt.Sprintf("%s %d", s, n))
		if n > most {
			most, hot = n, s
		}
	}
	j.measure("largest share", float64(most)/share, "×share", ev+", over N/k", fmt.Sprintf("≤ %.2f", 1+margin))
	j.measure("false-FAIL probability", falseFail, "", fmt.Sprintf("k · P(Binomial(%d, 1/%d) > %d), exact tail: a fair shuffle failing this check", g.N, k, bound), fmt.Sprintf("≤ %.3g", maxFF))
	if falseFail > maxFF {
		j.fail(g.Last, "margin %g is too tight for %d samples over %d servers: a fair shuffle would exceed %d on some server with probability %.3g > max_false_fail %.3g (raise the margin or the clients)",
			margin, g.N, k, bound, falseFail, maxFF)
	}
	for i, s := range g.Candidates {
		if g.Counts[i] > bound {
			j.fail(g.Last, "hot spot: %s took %d of %d failovers from %s, more than its share %.1f + %g%% = %d (%s)", s, g.Counts[i], g.N, g.Lost, share, margin*100, bound, strings.Join(counts, ", "))
		}
	}
	return j.result(max(g.Last, time.Duration(0)), "no hot spot after losing %s: %s; the largest, %s, within share %.1f + %g%% = %d", g.Lost, strings.Join(counts, ", "), hot, share, margin*100, bound)
}
