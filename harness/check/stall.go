package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// stallSpan is an interval in which the harness's scheduler probe could not
// run (history.KindStall): the machine stood still, for the engine under
// test as much as for the harness.
type stallSpan struct{ From, To time.Duration }

func stallsOf(h history.History) []stallSpan {
	var out []stallSpan
	for _, e := range h {
		if e.Source != history.SrcHarness || e.Kind != history.KindStall {
			continue
		}
		if d, err := time.ParseDuration(e.Attr("for")); err == nil && d > 0 {
			out = append(out, stallSpan{From: e.T - d, To: e.T})
		}
	}
	return out
}

// stalledIn is how much of [from, to] the machine stood still: the extra
// tolerance a measurement over that interval gets. Only stalls inside the
// measured interval count, so a late answer outside any stall is still late.
func stalledIn(spans []stallSpan, from, to time.Duration) time.Duration {
	var sum time.Duration
	for _, s := range spans {
		lo, hi := max(s.From, from), min(s.To, to)
		if hi > lo {
			sum += hi - lo
		}
	}
	return sum
}

// stallNote is the text added to an expectation widened by a stall.
func stallNote(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprintf(" + stall %s (the harness's scheduler probe stood still that long inside the interval)", dur(d))
}

// measureStall records, when d > 0, how much stall widened a bound.
func (j *judge) measureStall(name string, d time.Duration) {
	if d > 0 {
		j.measureMs(name+": stall", d, "harness stall events overlapping the measured interval (scheduler probe)", "added to the bound")
	}
}
