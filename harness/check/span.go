package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// measureSpan records a window from one event at from to another at to: its
// length in ms, and the interval itself, so that a timeline draws it where
// it happened (not ending where the check decided).
func (j *judge) measureSpan(name string, from, to time.Duration, evidence, expected string) {
	j.measureMs(name, to-from, evidence, expected)
	j.ms[len(j.ms)-1].Span = &Span{From: from, To: to}
}

// claimGap is a client's report of an instant held against the servers'
// record of the same instant (the server's answer that the client's report
// follows from). Gap is claim − evidence: negative, the client claimed it
// first. Two observers' stamps of one instant may differ by the view's slack
// (stampSlack + evidence lag) plus the time the machine stood still between
// them; a late claim may also trail by the delay the server's link put on
// its answer (a slow fault towards the client, in force when it was sent).
// With many clients a late claim may also trail by what the client's driver
// process added to the report: the run queue of cores shared by many
// clients delays it without the scheduler probe seeing a stall, so it gets
// the lag its process's probes measured around it (probe.go: the longest
// wait between probe answers, at least the largest round trip).
type claimGap struct {
	Claim, Evidence time.Duration
	Gap             time.Duration
	Slack, Stall    time.Duration
	Link            time.Duration // the link's delay of the server's answer
	LinkHow         string
	Probe           time.Duration // the driver process's lag (many clients only)
	ProbeHow        string
	// Unjudged says why a late claim is not judged ("": it is): a delay the
	// history cannot bound (a throttle or a slice towards the client), or
	// many clients sharing the machine's cores with too few lag probes of the
	// client's driver process near the claim to bound what its run queue
	// added. An early claim is always judged: no delay makes a report
	// precede its cause.
	Unjudged string
}

// claimGap compares client c's claim with the evidence server's record.
func (v *sessionView) claimGap(c int, claim, evidence time.Duration, server string) claimGap {
	g := claimGap{Claim: claim, Evidence: evidence, Gap: claim - evidence, Slack: v.slack,
		Stall: v.stalled(min(claim, evidence), max(claim, evidence))}
	var how []string
	for _, f := range v.faults {
		if f.Link != server || !f.inForce(evidence) || !towardsClient(f) {
			continue
		}
		switch f.Verb {
		case VerbSlow:
			lat, _ := attrMs(f.On, "latency")
			jit, _ := attrMs(f.On, "jitter")
			// The toxic holds each chunk on a timer, which may fire up to the
			// scheduler probe's threshold late with no stall recorded (measured:
			// 0.8 ms beyond slack + latency in a -race soak run).
			g.Link += lat + jit + history.StallThreshold
			how = append(how, fmt.Sprintf("slow %s ± %s on link %s, + %s its timer may fire late unrecorded",
				dur(lat), dur(jit), server, dur(history.StallThreshold)))
		case VerbThrottle, VerbSlice:
			g.Unjudged = fmt.Sprintf("a %s on link %s delays the server's answer by what it queues", f.Verb, server)
		}
	}
	g.LinkHow = strings.Join(how, ", ")
	if v.nClients > 1 && g.Unjudged == "" {
		from, to := evidence-probeNear, claim+probeNear
		if lag, n, how := v.probeLag(c, from, to); n >= 2 {
			g.Probe, g.ProbeHow = lag, how
		} else {
			g.Unjudged = fmt.Sprintf("%d clients share the machine's cores, whose run queue delays a report unseen by the scheduler probe, "+
				"and fewer than two lag probes of client %d's driver process came back in [%s, %s] to bound it", v.nClients, c, dur(from), dur(to))
		}
	}
	return g
}

// towardsClient reports whether a fault acts on the server → client stream.
func towardsClient(f faultSpan) bool {
	d := f.On.Attr("direction")
	return d == "" || d == "both" || d == "downstream"
}

// lateBy is how late the claim may trail the evidence.
func (g claimGap) lateBy() time.Duration { return g.Slack + g.Stall + g.Link + g.Probe }

// earlyBy is how far the claim may precede the evidence.
func (g claimGap) earlyBy() time.Duration { return g.Slack + g.Stall }

// OutOfStep reports whether the claim disagrees with the evidence: early
// beyond earlyBy, or late beyond lateBy when a late claim is judged.
func (g claimGap) OutOfStep() bool {
	return -g.Gap > g.earlyBy() || (g.Unjudged == "" && g.Gap > g.lateBy())
}

// describe names both stamps, the gap and the slack, for a NON-STRICT detail.
func (g claimGap) describe(claim, evidence string) string {
	side, extra := "late", ""
	if g.Gap < 0 {
		side = "early"
	} else {
		if g.Link > 0 {
			extra = fmt.Sprintf(" + link %s (%s)", dur(g.Link), g.LinkHow)
		}
		if g.ProbeHow != "" {
			extra += fmt.Sprintf(" + driver lag %s (%s)", dur(g.Probe), g.ProbeHow)
		}
	}
	return fmt.Sprintf("%s at %s, %s at %s: gap %s > slack %s%s%s (the client's claim is %s)",
		claim, dur(g.Claim), evidence, dur(g.Evidence), dur(g.Gap.Abs()), dur(g.Slack), extra, stallNote(g.Stall), side)
}

// widest keeps the gap of largest magnitude, for a summary measurement.
func widest(a *claimGap, b claimGap) *claimGap {
	if a == nil || b.Gap.Abs() > a.Gap.Abs() {
		return &b
	}
	return a
}

// measureClaimGap records the widest client-vs-server gap of a check.
func (j *judge) measureClaimGap(name string, g *claimGap, evidence string) {
	if g == nil {
		return
	}
	exp := fmt.Sprintf("early ≤ %s", dur(g.earlyBy()))
	if g.Unjudged == "" {
		probe := ""
		if g.ProbeHow != "" {
			probe = fmt.Sprintf(" + driver lag probe %s: %s", dur(g.Probe), g.ProbeHow)
		}
		exp += fmt.Sprintf(", late ≤ %s (stamp slack + evidence lag + stall + link delay%s)", dur(g.lateBy()), probe)
	} else {
		exp += "; late measured only: " + g.Unjudged
	}
	j.measureMs(name, g.Gap, evidence, exp)
}
