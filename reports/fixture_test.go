package reports

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// Hostile words an SDK might supply: none may become markup anywhere.
const (
	evilSDK     = `<script>alert("sdk")</script>`
	evilVersion = `"><img src=x onerror=alert(1)>`
	evilError   = `</pre><script>alert(2)</script> | *bold* <a href="javascript:alert(3)">x</a>`
	evilState   = `<svg onload=alert(4)>`
)

func msd(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// fixture is a report of two scenarios: one that recovered (with a back-off
// and a window), one with a failure, an SDK-supplied error and a made-up
// state; plus a shuffle result with per-server counts.
func fixture() *Report {
	h1 := history.History{
		{T: msd(0), Source: history.SrcHarness, Kind: history.KindStep, Attrs: map[string]string{"step": "client connect"}},
		{T: msd(1), Source: history.SrcHarness, Kind: history.KindOp, Client: 0, Op: "connect", Attrs: map[string]string{"id": "1"}},
		{T: msd(2), Source: history.SrcClient, Kind: history.KindState, Client: 0, From: "", To: driver.Connecting},
		{T: msd(3), Source: history.SrcServer, Kind: history.KindAccept, Server: "s1", Conn: "s1#1"},
		{T: msd(4), Source: history.SrcServer, Kind: history.KindSessionCreate, Server: "s1", Session: "A", Conn: "s1#1"},
		{T: msd(5), Source: history.SrcClient, Kind: history.KindState, Client: 0, From: driver.Connecting, To: driver.ConnectedActive, Server: "s1", Session: "A"},
		{T: msd(300), Source: history.SrcLink, Kind: history.KindFaultOn, Link: "s1", Verb: "cut", Attrs: map[string]string{"id": "1", "direction": "both"}},
		{T: msd(301), Source: history.SrcServer, Kind: history.KindSessionDisconn, Server: "s1", Session: "A", Reason: "transport"},
		{T: msd(302), Source: history.SrcClient, Kind: history.KindState, Client: 0, From: driver.ConnectedActive, To: driver.RecoveringReconnect},
		{T: msd(400), Source: history.SrcServer, Kind: history.KindAccept, Server: "s1", Conn: "s1#2"},
		{T: msd(600), Source: history.SrcLink, Kind: history.KindFaultOff, Link: "s1", Verb: "cut", Attrs: map[string]string{"id": "1"}},
		{T: msd(650), Source: history.SrcServer, Kind: history.KindAccept, Server: "s1", Conn: "s1#3"},
		{T: msd(651), Source: history.SrcServer, Kind: history.KindSessionResume, Server: "s1", Session: "A", Conn: "s1#3"},
		{T: msd(652), Source: history.SrcClient, Kind: history.KindState, Client: 0, From: driver.RecoveringReconnect, To: driver.ConnectedActive, Server: "s1", Session: "A"},
		{T: msd(700), Source: history.SrcServer, Kind: history.KindSessionCreate, Server: "s2", Session: "B", Conn: "s2#1"},
		{T: msd(900), Source: history.SrcHarness, Kind: history.KindStep, Attrs: map[string]string{"step": "end"}},
	}
	h2 := history.History{
		{T: msd(0), Source: history.SrcHarness, Kind: history.KindOp, Client: 0, Op: "connect", Attrs: map[string]string{"id": "1"}},
		{T: msd(1), Source: history.SrcHarness, Kind: history.KindReply, Client: 0, Op: "connect", OK: false, Reason: evilError},
		{T: msd(2), Source: history.SrcClient, Kind: history.KindState, Client: 0, From: driver.Connecting, To: evilState},
		{T: msd(3), Source: history.SrcClient, Kind: history.KindError, Client: 0, Reason: evilError},
	}
	bounds := func(exp, lo, hi float64) *check.Bounds { return &check.Bounds{Expected: exp, Lo: lo, Hi: hi} }
	return &Report{
		SDK:     driver.Hello{SDK: evilSDK, Version: evilVersion, Features: []string{"reconnect", evilState}},
		Driver:  `node "sdk/<b>node</b>/driver.js"`,
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), WallMS: 1500, Seed: 7,
		Totals: Totals{check.OK: 3, check.Failed: 1, check.Unimplemented: 1},
		Results: []Result{
			{Scenario: "recovers", Requirement: "R2", Verdict: check.OK, Check: "backoff_schedule", AtMS: 650, Detail: "followed",
				Measurements: []check.Measurement{
					{Name: "outage 1 attempt 0 delay", Value: 98, Unit: "ms", Bounds: bounds(100, 70, 130), Expected: "Delay(0) 100ms"},
					{Name: "outage 1 attempt 1 delay", Value: 250, Unit: "ms", Bounds: bounds(200, 180, 230), Expected: "Delay(1) 200ms"},
					{Name: "attempts", Value: 2, Unit: "count"}}},
			{Scenario: "recovers", Requirement: "R4", Verdict: check.OK, Check: "reconnect_window", AtMS: 651, Detail: "within",
				Measurements: []check.Measurement{{Name: "outage 1: window", Value: 51, Unit: "ms", Evidence: "server session.resume − link fault.off"}}},
			{Scenario: "recovers", Requirement: "F3", Verdict: check.OK, Check: "shuffle_uniform", AtMS: 700, Detail: "uniform",
				Measurements: []check.Measurement{
					{Name: "samples", Value: 30, Unit: "count"},
					{Name: "landed on s2", Value: 9, Unit: "count", Expected: "10.0 (N/3)"},
					{Name: "landed on s3", Value: 11, Unit: "count", Expected: "10.0 (N/3)"},
					{Name: "landed on " + evilState, Value: 10, Unit: "count", Expected: "10.0 (N/3)"},
					{Name: "chi-square", Value: 0.2},
					{Name: "p-value", Value: 0.9048},
					{Name: "alpha", Value: 1e-4}}},
			{Scenario: "hostile", Requirement: "R8", Verdict: check.Failed, Check: "deliberate_close", AtMS: 3, Detail: "the run did not go as scheduled: " + evilError,
				Measurements: []check.Measurement{{Name: evilState, Value: 1, Unit: "<i>ms</i>", Evidence: evilError}}},
			{Scenario: "hostile", Requirement: "F1", Verdict: check.Unimplemented, Check: "failover_sequence", Detail: evilSDK + " does not declare failover"},
		},
		Scenarios: []Scenario{
			{Name: "recovers", File: "scenarios/recovers.yaml", Covers: []string{"R2", "R4", "F3"}, WallMS: 1000, History: h1},
			{Name: "hostile", File: "scenarios/hostile.yaml", Covers: []string{"R8", "F1"}, WallMS: 500, History: h2,
				Problems: []string{"client 0: op connect #1: driver failed: " + evilError}},
		},
	}
}

// allowedTags are the only elements index.html may contain: anything else
// came from data that was not escaped.
var allowedTags = map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
	"h1": true, "h2": true, "h3": true, "div": true, "span": true, "p": true, "table": true, "tr": true, "th": true,
	"td": true, "a": true, "i": true, "details": true, "summary": true, "pre": true, "svg": true, "rect": true,
	"text": true, "line": true, "g": true, "circle": true, "ol": true, "li": true, "b": true, "thead": true,
	"tbody": true, "br": true, "path": true, "defs": true, "pattern": true}

var (
	tagRe     = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9-]*)`)
	onAttrRe  = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	jsURLRe   = regexp.MustCompile(`(?i)(href|src)\s*=\s*"?\s*javascript:`)
	escapedRe = regexp.MustCompile(`&lt;script&gt;alert\(`)
	srcAttrRe = regexp.MustCompile(`(?i)<[^>]*\ssrc\s*=`)
)

// assertNoLiveMarkup fails if page holds any element, event handler or
// script URL that the page's own template did not write.
func assertNoLiveMarkup(t *testing.T, page string) {
	t.Helper()
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the page holds a <script")
	}
	for _, m := range tagRe.FindAllStringSubmatch(page, -1) {
		if !allowedTags[strings.ToLower(m[1])] {
			t.Errorf("unexpected element <%s> in the page", m[1])
		}
	}
	if m := onAttrRe.FindString(page); m != "" {
		t.Errorf("an event handler attribute: %s", m)
	}
	if m := jsURLRe.FindString(page); m != "" {
		t.Errorf("a javascript: URL: %s", m)
	}
	if !escapedRe.MatchString(page) {
		t.Error("the SDK's name should be in the page, escaped")
	}
	assertOffline(t, page)
}

// assertOffline fails if page refers to anything outside itself: the only
// URL-like texts allowed are the SVG namespace and url(#…) references to
// the page's own patterns.
func assertOffline(t *testing.T, page string) {
	t.Helper()
	if strings.Count(page, "http://") != strings.Count(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("the page refers to the network: http://")
	}
	for _, bad := range []string{"https://", "<link", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page refers to something outside itself: %s", bad)
		}
	}
	if m := srcAttrRe.FindString(page); m != "" {
		t.Errorf("an element loads something: %s", m)
	}
	if n, local := strings.Count(page, "url("), strings.Count(page, "url(#"); n != local {
		t.Errorf("%d url( references, only %d of them to the page itself", n, local)
	}
}

// allPages renders r's pages and fails the test on an error.
func allPages(t *testing.T, r *Report) map[string][]byte {
	t.Helper()
	ps, err := r.Pages()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}
