package runner

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/scenario"
)

// scenarioWith is a minimal scenario whose expect list and clients vary.
func scenarioWith(clients int, expect string) string {
	return strings.NewReplacer("CLIENTS", strconv.Itoa(clients), "EXPECT", expect).Replace(`
name: loads
covers: [R2, R4, R8]
clients: CLIENTS
servers:
  - {name: s1}
client:
  servers: [s1]
steps:
  - {at: 0s, client: connect}
  - {at: 100ms, link: s1, fault: cut, for: 500ms}
expect:
  - EXPECT
`)
}

func parseErr(t *testing.T, src string) error {
	t.Helper()
	_, err := scenario.Parse("loads.yaml", []byte(src), Registry())
	return err
}

// A check is filed only under a requirement it judges: reconnect_window as R8
// once gave "R8 OK".
func TestLoaderRejectsACheckUnderARequirementItDoesNotJudge(t *testing.T) {
	err := parseErr(t, scenarioWith(1, "{check: reconnect_window, requirement: R8}"))
	if err == nil || !strings.Contains(err.Error(), "loads.yaml:13:") || !strings.Contains(err.Error(), "check reconnect_window judges R4, not R8") {
		t.Fatalf("want a file:line:col error naming what the check judges, got %v", err)
	}
	if err := parseErr(t, scenarioWith(1, "{check: reconnect_window, requirement: R4}")); err != nil {
		t.Fatalf("R4 is what it judges: %v", err)
	}
}

// A check that attributes server accepts to one client, in a scenario with
// more, is bad input at load time, not a FAILED run.
func TestLoaderRejectsAOneClientCheckWithMoreClients(t *testing.T) {
	err := parseErr(t, scenarioWith(3, "{check: backoff_schedule, requirement: R2}"))
	if err == nil || !strings.Contains(err.Error(), "loads.yaml:13:") || !strings.Contains(err.Error(), "check backoff_schedule needs clients: 1 (the scenario has 3)") {
		t.Fatalf("want a file:line:col error, got %v", err)
	}
	if err := parseErr(t, scenarioWith(1, "{check: backoff_schedule, requirement: R2}")); err != nil {
		t.Fatalf("one client: %v", err)
	}
	// reconnect_window needs one client only to derive its bound.
	if err := parseErr(t, scenarioWith(3, "{check: reconnect_window, requirement: R4, within: 300ms}")); err != nil {
		t.Fatalf("with within, any number of clients: %v", err)
	}
}

// Zero is zero: an explicit tolerance of 0 is kept, never read as "not given".
func TestExplicitZeroToleranceIsZero(t *testing.T) {
	sc, err := scenario.Parse("loads.yaml", []byte(scenarioWith(1, "{check: backoff_schedule, requirement: R2, tolerance: 0s, tolerance_pct: 0}")), Registry())
	if err != nil {
		t.Fatal(err)
	}
	b := sc.Expect[0].Params.(*check.BackoffSchedule)
	if b.Tolerance == nil || *b.Tolerance != 0 || b.TolerancePct == nil || *b.TolerancePct != 0 {
		t.Fatalf("tolerance %v, tolerance_pct %v: want explicit zeros", b.Tolerance, b.TolerancePct)
	}
	sc, err = scenario.Parse("loads.yaml", []byte(scenarioWith(1, "{check: backoff_schedule, requirement: R2, tolerance: 5ms}")), Registry())
	if err != nil {
		t.Fatal(err)
	}
	if b := sc.Expect[0].Params.(*check.BackoffSchedule); b.Tolerance == nil || *b.Tolerance != 5*time.Millisecond || b.TolerancePct != nil {
		t.Fatalf("tolerance %v, tolerance_pct %v: want 5ms and not given", b.Tolerance, b.TolerancePct)
	}
}

// A check that can judge only some scenarios says so at load time: a jitter
// test of a client without jitter once ran to an UNKNOWN result.
func TestLoaderRejectsAJitterTestWithoutJitter(t *testing.T) {
	err := parseErr(t, scenarioWith(1, "{check: jitter_distribution, requirement: R2}"))
	if err == nil || !strings.Contains(err.Error(), "loads.yaml:13:13:") || !strings.Contains(err.Error(), "declares no jitter") {
		t.Fatalf("want a load error at the check naming the missing jitter, got %v", err)
	}
	src := strings.Replace(scenarioWith(1, "{check: jitter_distribution, requirement: R2}"),
		"  servers: [s1]\n", "  servers: [s1]\n  reconnect: {strategy: {backoff: fixed, initial: 100ms, jitter: 0.5}}\n", 1)
	if err := parseErr(t, src); err != nil {
		t.Fatalf("with jitter 0.5 the scenario loads, got %v", err)
	}
}
