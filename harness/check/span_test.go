package check

import (
	"fmt"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// Every window a window checker measures carries its interval (Span), whose
// length is the measured value: a timeline draws it where it happened.
func TestWindowsCarryTheirSpans(t *testing.T) {
	good, _, _ := inBatch()
	for _, c := range []struct {
		name  string
		cfg   Checker
		in    Input
		spans map[string]Span // measurement name fragment → its interval
	}{
		{"reconnect_window", &ReconnectWindow{}, Input{History: recoveryH(), Scenario: scen()}, map[string]Span{
			": window":        {From: msd(1400), To: msd(1906)},
			": window_client": {From: msd(1400), To: msd(1907)},
		}},
		{"loss_detected", &LossDetected{}, Input{History: recoveryH(), Scenario: scen()}, map[string]Span{
			": detection":           {From: msd(400), To: msd(402)},
			": server saw the loss": {From: msd(400), To: msd(401)},
		}},
		{"handoff_window", &HandoffWindow{}, Input{History: good.h(), Scenario: mscen()}, map[string]Span{
			"handoff window 1": {From: msd(110), To: msd(130)},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.cfg.Check(c.in)
			if r.Verdict != OK {
				t.Fatalf("%s: %s", r.Verdict, r.Detail)
			}
			for frag, want := range c.spans {
				found := false
				for _, m := range r.Measurements {
					if !strings.HasSuffix(m.Name, frag) {
						continue
					}
					found = true
					if m.Span == nil || *m.Span != want {
						t.Errorf("%s: span %+v, want %+v", m.Name, m.Span, want)
						continue
					}
					if got := Ms(m.Span.To - m.Span.From); got != m.Value {
						t.Errorf("%s: span length %vms, value %vms", m.Name, got, m.Value)
					}
				}
				if !found {
					t.Errorf("no measurement named …%s", frag)
				}
			}
			for _, m := range r.Measurements {
				if m.Span != nil && m.Unit != "ms" {
					t.Errorf("%s: a span on a %q measurement", m.Name, m.Unit)
				}
			}
		})
	}
}

// With more windows than a detail lists, the longest is still drawn where
// it was. Session A moves s1 → s2 → … → s6; migration k's window is 10k ms.
func TestHandoffWindowMaxSpanWhenUnlisted(t *testing.T) {
	s := newM()
	sc := mscen()
	for k := 1; k <= maxListed+1; k++ {
		src, dst, mig := fmt.Sprintf("s%d", k), fmt.Sprintf("s%d", k+1), fmt.Sprintf("m%d", k)
		at, w := float64(100*k), float64(10*k)
		s.add(ev(at, history.KindMigration, "server="+src, "session=A", "mig="+mig, "state=REQUESTED", "target="+dst),
			ev(at+w, history.KindMigrationResume, "server="+dst, "session=A", "mig="+mig, "sealed=true"),
			ev(at+w+0.5, history.KindMigrationHandoff, "server="+src, "session=A", "mig="+mig),
			cmig(at+w+1, migResumed, dst))
		sc.Servers = append(sc.Servers, scenario.Server{Name: dst, Kind: "session"})
	}
	r := (&HandoffWindow{}).Check(Input{History: s.h(), Scenario: sc})
	if r.Verdict != OK {
		t.Fatalf("%s: %s", r.Verdict, r.Detail)
	}
	want := Span{From: msd(500), To: msd(550)}
	for _, m := range r.Measurements {
		switch {
		case m.Name == "handoff window max":
			if m.Span == nil || *m.Span != want || m.Value != 50 {
				t.Errorf("%s = %v, span %+v, want 50 over %+v", m.Name, m.Value, m.Span, want)
			}
		case m.Span != nil:
			t.Errorf("%s: a span on an unlisted window's statistic", m.Name)
		}
	}
}

func TestClaimGap(t *testing.T) {
	slow := func(dir string) history.Event {
		return ev(50, history.KindFaultOn, "link=s1", "verb=slow", "latency=150ms", "jitter=5ms", "direction="+dir)
	}
	for _, c := range []struct {
		name      string
		h         history.History
		clients   int
		claim, ev float64
		out       bool
	}{
		{"same instant", nil, 1, 100, 100, false},
		{"late within the slack", nil, 1, 110, 100, false},
		{"late beyond the slack", nil, 1, 110.5, 100, true},
		{"early within the slack", nil, 1, 90, 100, false},
		{"early beyond the slack", nil, 1, 89, 100, true},
		{"slow towards the client", history.History{slow("both")}, 1, 264, 100, false},
		{"its timer fired late", history.History{slow("both")}, 1, 274, 100, false},
		{"beyond the link's latency + jitter + timer", history.History{slow("downstream")}, 1, 276, 100, true},
		{"slow towards the server only", history.History{slow("upstream")}, 1, 250, 100, true},
		{"slow healed before the answer", history.History{slow("both"), ev(90, history.KindFaultOff, "link=s1", "verb=slow")}, 1, 250, 100, true},
		{"slow on another link", history.History{ev(50, history.KindFaultOn, "link=s2", "verb=slow", "latency=150ms")}, 1, 250, 100, true},
		{"throttle towards the client: late unjudged", history.History{ev(50, history.KindFaultOn, "link=s1", "verb=throttle", "rate=1")}, 1, 900, 100, false},
		{"throttle: early still judged", history.History{ev(50, history.KindFaultOn, "link=s1", "verb=throttle", "rate=1")}, 1, 50, 100, true},
		{"many clients: late unjudged", nil, 40, 300, 100, false},
		{"many clients: early still judged", nil, 40, 80, 100, true},
	} {
		sc := scen(func(sc *scenario.Scenario) { sc.Clients = c.clients })
		v := newView(c.h, sc)
		g := v.sessions().claimGap(0, msd(c.claim), msd(c.ev), "s1")
		if g.OutOfStep() != c.out {
			t.Errorf("%s: claim %v vs evidence %v: out of step %v, want %v (%+v)", c.name, c.claim, c.ev, g.OutOfStep(), c.out, g)
		}
	}
}
