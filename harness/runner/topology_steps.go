package runner

import (
	"context"
	"strconv"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// processFault kills or restarts a server: a process fault, next to the
// link faults. It runs off the timeline's goroutine, since stopping or
// starting a container takes a good part of a second and later steps must
// not wait for it; the server handle serialises its own kills and restarts.
// The topology records process.kill / process.start once each is done.
func (t *run) processFault(ctx context.Context, st scenario.Step, srv fakeserver.Server) {
	verb := "kill"
	if st.Restart {
		verb = "restart"
	}
	var do func(context.Context) error
	if k, ok := srv.(fakeserver.Killer); ok && st.Kill {
		do = k.Kill
	}
	if r, ok := srv.(fakeserver.Restarter); ok && st.Restart {
		do = r.Restart
	}
	if do == nil {
		t.problem("server %s cannot %s in this topology (kill and restart need --mode embedded or containers)", st.Server, verb)
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		// Bounded, and not cut short by the end of the run: a half-started
		// container is worse evidence than a late one.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.cfg.OpTimeout+t.cfg.Teardown)
		defer cancel()
		if err := do(pctx); err != nil {
			t.problem("%s %s: %v", verb, st.Server, err)
		}
	}()
}

// recordLag notes, at the end of the timeline, how late the servers' events
// streamed in (containers, external): the checkers widen their slack between
// observers by it. Nothing is recorded for in-process servers.
func (t *run) recordLag() {
	if t.dep == nil || t.dep.Delays == nil {
		return
	}
	s := t.dep.Delays.Summary()
	if s.N == 0 {
		return
	}
	t.log.Record(history.Event{Source: history.SrcHarness, Kind: history.KindLag, Attrs: map[string]string{
		"max": s.Max.String(), "p99": s.P99.String(), "p50": s.P50.String(), "n": strconv.Itoa(s.N)}})
}

// unsupported is the result of a scenario its topology refuses (see
// topology.Refuser): nothing is started, and each check is UNSUPPORTED with
// the reason. Not FAILED: the mode cannot do a step; the SDK did nothing wrong.
func unsupported(sc *scenario.Scenario, why string) *Result {
	res := &Result{Scenario: sc, History: history.History{}}
	for _, ex := range expectsOf(sc) {
		res.Checks = append(res.Checks, CheckResult{Scenario: sc.Name, File: sc.File, Requirement: ex.Requirement, Check: ex.Check,
			Result: check.Result{Verdict: check.Unsupported, Detail: why, Measurements: []check.Measurement{}}})
	}
	return res
}
