package faultline_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/matchers"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology/containers"
)

// One scenario in containers mode in every run of the suite, whatever
// FAULTLINE_MODE says: the process-fault one, which needs the most of the
// topology (containers killed and started again, events streamed across
// restarts). Without a Docker engine, or without the images (`make images`,
// which `make test` runs when an engine answers), it is skipped with the
// reason. The full folders in containers mode are FAULTLINE_MODE=containers.
var _ = Describe("containers mode: process-kill-failover", Label("containers", "process"), Ordered, func() {
	var (
		topo *containers.Topology
		sc   *scenario.Scenario
		res  *runner.Result
	)
	BeforeAll(func(ctx SpecContext) {
		if err := containers.Available(ctx); err != nil {
			Skip("containers mode not run: " + err.Error())
		}
		for _, s := range scenarios {
			if s.Name == "process-kill-failover" {
				sc = s
			}
		}
		Expect(sc).NotTo(BeNil(), "scenarios/process/kill-failover.yaml")
		topo = containers.New(containers.Options{})
		DeferCleanup(func(ctx SpecContext) { _ = topo.Close(ctx) }, NodeTimeout(2*time.Minute))
		rctx, cancel := context.WithTimeout(ctx, sc.End()+time.Minute)
		defer cancel()
		res = runner.Run(rctx, sc, runner.Config{Driver: godriver.Factory(1), Topology: topo})
		AddReportEntry("wall", res.Wall.String())
		AddReportEntry("server event delay", topo.Delays().String(), ReportEntryVisibilityAlways)
	}, NodeTimeout(3*time.Minute))

	It("runs as scheduled", func() {
		Expect(res.Problems).To(BeEmpty(), "harness problems (teardown's are not in the history):\n%v", res.History.String())
	})
	It("judges as embedded mode does: every check OK", func() {
		Expect(res.Checks).To(HaveLen(len(sc.Expect) + len(check.UniversalsFor(sc))))
		for _, c := range res.Checks {
			// The matcher first: it shows the detail and the timeline around it.
			Expect(matchers.Verdict{Check: c, History: res.History}).To(matchers.Conform())
			Expect(c.Verdict).To(Equal(check.OK), "%s %s: %s", c.Requirement, c.Check, c.Detail)
		}
	})
	It("kills and restarts containers, with server evidence streamed across the restart", func() {
		kinds := map[string]int{}
		conns := map[string]bool{}
		for _, e := range res.History {
			kinds[e.Kind]++
			if e.Kind == history.KindAccept {
				Expect(conns).NotTo(HaveKey(e.Conn), "connection ids must stay unique across a restart")
				conns[e.Conn] = true
			}
		}
		Expect(kinds[history.KindKill]).To(Equal(2))
		Expect(kinds[history.KindRestart]).To(Equal(1))
		Expect(kinds[history.KindLag]).To(Equal(1), "the run's evidence lag is recorded")
		Expect(conns).To(HaveKey("s1#2"), "s1's first connection after its restart follows its first before it")
	})
	It("removes every container and network it made", func(ctx SpecContext) {
		Expect(topo.Close(ctx)).To(Succeed())
		cs, ns, err := topo.Leftovers(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(cs).To(BeEmpty(), "containers left behind")
		Expect(ns).To(BeEmpty(), "networks left behind")
	}, NodeTimeout(2*time.Minute))
})
