package runner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/scenario"
)

// protocols are the wire protocols of the servers a scenario's client dials.
func protocols(sc *scenario.Scenario) []string {
	var out []string
	names := sc.Client.Servers
	if len(names) == 0 {
		for _, s := range sc.Servers {
			names = append(names, s.Name)
		}
	}
	for _, n := range names {
		s, _ := sc.Server(n)
		k, ok := fakeserver.LookupKind(s.Kind)
		if ok && !slices.Contains(out, k.Protocol) {
			out = append(out, k.Protocol)
		}
	}
	return out
}

// speaks is why a driver cannot be judged by a scenario ("" when it can): a
// library is judged only over the protocol it speaks.
func speaks(hello driver.Hello, sc *scenario.Scenario) string {
	p := hello.Protocol
	if p == "" {
		p = fakeserver.OwnProtocol
	}
	ps := protocols(sc)
	if len(ps) == 0 || slices.Contains(ps, p) {
		return ""
	}
	return fmt.Sprintf("%s %s speaks %s; the scenario's servers speak %s", hello.SDK, hello.Version, p, strings.Join(ps, ", "))
}

// notSpoken is every result of a scenario the driver cannot speak to:
// UNIMPLEMENTED with the reason, the timeline never run.
func notSpoken(sc *scenario.Scenario, why string) []CheckResult {
	var out []CheckResult
	for _, ex := range expectsOf(sc) {
		out = append(out, CheckResult{Scenario: sc.Name, File: sc.File, Requirement: ex.Requirement, Check: ex.Check,
			Result: check.Result{Verdict: check.Unimplemented, Detail: why, Measurements: []check.Measurement{}}})
	}
	return out
}

// Speaks is why a driver with this hello cannot be judged by a scenario: it
// speaks another protocol than the scenario's servers ("" when it can).
func Speaks(hello driver.Hello, sc *scenario.Scenario) string { return speaks(hello, sc) }
