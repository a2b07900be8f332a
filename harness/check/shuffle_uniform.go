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
	Register(Spec{Name: "shuffle_uniform", Judges: []string{"F3"}, New: func() Checker { return &ShuffleUniform{} }})
}

// ShuffleUniform judges F3: with load balancing, the list is shuffled before
// the next server is chosen, so over many failovers every candidate is
// chosen equally often. A sample is one failover's landing, verified by the
// servers (the session id the client names, created by the server it
// names); its candidates are the list without the lost server and without
// any server that had a fault during the failover. Pearson's chi-square test
// against equal counts, at the scenario's significance alpha: a fair shuffle
// fails with probability alpha. With at: connect the samples are the first
// connections' landings instead (a library that shuffles its list once, at
// connect: nats.go), the candidates every listed server without a fault.
type ShuffleUniform struct {
	// Alpha is the significance: FAILED when the p-value is below it
	// (required, in (0, 0.5]; e.g. 1e-4).
	Alpha float64 `yaml:"alpha"`
	// MinSamples is how many landings the test needs (default: 5 per
	// candidate, the chi-square approximation's rule of thumb).
	MinSamples int `yaml:"min_samples"`
	// At is which shuffle is judged: failover (default: the landings of
	// failovers) or connect (the first connections' landings, for a library
	// that shuffles its list once at connect).
	At string `yaml:"at"`
}

func (c *ShuffleUniform) walk() string {
	if c.At == "connect" {
		return walkCascade
	}
	return walkFailover
}

// Validate checks the parameters.
func (c *ShuffleUniform) Validate() error {
	if !(c.Alpha > 0 && c.Alpha <= 0.5) {
		return fmt.Errorf("alpha is required, in (0, 0.5] (got %g)", c.Alpha)
	}
	if c.MinSamples < 0 {
		return fmt.Errorf("min_samples must not be negative (got %d)", c.MinSamples)
	}
	if c.At != "" && c.At != "failover" && c.At != "connect" {
		return fmt.Errorf("at must be failover or connect (got %q)", c.At)
	}
	return nil
}

// ValidateFor implements scenario.ScenarioValidator: check FAILS a scenario
// whose client does not shuffle the way judged outright.
func (c *ShuffleUniform) ValidateFor(sc *scenario.Scenario) error {
	fo := sc.Client.Failover
	switch {
	case c.walk() == walkCascade && !fo.LoadBalancing:
		return errors.New("at: connect judges the connect shuffle, and client.failover.load_balancing is off")
	case c.walk() == walkFailover && (!fo.Auto || !fo.LoadBalancing):
		return errors.New("it judges the failover shuffle: client.failover.auto and client.failover.load_balancing must both be on")
	}
	return nil
}

// Check implements Checker.
func (c *ShuffleUniform) Check(in Input) Result { return onView(in, c, c.check) }

func (c *ShuffleUniform) check(v *view) Result {
	switch {
	case c.walk() == walkCascade && !v.sc.Client.Failover.LoadBalancing:
		return Fail(0, nil, "the scenario needs failover.load_balancing on: shuffle_uniform at connect judges the connect shuffle")
	case c.walk() == walkFailover && (!v.sc.Client.Failover.Auto || !v.sc.Client.Failover.LoadBalancing):
		return Fail(0, nil, "the scenario needs failover.auto and failover.load_balancing on: shuffle_uniform judges the failover shuffle")
	}
	var j judge
	groups := v.sessions().landingGroups(&j, c.walk())
	need := func(g *landingGroup) int { return max(c.MinSamples, 5*len(g.Candidates)) }
	var tested []*landingGroup
	for _, g := range groups {
		if g.N >= need(g) && len(g.Candidates) >= 2 {
			tested = append(tested, g)
		}
	}
	if len(tested) == 0 {
		most := ""
		if len(groups) > 0 {
			g := groups[0]
			most = fmt.Sprintf("; most: %d failover(s) from %s over [%s], need %d", g.N, g.Lost, strings.Join(g.Candidates, ","), need(g))
		}
		return j.inconclusive(v.end, "nothing to judge: too few samples: no group of failovers with a common candidate set has enough verified landings%s%s", most, failText(j))
	}
	alpha := c.Alpha / float64(len(tested)) // Bonferroni: the run's false-FAIL probability stays ≤ alpha
	if len(tested) > 1 {
		j.note("%d groups tested, each at alpha/%d = %.3g", len(tested), len(tested), alpha)
	}
	var summary []string
	last := time.Duration(0)
	for _, g := range tested {
		stat, df, p := ChiSquare(g.Counts)
		last = max(last, g.Last)
		prefix := ""
		if len(tested) > 1 {
			prefix = fmt.Sprintf("from %s: ", g.Lost)
		}
		ev := "server session.create matched to the client's CONNECTED_ACTIVE by session id, one per " + c.walk()
		j.count(prefix+"samples", g.N, ev)
		exp := float64(g.N) / float64(len(g.Candidates))
		for i, s := range g.Candidates {
			j.measure(prefix+"landed on "+s, float64(g.Counts[i]), "count", ev, fmt.Sprintf("%.1f (N/%d)", exp, len(g.Candidates)))
		}
		j.measure(prefix+"chi-square", stat, "", "Pearson's statistic of the counts against N/k each", fmt.Sprintf("df %d", df))
		j.measure(prefix+"p-value", p, "", fmt.Sprintf("chi-square survival function, df %d (regularized upper incomplete gamma)", df), fmt.Sprintf("≥ alpha %.3g", alpha))
		j.measure(prefix+"alpha", alpha, "", "the scenario's significance: the probability that a fair shuffle FAILS", "")
		counts := make([]string, len(g.Candidates))
		for i, s := range g.Candidates {
			counts[i] = fmt.Sprintf("%s %d", s, g.Counts[i])
		}
		from := "failovers from " + g.Lost
		if g.Lost == "" {
			from = "first connects"
		}
		line := fmt.Sprintf("%d %s: %s; χ² %.2f (df %d), p %.3g", g.N, from, strings.Join(counts, ", "), stat, df, p)
		summary = append(summary, line)
		if p < alpha || math.IsNaN(p) {
			j.fail(g.Last, "not a uniform choice: %s < alpha %.3g (a fair shuffle gets this far from N/%d = %.1f each with probability %.3g)", line, alpha, len(g.Candidates), exp, p)
		}
	}
	return j.result(last, "uniform at alpha %.3g: %s", c.Alpha, strings.Join(summary, "; "))
}
