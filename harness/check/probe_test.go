package check

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// twoClients is recovery() for clients 0 (session A) and 1 (session B, its
// own connections) in one run; client 0 reports its recovery late by late
// ms (session.resume at 1906ms), client 1 on time.
func twoClients(late float64) history.History {
	var h history.History
	for c, sess := range []string{"A", "B"} {
		for _, e := range recoveryH() {
			if e.Source == history.SrcLink && c > 0 {
				continue // one link, one fault: client 0's copy has it
			}
			e.Client = c
			if e.Session == "A" {
				e.Session = sess
			}
			if e.Conn != "" {
				e.Conn = fmt.Sprintf("%s/c%d", e.Conn, c)
			}
			if c == 0 && e.Source == history.SrcClient && e.From == rR && e.To == cA {
				e.T += msd(late - 1) // the story's claim is 1ms after the resume
			}
			h = append(h, e)
		}
	}
	return h
}

// probes is a lag probe of the process hosting clients every 50ms from
// from to to (ms), each round trip rtt.
func probes(clients string, from, to float64, rtt string) history.History {
	var h history.History
	for at := from; at <= to; at += 50 {
		h = append(h, ev(at, history.KindProbe, "src=harness", "rtt_ms="+rtt, "driver=1", "clients="+clients))
	}
	return h
}

func judgeTwo(t *testing.T, h history.History) Result {
	t.Helper()
	sorted := (&story{evs: h}).hist()
	within := 2 * time.Second
	return (&ReconnectWindow{Within: &within}).Check(Input{History: sorted, Scenario: scen(func(sc *scenario.Scenario) { sc.Clients = 2 })})
}

func claimMeasurement(r Result) string {
	for _, m := range r.Measurements {
		if m.Name == "client claim gap (widest)" {
			return fmt.Sprintf("%v %s", m.Value, m.Expected)
		}
	}
	return ""
}

// With many clients a late claim is judged against the lag probes of the
// claiming client's driver process around it.
func TestLateClaimOfManyClientsIsJudgedByTheDriverLagProbe(t *testing.T) {
	t.Run("200ms late, probes ~5ms: NON-STRICT", func(t *testing.T) {
		h := append(twoClients(200), probes("0-1", 1700, 2300, "5.2")...)
		r := judgeTwo(t, h)
		if r.Verdict != NonStrict {
			t.Fatalf("%s: %s", r.Verdict, r.Detail)
		}
		t.Logf("%s\n%s", r.Detail, claimMeasurement(r))
		for _, want := range []string{"client 0 CONNECTED_ACTIVE at 2106.0ms", "server s1 session.resume at 1906.0ms",
			"gap 200.0ms", "driver lag 50.0ms", "probes of driver 1 (clients 0-1)", "largest round trip 5.2ms"} {
			if !strings.Contains(r.Detail, want) {
				t.Errorf("detail lacks %q: %s", want, r.Detail)
			}
		}
		if strings.Contains(r.Detail, "client 1") {
			t.Errorf("client 1 was on time: %s", r.Detail)
		}
		if m := claimMeasurement(r); !strings.Contains(m, "late ≤ 60.0ms") || !strings.Contains(m, "driver lag probe 50.0ms") {
			t.Errorf("measurement does not name the probe allowance: %s", m)
		}
	})
	t.Run("120ms late, a 150ms probe round trip: OK", func(t *testing.T) {
		h := append(twoClients(120), probes("0-1", 1700, 2300, "4")...)
		h = append(h, ev(2000, history.KindProbe, "src=harness", "rtt_ms=150", "driver=1", "clients=0-1"))
		r := judgeTwo(t, h)
		if r.Verdict != OK {
			t.Fatalf("%s: %s", r.Verdict, r.Detail)
		}
		if m := claimMeasurement(r); !strings.Contains(m, "late ≤ 160.0ms") || !strings.Contains(m, "driver lag probe 150.0ms") {
			t.Errorf("measurement does not name the probe allowance: %s", m)
		}
	})
	t.Run("no probes: unjudged as before", func(t *testing.T) {
		r := judgeTwo(t, twoClients(200))
		if r.Verdict != OK {
			t.Fatalf("%s: %s", r.Verdict, r.Detail)
		}
		if m := claimMeasurement(r); !strings.Contains(m, "late measured only") || !strings.Contains(m, "fewer than two lag probes of client 0's driver process") {
			t.Errorf("measurement: %s", m)
		}
	})
	t.Run("probes of another process only: unjudged", func(t *testing.T) {
		r := judgeTwo(t, append(twoClients(200), probes("1", 1700, 2300, "5")...))
		if r.Verdict != OK {
			t.Fatalf("%s: %s", r.Verdict, r.Detail)
		}
	})
	t.Run("probes outside the window: unjudged", func(t *testing.T) {
		r := judgeTwo(t, append(twoClients(200), probes("0-1", 100, 1750, "5")...))
		if r.Verdict != OK {
			t.Fatalf("%s: %s", r.Verdict, r.Detail)
		}
	})
	t.Run("early claims unchanged", func(t *testing.T) {
		r := judgeTwo(t, append(twoClients(-30), probes("0-1", 1700, 2300, "500")...))
		if r.Verdict != NonStrict || !strings.Contains(r.Detail, "early") {
			t.Fatalf("%s: %s", r.Verdict, r.Detail)
		}
	})
}

func TestParseRanges(t *testing.T) {
	if got := fmt.Sprint(parseRanges("0-2,7,x,9-8,10")); got != "[0 1 2 7 10]" {
		t.Errorf("got %s", got)
	}
}
