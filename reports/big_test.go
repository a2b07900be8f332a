package reports

import (
	"fmt"
	"sort"
	"testing"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/requirement"
)

// bigReport is a whole suite's worth: n scenarios over every requirement,
// each with a few hundred events, some FAILED, UNKNOWN, NON-STRICT and
// UNIMPLEMENTED results, and one scenario of a thousand clients whose check
// measured each of them (as scale-thousand does).
func bigReport(n int) *Report {
	r := fixture()
	r.SDK = driver.Hello{SDK: "big-sdk", Version: "1.0", Features: []string{"reconnect", "failover"}}
	r.Results, r.Scenarios = nil, nil
	ids := requirement.IDs()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("suite-%02d-%s", i, []string{"reconnect", "failover", "cascade", "migration"}[i%4])
		sc := Scenario{Name: name, File: fmt.Sprintf("scenarios/%s.yaml", name), WallMS: 1200, History: busyHistory(3, 60)}
		for j := 0; j < 3; j++ {
			req := ids[(i*3+j)%len(ids)]
			v := check.OK
			switch {
			case i%17 == 5 && j == 0:
				v = check.Failed
			case i%23 == 7 && j == 1:
				v = check.Unknown
			case i%11 == 3:
				v = check.Unimplemented
			case i%13 == 4 && j == 2:
				v = check.NonStrict
			}
			sc.Covers = append(sc.Covers, req)
			r.Results = append(r.Results, Result{Scenario: name, Requirement: req, Verdict: v, Check: "check_" + req,
				File: sc.File, AtMS: 900, Detail: fmt.Sprintf("%s of %s: the detail says why, at some length, as checkers do (%d)", v, name, j),
				Measurements: []check.Measurement{{Name: "client 0 heal at 600.0ms: window", Value: 41, Unit: "ms",
					Evidence: "server s1 session.resume − link fault.off", Expected: "≤ 150.0ms"}}})
		}
		r.Scenarios = append(r.Scenarios, sc)
	}
	crowd := Scenario{Name: "crowd-thousand", File: "scenarios/crowd.yaml", Covers: []string{"R4"}, WallMS: 9000, History: busyHistory(1000, 2)}
	res := Result{Scenario: crowd.Name, Requirement: "R4", Verdict: check.OK, Check: "reconnect_window", File: crowd.File, AtMS: 8000, Detail: "every client within"}
	for c := 0; c < 4000; c++ {
		res.Measurements = append(res.Measurements, check.Measurement{Name: fmt.Sprintf("client %d heal at 600.0ms: window", c),
			Value: 40 + float64(c%50), Unit: "ms", Evidence: "server s1 session.resume − link fault.off", Expected: "≤ 150.0ms"})
	}
	r.Scenarios = append(r.Scenarios, crowd)
	r.Results = append(r.Results, res)
	r.Tally()
	return r
}

// busyHistory: clients that connect, lose their link, recover and send ops,
// against three servers.
func busyHistory(clients, ops int) history.History {
	var h history.History
	add := func(ms float64, e history.Event) {
		e.T = msd(ms)
		h = append(h, e)
	}
	add(0, history.Event{Source: history.SrcHarness, Kind: history.KindStep, Attrs: map[string]string{"step": "connect"}})
	for c := 0; c < clients; c++ {
		srv := fmt.Sprintf("s%d", c%3+1)
		sess := fmt.Sprintf("S%04d", c)
		at := float64(c % 100)
		add(at+1, history.Event{Source: history.SrcClient, Kind: history.KindState, Client: c, To: driver.Connecting})
		add(at+2, history.Event{Source: history.SrcServer, Kind: history.KindAccept, Server: srv, Conn: srv + "#" + sess})
		add(at+3, history.Event{Source: history.SrcServer, Kind: history.KindSessionCreate, Server: srv, Session: sess})
		add(at+4, history.Event{Source: history.SrcClient, Kind: history.KindState, Client: c, From: driver.Connecting, To: driver.ConnectedActive, Server: srv, Session: sess})
		add(at+301, history.Event{Source: history.SrcServer, Kind: history.KindSessionDisconn, Server: srv, Session: sess, Reason: "transport"})
		add(at+302, history.Event{Source: history.SrcClient, Kind: history.KindState, Client: c, From: driver.ConnectedActive, To: driver.RecoveringReconnect})
		add(at+640, history.Event{Source: history.SrcServer, Kind: history.KindAccept, Server: srv, Conn: srv + "#r" + sess})
		add(at+641, history.Event{Source: history.SrcServer, Kind: history.KindSessionResume, Server: srv, Session: sess})
		add(at+642, history.Event{Source: history.SrcClient, Kind: history.KindState, Client: c, From: driver.RecoveringReconnect, To: driver.ConnectedActive, Server: srv, Session: sess})
		for o := 0; o < ops; o++ {
			add(at+700+float64(o)*3, history.Event{Source: history.SrcHarness, Kind: history.KindOp, Client: c, Op: "publish", Topic: "t",
				Attrs: map[string]string{"id": fmt.Sprint(o)}})
		}
	}
	for _, l := range []string{"s1", "s2", "s3"} {
		add(300, history.Event{Source: history.SrcLink, Kind: history.KindFaultOn, Link: l, Verb: "cut", Attrs: map[string]string{"id": "1"}})
		add(600, history.Event{Source: history.SrcLink, Kind: history.KindFaultOff, Link: l, Verb: "cut", Attrs: map[string]string{"id": "1"}})
	}
	sort.SliceStable(h, func(i, j int) bool { return h[i].T < h[j].T })
	return h
}

// TestPagesStaySmall: a suite of 60 scenarios and one of a thousand clients
// must not grow its pages past these bounds (the whole-suite page was 5 MB
// when every scenario's timeline, measurements and history sat in
// index.html). The bounds are about 1.5× what the pages weigh today.
func TestPagesStaySmall(t *testing.T) {
	ps := allPages(t, bigReport(60))
	bounds := map[string]int{
		"index.html":                115_000, // 76 kB
		"pages/crowd-thousand.html": 470_000, // 311 kB
	}
	const perScenario = 95_000 // 62 kB
	for name, b := range ps {
		bound, ok := bounds[name]
		if !ok {
			bound = perScenario
		}
		if len(b) > bound {
			t.Errorf("%s is %d bytes, past its bound of %d", name, len(b), bound)
		}
	}
	t.Logf("index.html %d bytes, crowd page %d bytes, %d pages", len(ps["index.html"]), len(ps["pages/crowd-thousand.html"]), len(ps))
}
