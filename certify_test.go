package faultline_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver/stdio"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// nats.go, a library nobody here wrote, over scenarios/nats through its
// driver (drivers/nats.go, its own module), against the fake NATS server and
// against the real nats-server behind the same links: what make certify
// does, held as a spec. The library's verdicts are findings, not this
// suite's to decide (conformance/nats.go.md keeps them); what must hold is
// the harness's side: every scenario runs as scheduled, nothing is left
// UNKNOWN, and the fake and the real server give the library the same
// verdicts.
var _ = Describe("nats.go certification", Label("nats", "certify"), Ordered, func() {
	var fake, onReal map[string]string // result key → verdict
	var problems []string

	BeforeAll(func(ctx SpecContext) {
		bin := filepath.Join(GinkgoT().TempDir(), "nats.go")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
		build.Dir = "drivers/nats.go"
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "building the nats.go driver:\n%s", out)

		run := func(swap map[string]string, label string) map[string]string {
			scs, err := runner.Load("scenarios/nats")
			Expect(err).NotTo(HaveOccurred())
			if swap != nil {
				var kept []*scenario.Scenario
				for _, sc := range scs {
					if !slices.Contains(sc.Labels, "fake-only") {
						kept = append(kept, sc)
					}
				}
				scs = kept
				Expect(runner.SwapKinds(scs, swap)).To(Succeed())
			}
			verdicts := map[string]string{}
			for _, sc := range scs {
				rctx, cancel := context.WithTimeout(ctx, sc.End()+30*time.Second)
				res := runner.Run(rctx, sc, runner.Config{Driver: stdio.Factory([]string{bin}, stdio.Seed(1))})
				cancel()
				for _, p := range res.Problems {
					problems = append(problems, label+" "+sc.Name+": "+p)
				}
				for i, c := range res.Checks {
					verdicts[sc.Name+" "+c.Requirement+" "+c.Check+" #"+strconv.Itoa(i)] = c.Verdict
					if c.Verdict == check.Unknown {
						problems = append(problems, label+" "+sc.Name+" "+c.Requirement+" "+c.Check+" UNKNOWN: "+c.Detail)
					}
				}
			}
			return verdicts
		}
		fake = run(nil, "fake")
		onReal = run(map[string]string{"nats": "nats-server"}, "real")
	}, NodeTimeout(10*time.Minute))

	It("runs every scenario as scheduled and leaves nothing UNKNOWN", func() {
		Expect(problems).To(BeEmpty())
		Expect(fake).NotTo(BeEmpty())
	})

	It("gives the library the same verdicts against the fake and the real server", func() {
		for k, v := range onReal {
			Expect(fake).To(HaveKeyWithValue(k, v), "fake and real nats-server differ")
		}
	})
})
