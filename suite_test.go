package faultline_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/matchers"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// The conformance suite: one ordered container per scenario file under
// scenarios/, labelled with the scenario's labels, one spec per check. The
// scenario runs once (BeforeAll); each spec judges one expect entry.
func TestConformance(t *testing.T) {
	// Before any spec: a label filter may select none of the specs that
	// would otherwise report it.
	if suiteSDK.err != nil { // sdk_test.go
		t.Fatal(suiteSDK.err)
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "faultline conformance ("+suiteSDK.name+", "+suiteMode()+" topology)") // sdk_test.go, mode_test.go
}

var scenarios, loadErr = runner.Load("scenarios")

var _ = It("loads every scenario file", func() {
	Expect(loadErr).NotTo(HaveOccurred())
	Expect(scenarios).NotTo(BeEmpty())
})

var _ = func() bool {
	for _, sc := range scenarios {
		sc := sc
		// The suite's SDK is judged over the protocol it speaks: the Go
		// engine's is faultline's own, and scenarios of other protocols
		// (scenarios/nats) certify real libraries through their drivers
		// (FAULTLINE_SDK=nats.go; make certify; certify_test.go).
		if runner.Speaks(suiteSDK.hello, sc) != "" {
			continue
		}
		Describe(sc.Name, Label(sc.Labels...), Ordered, func() {
			var res *runner.Result
			var before leakBaseline // leaks_test.go
			BeforeAll(func(ctx SpecContext) {
				before = takeBaseline()
				skipUnsupported(sc) // mode_test.go
				skipOptIn(sc)       // optin_test.go
				rctx, cancel := context.WithTimeout(ctx, suiteSDK.bound(sc))
				defer cancel()
				res = runner.Run(rctx, sc, runner.Config{Driver: suiteSDK.factory(), Topology: suiteTopology})
				skipNotRun(res) // optin_test.go
				AddReportEntry("wall", res.Wall.String())
			}, NodeTimeout(suiteSDK.bound(sc)+30*time.Second))
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
					// A feature a driver does not declare is not judged; the
					// Go engine declares them all, so for it this fails.
					if !suiteSDK.own && res.Checks[i].Verdict == check.Unimplemented {
						Skip("UNIMPLEMENTED: " + res.Checks[i].Detail)
					}
					Expect(matchers.Verdict{Check: res.Checks[i], History: res.History}).To(matchers.Conform())
				})
			}
		})
	}
	return true
}()
