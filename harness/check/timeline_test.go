package check

import (
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func TestTimeline(t *testing.T) {
	// The thousand-client scenario's cut: at 8s for 1.5s, then a cut for good.
	sc := scen(func(sc *scenario.Scenario) {
		sc.Steps = []scenario.Step{
			{At: 8 * time.Second, Link: "s1", Fault: "cut", For: 1500 * time.Millisecond},
			{At: 9 * time.Second, Link: "s1", Fault: "heal"},
			{At: 14 * time.Second, Link: "s1", Fault: "cut"},
		}
	})
	on := func(ms float64, apply string) history.Event {
		return ev(ms, "fault.on", "link=s1", "verb=cut", "apply_ms="+apply)
	}
	cases := []struct {
		name   string
		h      history.History
		detail string // "" when the timeline held
	}{
		{name: "applied in 200ms", h: history.History{on(8200, "199.5"), on(14300, "300")}},
		{name: "a cut for good may take its time", h: history.History{on(8200, "199.5"), on(19000, "5000")}},
		{name: "in force after its scheduled heal", h: history.History{on(11199.5, "3198.699"), on(14652.8, "652.7")},
			detail: "cut on s1, due at 8000.0ms for 1.5s, came into force at 11199.5ms (took 3198.7ms to apply), after its scheduled heal at 9500.0ms"},
		{name: "longer to apply than to last", h: history.History{on(9400, "1600")},
			detail: "cut on s1 took 1600.0ms to apply, longer than its for: 1.5s"},
		{name: "a link whose accept loop ended", h: history.History{on(8200, "199.5"),
			ev(8300, history.KindLinkDead, "link=s1", "reason=accept tcp 127.0.0.1:4000: accept4: too many open files"), on(14300, "300")},
			detail: "link s1 stopped taking connections at 8300.0ms (accept tcp 127.0.0.1:4000: accept4: too many open files)"},
		{name: "a server's evidence lost mid-run", h: history.History{on(8200, "199.5"),
			ev(6865.9, history.KindEvidenceLost, "server=s1", "reason=event stream of [s1] from http://172.28.0.5:9000: silent for 5s"), on(14300, "300")},
			detail: "the harness lost the evidence of server s1 at 6865.9ms (event stream of [s1] from http://172.28.0.5:9000: silent for 5s)"},
		{name: "the links' evidence lost mid-run", h: history.History{on(8200, "199.5"),
			ev(6101.1, history.KindEvidenceLost, "reason=link event stream from http://172.28.0.2:9000: silent for 5s"), on(14300, "300")},
			detail: "the harness lost the evidence of the links at 6101.1ms"},
		{name: "a stream break recorded before evidence.lost existed", h: history.History{on(8200, "199.5"),
			harnessError(5395.9, "event stream of [s4] from http://172.28.0.3:9000: event stream from http://172.28.0.3:9000: silent for 5s"), on(14300, "300")},
			detail: "the harness lost the evidence of servers [s4] at 5395.9ms"},
		{name: "other harness errors are the checks' to weigh", h: history.History{on(8200, "199.5"),
			harnessError(9000, "publish on s1: the server is killed"), on(14300, "300")}},
		{name: "a link's dial failures and accepts are no harness failure", h: history.History{on(8200, "199.5"),
			ev(8300, history.KindLinkAccept, "link=s1", "conn=127.0.0.1:5"), ev(8301, history.KindLinkDialFail, "link=s1", "conn=127.0.0.1:5", "reason=refused"), on(14300, "300")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, found := Timeline(tc.h, sc)
			if found != (tc.detail != "") {
				t.Fatalf("found %v: %s %s", found, r.Verdict, r.Detail)
			}
			if found && (r.Verdict != Unknown || !strings.Contains(r.Detail, tc.detail)) {
				t.Errorf("got %s: %s\nwant UNKNOWN with %q", r.Verdict, r.Detail, tc.detail)
			}
		})
	}
}

func harnessError(ms float64, reason string) history.Event {
	return history.Event{T: msd(ms), Source: history.SrcHarness, Kind: history.KindError, Reason: reason}
}
