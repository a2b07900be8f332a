package matchers

import (
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/runner"
)

func verdict(v string) Verdict {
	h := history.History{
		{T: 100 * time.Millisecond, Source: history.SrcLink, Kind: history.KindFaultOff, Link: "s1", Verb: "cut"},
		{T: 480 * time.Millisecond, Source: history.SrcServer, Kind: history.KindSessionResume, Server: "s1", Session: "A"},
		{T: 5 * time.Second, Source: history.SrcServer, Kind: history.KindPublish, Server: "s1", Topic: "far-away"},
	}
	return Verdict{History: h, Check: runner.CheckResult{Scenario: "sc", Requirement: "R4", Check: "reconnect_window",
		Result: check.Result{Verdict: v, At: 480 * time.Millisecond, Detail: "reconnect window 380.0ms > bound 250.0ms",
			Measurements: []check.Measurement{{Name: "window", Value: 380, Unit: "ms", Evidence: "server session.resume − link fault.off", Expected: "≤ 250.0ms"}}}}}
}

func TestConformMatches(t *testing.T) {
	for v, want := range map[string]bool{check.OK: true, check.NonStrict: true, check.Informational: true, check.Failed: false, check.Unimplemented: false} {
		got, err := Conform().Match(verdict(v))
		if err != nil || got != want {
			t.Errorf("Conform(%s) = %v, %v; want %v", v, got, err, want)
		}
	}
	if _, err := Conform().Match("not a verdict"); err == nil {
		t.Error("a non-Verdict must be an error, not a silent mismatch")
	}
}

func TestFailureMessageShowsExpectedMeasuredAndTimeline(t *testing.T) {
	msg := HaveVerdict(check.OK).FailureMessage(verdict(check.Failed))
	for _, want := range []string{
		"R4 reconnect_window (sc) to be OK, it is FAILED",
		"reconnect window 380.0ms > bound 250.0ms",
		"measured window = 380.000 ms (expected ≤ 250.0ms) [evidence: server session.resume − link fault.off]",
		"timeline around 480.0ms",
		"session.resume", "fault.off",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "far-away") {
		t.Errorf("the timeline slice must stay around the verdict's moment:\n%s", msg)
	}
}
