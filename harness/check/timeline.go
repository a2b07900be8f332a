package check

import (
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// Timeline finds faults the harness could not put in place as the scenario
// asked: a fault with a `for` that came into force only after it should
// already have been healed, or took longer to apply than it was to last (a
// cut of 1,000 connections on a machine standing still took 3.2s to apply
// for a 1.5s cut, and every client's window was then judged against a fault
// the scenario never asked for), or a link that stopped taking connections
// (link.dead: its accept loop ended, and clients' connections waited in its
// backlog for nobody), or a server's or link's evidence lost mid-run
// (evidence.lost: a client's claim can no longer be checked against what
// the servers saw). Such a run says nothing about the SDK: the
// runner merges the finding, UNKNOWN, into every judged result. It is never
// OK on its own, and false when the timeline held.
func Timeline(h history.History, sc *scenario.Scenario) (Result, bool) {
	if sc == nil {
		return Result{}, false
	}
	// A link's fault steps, in the order the runner applied them, paired by
	// position with the link's fault.on records (one per applied fault).
	steps := map[string][]scenario.Step{}
	for _, st := range sc.Steps {
		if st.Link != "" && st.Fault != "" && st.Fault != "heal" {
			steps[st.Link] = append(steps[st.Link], st)
		}
	}
	for _, ss := range steps {
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].At < ss[j].At })
	}
	seen := map[string]int{}
	var j judge
	for _, e := range h {
		if lost, ok := evidenceLost(e); ok {
			j.unknown(e.T, "the harness lost the evidence of %s at %s (%s): what it saw after that is missing from the history (evidence.lost)",
				lost, dur(e.T), e.Reason)
			continue
		}
		if e.Source == history.SrcLink && e.Kind == history.KindLinkDead {
			j.unknown(e.T, "the harness's link %s stopped taking connections at %s (%s): the clients' connections after it waited in its backlog for nobody (link.dead)",
				e.Link, dur(e.T), e.Reason)
			continue
		}
		if e.Source != history.SrcLink || e.Kind != history.KindFaultOn {
			continue
		}
		i := seen[e.Link]
		seen[e.Link]++
		ss := steps[e.Link]
		if i >= len(ss) || ss[i].For <= 0 {
			continue
		}
		st := ss[i]
		apply, _ := attrMs(e, "apply_ms")
		healAt := st.At + st.For
		switch {
		case e.T > healAt:
			j.unknown(e.T, "the harness could not hold the timeline: %s on %s, due at %s for %s, came into force at %s (took %s to apply), after its scheduled heal at %s (link fault.on)",
				e.Verb, e.Link, dur(st.At), st.For, dur(e.T), dur(apply), dur(healAt))
		case apply > st.For:
			j.unknown(e.T, "the harness could not hold the timeline: %s on %s took %s to apply, longer than its for: %s (link fault.on at %s)",
				e.Verb, e.Link, dur(apply), st.For, dur(e.T))
		}
	}
	if len(j.unknowns) == 0 {
		return Result{}, false
	}
	r := j.result(0, "")
	r.Detail = fmt.Sprintf("%s: nothing is judged of the SDK in a run the harness did not carry out as the scenario asked", r.Detail)
	return r, true
}

// evidenceLost names whose evidence e says was lost: evidence.lost, or the
// harness error histories recorded before that kind existed carry for a
// broken event stream (so that faultline check judges them as a run would
// now).
func evidenceLost(e history.Event) (string, bool) {
	if e.Source != history.SrcHarness {
		return "", false
	}
	switch {
	case e.Kind == history.KindEvidenceLost && e.Server != "":
		return "server " + e.Server, true
	case e.Kind == history.KindEvidenceLost:
		return "the links", true
	case e.Kind == history.KindError && strings.HasPrefix(e.Reason, "link event stream from "):
		return "the links", true
	case e.Kind == history.KindError && strings.HasPrefix(e.Reason, "event stream of "):
		return "servers " + strings.TrimPrefix(strings.SplitN(e.Reason, " from ", 2)[0], "event stream of "), true
	}
	return "", false
}
