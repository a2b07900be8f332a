package runner

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// judge runs every expect of the scenario over the history, then the
// universal checks (check.UniversalsFor: the rules every library keeps, judged
// in every scenario they speak of). A requirement whose feature the driver did
// not declare is UNIMPLEMENTED, not FAILED; a run whose harness or driver
// failed is FAILED with that evidence. Every judged result also accounts for
// every client the scenario asked to connect (check.Account): none is OK
// while a client is unaccounted for; and none is judged as the SDK's when the
// harness could not put a fault in place as the scenario asked
// (check.Timeline: UNKNOWN).
func judge(sc *scenario.Scenario, h history.History, hello driver.Hello, helloOK bool, problems []string) []CheckResult {
	var out []CheckResult
	expects := expectsOf(sc)
	acct, unaccounted := safeAccount(sc, h)
	slip, slipped := safeTimeline(sc, h)
	for _, ex := range expects {
		cr := CheckResult{Scenario: sc.Name, File: sc.File, Requirement: ex.Requirement, Check: ex.Check}
		switch {
		case helloOK && missingFeature(ex.Requirement, hello) != "":
			cr.Result = check.Result{Verdict: check.Unimplemented,
				Detail: fmt.Sprintf("%s %s does not declare the %s feature", hello.SDK, hello.Version, missingFeature(ex.Requirement, hello))}
		case len(problems) > 0:
			cr.Result = check.Result{Verdict: check.Failed, Detail: "the run did not go as scheduled: " + listProblems(problems)}
		default:
			cr.Result = safeCheck(ex, check.Input{History: h, Scenario: sc, Requirement: ex.Requirement})
			if unaccounted {
				cr.Result = check.Merge(cr.Result, acct)
			}
			if slipped {
				cr.Result = check.Overrule(cr.Result, slip)
			}
		}
		if cr.Measurements == nil {
			cr.Measurements = []check.Measurement{}
		}
		out = append(out, cr)
	}
	return out
}

// expectsOf is every result a scenario gives, judged or not: its expects,
// then the universal checks that speak of it (check.UniversalsFor). A run,
// a scenario not run for its protocol and one its mode refused list the
// same results.
func expectsOf(sc *scenario.Scenario) []scenario.Expect {
	expects := append([]scenario.Expect(nil), sc.Expect...)
	for _, u := range check.UniversalsFor(sc) {
		expects = append(expects, scenario.Expect{Check: u.Name, Requirement: u.Judges[0]})
	}
	return expects
}

// featDiscovery is the feature of a client library that is no router but
// follows the servers its server advertises (a NATS client's INFO
// connect_urls): it is judged on T6 (service discovery) as a router is.
const featDiscovery = "discovery"

// missingFeature is the feature a driver must declare for req to be
// judged, quoted ("" when it declares it, or req needs none). T6 takes
// routing or discovery.
func missingFeature(req string, hello driver.Hello) string {
	f := featureFor(req)
	switch {
	case f == "" || hello.Has(f):
		return ""
	case req == "T6" && hello.Has(featDiscovery):
		return ""
	case req == "T6":
		return fmt.Sprintf("%q or %q", f, featDiscovery)
	}
	return fmt.Sprintf("%q", f)
}

// safeCheck turns a checker panic into an UNKNOWN result: a broken checker
// must not take the suite down, must not pass, and is the harness's fault,
// not the SDK's.
func safeCheck(ex scenario.Expect, in check.Input) (res check.Result) {
	defer func() {
		if r := recover(); r != nil {
			res = check.Result{Verdict: check.Unknown, Detail: fmt.Sprintf("checker %s panicked: %v\n%s", ex.Check, r, debug.Stack())}
		}
	}()
	c, ok := ex.Params.(check.Checker)
	if !ok {
		fresh, found := check.New(ex.Check)
		if !found {
			return check.Result{Verdict: check.Unknown, Detail: "unknown checker " + ex.Check}
		}
		c = fresh
	}
	return c.Check(in)
}

// safeTimeline is check.Timeline, a panic an UNKNOWN finding as well: a
// fault the harness could not put in place as asked makes every judged
// result UNKNOWN (the machine's fault, not the SDK's).
func safeTimeline(sc *scenario.Scenario, h history.History) (res check.Result, found bool) {
	defer func() {
		if r := recover(); r != nil {
			res, found = check.Result{Verdict: check.Unknown, Detail: fmt.Sprintf("timeline check panicked: %v\n%s", r, debug.Stack())}, true
		}
	}()
	return check.Timeline(h, sc)
}

// safeAccount is check.Account, with a panic turned into an UNKNOWN finding
// (as safeCheck does): the accounting must never pass a check it broke.
func safeAccount(sc *scenario.Scenario, h history.History) (res check.Result, found bool) {
	defer func() {
		if r := recover(); r != nil {
			res, found = check.Result{Verdict: check.Unknown, Detail: fmt.Sprintf("client accounting panicked: %v\n%s", r, debug.Stack())}, true
		}
	}()
	return check.Account(h, sc)
}

// maxProblems caps the problems a detail repeats: 300 driver processes that
// all crash would otherwise put 300 stderr tails into every result (the
// scenario's problems in report.json keep them all).
const maxProblems = 5

func listProblems(ps []string) string {
	if len(ps) <= maxProblems {
		return strings.Join(ps, "; ")
	}
	return strings.Join(ps[:maxProblems], "; ") + fmt.Sprintf("; … and %d more problem(s)", len(ps)-maxProblems)
}
