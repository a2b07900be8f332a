package check

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// A small DSL for hand-written histories.
//
//	ev(400, "fault.on", "link=s1", "verb=cut")
//	ev(402, "state", "from=CONNECTED_ACTIVE", "to=RECOVERING_RECONNECT", "server=s1", "session=A")
//
// The source follows from the kind; keys that are not Event fields go to Attrs.

func msd(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func ev(ms float64, kind string, kv ...string) history.Event {
	e := history.Event{T: msd(ms), Kind: kind}
	switch kind {
	case history.KindFaultOn, history.KindFaultOff, history.KindLinkAccept, history.KindLinkDialFail, history.KindLinkDead:
		e.Source = history.SrcLink
	case history.KindState, history.KindMessage, history.KindError:
		e.Source = history.SrcClient
	case history.KindOp, history.KindReply, history.KindStep, history.KindEvidenceLost:
		e.Source = history.SrcHarness
	default:
		e.Source = history.SrcServer
	}
	for _, p := range kv {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			panic("ev: want key=value, got " + p)
		}
		switch k {
		case "client":
			e.Client, _ = strconv.Atoi(v)
		case "server":
			e.Server = v
		case "link":
			e.Link = v
		case "conn":
			e.Conn = v
		case "session":
			e.Session = v
		case "topic":
			e.Topic = v
		case "seq":
			e.Seq, _ = strconv.ParseInt(v, 10, 64)
		case "from":
			e.From = v
		case "to":
			e.To = v
		case "op":
			e.Op = v
		case "verb":
			e.Verb = v
		case "ok":
			e.OK = v == "true"
		case "reason":
			e.Reason = v
		case "src":
			e.Source = history.Source(v)
		default:
			if e.Attrs == nil {
				e.Attrs = map[string]string{}
			}
			e.Attrs[k] = v
		}
	}
	return e
}

// state is a client-0 state event on s1.
func state(ms float64, from, to, session string, kv ...string) history.Event {
	return ev(ms, history.KindState, append([]string{"from=" + from, "to=" + to, "server=s1", "session=" + session}, kv...)...)
}

const (
	cA  = "CONNECTED_ACTIVE"
	rR  = "RECOVERING_RECONNECT"
	cg  = "CONNECTING"
	cBC = "CLOSED_BY_CLIENT"
	cBS = "CLOSED_BY_SERVER"
	cF  = "CLOSED_FAILED"
)

// story builds a history event by event; hist() orders it by time (stable).
type story struct {
	evs  []history.Event
	conn int
}

func (s *story) add(es ...history.Event) *story {
	s.evs = append(s.evs, es...)
	return s
}

func (s *story) nextConn() string {
	s.conn++
	return fmt.Sprintf("s1#%d", s.conn)
}

// connect: the client's first connection at ms, session sess created.
func (s *story) connect(ms float64, sess string) *story {
	c := s.nextConn()
	return s.add(
		ev(ms, "accept", "server=s1", "conn="+c),
		ev(ms+0.5, "handshake", "server=s1", "conn="+c, "ok=true"),
		ev(ms+1, "session.create", "server=s1", "conn="+c, "session="+sess, "retention_ms=2000", "ping_ms=100"),
		state(ms+2, cg, cA, sess),
	)
}

// fail: an attempt accepted at ms and closed by the server 1ms later; it
// returns the close time.
func (s *story) fail(ms float64) float64 {
	c := s.nextConn()
	s.add(ev(ms, "accept", "server=s1", "conn="+c), ev(ms+1, "conn.close", "server=s1", "conn="+c, "reason=reset"))
	return ms + 1
}

// resume: a successful attempt at ms resuming sess; the client reports
// CONNECTED_ACTIVE 2ms later.
func (s *story) resume(ms float64, sess string) *story {
	c := s.nextConn()
	return s.add(
		ev(ms, "accept", "server=s1", "conn="+c),
		ev(ms+0.5, "handshake", "server=s1", "conn="+c, "ok=true", "session="+sess, "resume=true"),
		ev(ms+1, "session.resume", "server=s1", "conn="+c, "session="+sess),
		state(ms+2, rR, cA, sess),
	)
}

// lose: a loss fault on s1 at ms; the server sees the session go 1ms later,
// the client enters RECOVERING_RECONNECT 2ms later (returned).
func (s *story) lose(ms float64, verb, sess string) float64 {
	s.add(
		ev(ms, "fault.on", "link=s1", "verb="+verb),
		ev(ms+1, "session.disconnect", "server=s1", "session="+sess, "reason=transport"),
		state(ms+2, cA, rR, sess),
	)
	return ms + 2
}

// attempts makes failing attempts after the given delays, each from the
// previous attempt's close (the first from origin); it returns the last close.
func (s *story) attempts(origin float64, delays ...float64) float64 {
	t := origin
	for _, d := range delays {
		t = s.fail(t + d)
	}
	return t
}

func (s *story) hist() history.History {
	h := append(history.History(nil), s.evs...)
	sort.SliceStable(h, func(i, j int) bool { return h[i].T < h[j].T })
	return h
}

// scen is one session server s1 (ping 100ms, retention 2s) and one client
// with reconnection on: timeout 3s, exponential 100ms ×2 up to 1s, liveness 300ms.
func scen(mods ...func(*scenario.Scenario)) *scenario.Scenario {
	sc := &scenario.Scenario{
		Name:    "test",
		Servers: []scenario.Server{{Name: "s1", Kind: "session", Retention: 2 * time.Second}},
		Client: scenario.Client{
			Servers: []string{"s1"},
			Reconnect: scenario.Reconnect{
				Enabled: true,
				Timeout: 3 * time.Second,
				Strategy: scenario.Strategy{
					Backoff: "exponential", Initial: 100 * time.Millisecond, Multiplier: 2, Max: time.Second,
				},
			},
			Liveness: 300 * time.Millisecond,
		},
		Clients: 1,
	}
	for _, m := range mods {
		m(sc)
	}
	return sc
}

// tcase is one table row: a checker configuration, a scenario, a history,
// the verdict wanted, and fragments its detail must contain.
type tcase struct {
	name    string
	cfg     Checker
	sc      *scenario.Scenario
	h       history.History
	verdict string
	detail  []string
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := tc.sc
			if sc == nil {
				sc = scen()
			}
			r := tc.cfg.Check(Input{History: tc.h, Scenario: sc, Requirement: "R?"})
			if r.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s\ndetail: %s\nhistory around %s:\n%s", r.Verdict, tc.verdict, r.Detail, dur(r.At), Excerpt(tc.h, r, time.Second))
			}
			for _, frag := range tc.detail {
				if !strings.Contains(r.Detail, frag) {
					t.Errorf("detail %q\nlacks %q", r.Detail, frag)
				}
			}
			for _, m := range r.Measurements {
				if m.Evidence == "" {
					t.Errorf("measurement %q names no evidence", m.Name)
				}
			}
			if testing.Verbose() {
				t.Logf("%s at %s: %s", r.Verdict, dur(r.At), r.Detail)
			}
		})
	}
}
