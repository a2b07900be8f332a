package faultline_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/matchers"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// The conformance suite: one ordered container per scenario file under
// scenarios/, labelled with the scenario's labels, one spec per check. The
// scenario runs once (BeforeAll); each spec judges one expect entry.
func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "faultline conformance (Go engine, "+suiteMode()+" topology)") // mode_test.go
}

var scenarios, loadErr = runner.Load("scenarios")

// godriverHello is the Go engine's hello, for the protocol it speaks.
var godriverHello = godriver.Hello()

var _ = It("loads every scenario file", func() {
	Expect(loadErr).NotTo(HaveOccurred())
	Expect(scenarios).NotTo(BeEmpty())
})

var _ = func() bool {
	for _, sc := range scenarios {
		sc := sc
		// The Go engine speaks faultline's own protocol: scenarios of other
		// protocols (scenarios/nats) certify real libraries through their
		// drivers (make certify; certify_test.go runs nats.go over them).
		if runner.Speaks(godriverHello, sc) != "" {
			continue
		}
		Describe(sc.Name, Label(sc.Labels...), Ordered, func() {
			var res *runner.Result
			var before leakBaseline // leaks_test.go
			BeforeAll(func(ctx SpecContext) {
				before = takeBaseline()
				skipUnsupported(sc) // mode_test.go
				rctx, cancel := context.WithTimeout(ctx, sc.End()+30*time.Second)
				defer cancel()
				res = runner.Run(rctx, sc, runner.Config{Driver: godriver.Factory(1), Topology: suiteTopology})
				AddReportEntry("wall", res.Wall.String())
			}, NodeTimeout(sc.End()+time.Minute))
			// Embedded mode only: the other modes' topology lives across
			// scenarios (its clients and streams are the suite's).
			AfterAll(func() {
				if suiteTopology == nil {
					Expect(before.leaks()).To(BeEmpty(), "left behind by %s", sc.Name)
				}
			})
			It("runs as scheduled", func() {
				// Rendered only on failure: 1,000 clients make 40,000 events.
				Expect(res.Problems).To(BeEmpty(), func() string { return "harness problems:\n" + res.History.String() })
			})
			// The scenario's expects, then the universal checks the runner
			// judges in it (U1 lifecycle): one spec each.
			checks := append([]scenario.Expect(nil), sc.Expect...)
			for _, u := range check.UniversalsFor(sc) {
				checks = append(checks, scenario.Expect{Check: u.Name, Requirement: u.Judges[0]})
			}
			for i, ex := range checks {
				i, ex := i, ex
				It(ex.Requirement+" "+ex.Check, func() {
					Expect(res.Checks).To(HaveLen(len(checks)))
					Expect(res.Checks[i].Check).To(Equal(ex.Check))
					Expect(matchers.Verdict{Check: res.Checks[i], History: res.History}).To(matchers.Conform())
				})
			}
		})
	}
	return true
}()
