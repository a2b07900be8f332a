package check

import (
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// A machine that stands still delays the engine's timers as much as the
// harness's: seen under load (a package install on both cores), backoff-js's
// attempt 2 came 134.9ms after the previous close against Delay(2) 40ms. A
// stall the harness's probe recorded inside the measured interval widens the
// bound by its length; one outside it, or none, leaves the verdict FAILED.
func TestStallsWidenOnlyTheIntervalsTheyOverlap(t *testing.T) {
	// Cut at 400 (RECOVERING at 402), attempts 100, 200, then 495 instead of
	// 400 (95ms late): closes at 503, 704, and the late accept at 1199.
	late := func(stalls ...history.Event) history.History {
		s := &story{}
		s.connect(5, "A")
		rec := s.lose(400, "cut", "A")
		end := s.attempts(rec, 100, 200, 495)
		s.resume(end+800, "A")
		return s.add(stalls...).hist()
	}
	stall := func(at float64, d string) history.Event { return ev(at, history.KindStall, "src=harness", "for="+d) }
	runCases(t, []tcase{
		{name: "no stall: late", cfg: &BackoffSchedule{}, h: late(), verdict: Failed,
			detail: []string{"attempt 2", "came 495.0ms", "expected Delay(2) 400.0ms within [330.0ms, 470.0ms]"}},
		{name: "stall inside the interval", cfg: &BackoffSchedule{}, h: late(stall(900, "60ms")), verdict: OK},
		{name: "stall too short for the lateness", cfg: &BackoffSchedule{}, h: late(stall(900, "15ms")), verdict: Failed,
			detail: []string{"+ stall 15.0ms"}},
		{name: "stall outside the interval", cfg: &BackoffSchedule{}, h: late(stall(650, "60ms")), verdict: Failed,
			detail: []string{"came 495.0ms"}},
		{name: "stall straddling the origin counts only its overlap", cfg: &BackoffSchedule{}, h: late(stall(724, "60ms")), verdict: Failed,
			detail: []string{"+ stall 20.0ms"}},
	})
}

func TestStalledIn(t *testing.T) {
	spans := stallsOf(history.History{
		ev(100, history.KindStall, "src=harness", "for=20ms"), // [80, 100]
		ev(300, history.KindStall, "src=harness", "for=50ms"), // [250, 300]
		ev(400, history.KindStall, "src=harness", "for=bad"),  // ignored
		ev(500, history.KindStall, "for=30ms"),                // not the harness's: ignored
	})
	for _, c := range []struct {
		from, to, want float64
	}{
		{0, 1000, 70}, {90, 260, 20}, {100, 250, 0}, {290, 295, 5}, {0, 50, 0},
	} {
		if got := stalledIn(spans, msd(c.from), msd(c.to)); got != msd(c.want) {
			t.Errorf("stalledIn(%v, %v) = %v, want %vms", c.from, c.to, got, c.want)
		}
	}
}

// The same rule in the window and detection checks: a stall inside the
// measured interval is added to the bound (and reported); one elsewhere is not.
func TestStallsInWindowAndDetection(t *testing.T) {
	stall := func(at float64, d string) history.Event { return ev(at, history.KindStall, "src=harness", "for="+d) }
	// Heal at 1400, next attempt due at 1905, bound 555ms; the resume comes at
	// 2301 (window 901ms, 346ms over).
	lateResume := func(extra ...history.Event) history.History {
		s := &story{}
		s.connect(5, "A")
		rec := s.lose(400, "cut", "A")
		s.attempts(rec, 100, 200, 400)
		s.add(ev(1400, "fault.off", "link=s1", "verb=cut"))
		s.resume(2300, "A")
		return s.add(extra...).hist()
	}
	// A blackhole at 400 detected at 800: 400ms against a 350ms bound.
	lateDetect := func(extra ...history.Event) history.History {
		s := &story{}
		s.connect(5, "A")
		s.add(ev(400, "fault.on", "link=s1", "verb=blackhole"),
			ev(600, "session.disconnect", "server=s1", "session=A", "reason=idle"),
			state(800, cA, rR, "A"))
		return s.add(extra...).hist()
	}
	runCases(t, []tcase{
		{name: "window: stall inside", cfg: &ReconnectWindow{}, h: lateResume(stall(2000, "400ms")), verdict: OK},
		{name: "window: stall before the heal", cfg: &ReconnectWindow{}, h: lateResume(stall(1300, "400ms")), verdict: Failed,
			detail: []string{"reconnect window 901.0ms > bound 555.0ms"}},
		{name: "detection: stall inside", cfg: &LossDetected{}, h: lateDetect(stall(700, "60ms")), verdict: OK},
		{name: "detection: stall too short", cfg: &LossDetected{}, h: lateDetect(stall(700, "20ms")), verdict: Failed,
			detail: []string{"after 400.0ms > bound 370.0ms", "+ stall 20.0ms"}},
	})
}
