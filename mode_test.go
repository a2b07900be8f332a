package faultline_test

import (
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
	"github.com/faultline/faultline/harness/topology/containers"
)

// FAULTLINE_MODE picks where the conformance suite's servers and Toxiproxy
// run, as `faultline run --mode` does:
//
//	embedded    in this process (the default)
//	containers  Docker containers from `make images` (needs an engine)
//	external    what docker-compose.yml started: FAULTLINE_TOPOLOGY=docker/external.yaml,
//	            FAULTLINE_TOXIPROXY=URL to override the file's API
//
// e.g. FAULTLINE_MODE=containers go test -run TestConformance -ginkgo.label-filter=reconnect .
const modeEnv = "FAULTLINE_MODE"

// suiteTopology is nil (the runner's embedded default) or the mode's.
var suiteTopology topology.Topology

func suiteMode() string {
	if m := os.Getenv(modeEnv); m != "" {
		return m
	}
	return "embedded"
}

var _ = BeforeSuite(func(ctx SpecContext) {
	switch m := suiteMode(); m {
	case "embedded":
	case "containers":
		Expect(containers.Available(ctx)).To(Succeed(), "%s=containers", modeEnv)
		t := containers.New(containers.Options{})
		suiteTopology = t
		// On success, failure and interrupt alike: Ginkgo runs cleanup
		// nodes when interrupted.
		DeferCleanup(func(ctx SpecContext) {
			AddReportEntry("server event delay", t.Delays().String(), ReportEntryVisibilityAlways)
			Expect(t.Close(ctx)).To(Succeed())
			cs, ns, err := t.Leftovers(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(cs).To(BeEmpty(), "containers left behind")
			Expect(ns).To(BeEmpty(), "networks left behind")
		}, NodeTimeout(2*time.Minute))
	case "external":
		t, err := topology.NewExternal(os.Getenv("FAULTLINE_TOPOLOGY"), os.Getenv("FAULTLINE_TOXIPROXY"))
		Expect(err).NotTo(HaveOccurred(), "%s=external needs FAULTLINE_TOPOLOGY (e.g. docker/external.yaml)", modeEnv)
		suiteTopology = t
	default:
		Fail(modeEnv + "=" + m + ": want embedded, containers or external")
	}
}, NodeTimeout(time.Minute))

// skipUnsupported skips a scenario the suite's mode cannot run, saying why:
// the CLI reports its requirements UNSUPPORTED for the same reason.
func skipUnsupported(sc *scenario.Scenario) {
	if why := topology.Refuses(suiteTopology, sc); why != "" {
		Skip("UNSUPPORTED in " + suiteMode() + " mode: " + why + " (" + sc.Name + ")")
	}
}
