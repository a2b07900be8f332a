package check

import (
	"fmt"
	"math/rand"
	"sort"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// A DSL for histories over several servers and clients: every
// server numbers its own connections, every new session gets a fresh id.
//
//	s := newF()
//	a := s.connect(0, 5, "s1")           // client 0's first connection
//	s.fault(500, "s1", "cut")
//	s.leave(0, 502, "s1", a)              // CONNECTED_ACTIVE → CONNECTING
//	s.fail(503, "s2")                     // an attempt s2's server saw fail
//	s.land(0, 504, "s3", cg)              // a new session on s3

type fstory struct {
	evs   []history.Event
	conns map[string]int
	sess  int
}

func newF() *fstory { return &fstory{conns: map[string]int{}} }

func (s *fstory) add(es ...history.Event) *fstory {
	s.evs = append(s.evs, es...)
	return s
}

func (s *fstory) conn(srv string) string {
	s.conns[srv]++
	return fmt.Sprintf("%s#%d", srv, s.conns[srv])
}

func (s *fstory) newSess() string {
	s.sess++
	return fmt.Sprintf("S%d", s.sess)
}

// cst is a state event of client c.
func cst(ms float64, c int, from, to, srv, sess string, kv ...string) history.Event {
	return ev(ms, history.KindState, append([]string{fmt.Sprintf("client=%d", c), "from=" + from, "to=" + to, "server=" + srv, "session=" + sess}, kv...)...)
}

// op is the harness's connect op for client c.
func (s *fstory) op(c int, ms float64) *fstory {
	return s.add(ev(ms, history.KindOp, fmt.Sprintf("client=%d", c), "op=connect", "id=1"),
		cst(ms+0.1, c, "", cg, "s1", ""))
}

// connect: client c's connect op at ms and a first session on srv.
func (s *fstory) connect(c int, ms float64, srv string) string {
	s.op(c, ms)
	return s.land(c, ms+0.2, srv, cg)
}

// land: an attempt on srv at ms that creates a new session; the client
// reports from → CONNECTED_ACTIVE 2ms later. It returns the session.
func (s *fstory) land(c int, ms float64, srv, from string) string {
	cn, sess := s.conn(srv), s.newSess()
	s.add(
		ev(ms, "accept", "server="+srv, "conn="+cn),
		ev(ms+0.5, "handshake", "server="+srv, "conn="+cn, "ok=true", "session="+sess),
		ev(ms+1, "session.create", "server="+srv, "conn="+cn, "session="+sess, "retention_ms=0", "ping_ms=100"),
		cst(ms+2, c, from, cA, srv, sess),
	)
	return sess
}

// fail: an attempt on srv at ms that its server saw closed 1ms later.
func (s *fstory) fail(ms float64, srv string) *fstory {
	cn := s.conn(srv)
	return s.add(ev(ms, "accept", "server="+srv, "conn="+cn), ev(ms+1, "conn.close", "server="+srv, "conn="+cn, "reason=not_upgraded"))
}

// held: an attempt on srv at ms held by a blackhole (no close before the end).
func (s *fstory) held(ms float64, srv string) *fstory {
	return s.add(ev(ms, "accept", "server="+srv, "conn="+s.conn(srv)))
}

// linked: the link in front of srv took a client's connection at ms (its
// link.accept; the client's address is made up).
func (s *fstory) linked(ms float64, srv string) *fstory {
	s.conns["link "+srv]++
	return s.add(ev(ms, history.KindLinkAccept, "link="+srv, fmt.Sprintf("conn=127.0.0.1:%d", 40000+s.conns["link "+srv])))
}

// leave: client c gives up session sess on srv at ms (a failover begins).
func (s *fstory) leave(c int, ms float64, srv, sess string) *fstory {
	return s.add(cst(ms, c, cA, cg, srv, sess, "reason=connection_lost"))
}

func (s *fstory) fault(ms float64, link, verb string) *fstory {
	return s.add(ev(ms, "fault.on", "link="+link, "verb="+verb))
}

func (s *fstory) heal(ms float64, link, verb string) *fstory {
	return s.add(ev(ms, "fault.off", "link="+link, "verb="+verb))
}

// closed: client c goes from → CLOSED_FAILED naming tried (comma-separated).
func (s *fstory) closed(c int, ms float64, from, srv, tried string) *fstory {
	kv := []string{"reason=connection_error"}
	if tried != "" {
		kv = append(kv, "tried="+tried)
	}
	return s.add(cst(ms, c, from, cF, srv, "", kv...))
}

func (s *fstory) hist() history.History {
	h := append(history.History(nil), s.evs...)
	sort.SliceStable(h, func(i, j int) bool { return h[i].T < h[j].T })
	return h
}

// fscen: session servers s1..sn, the client listing them in order with
// reconnection off and connect_timeout 300ms; mods set the switches.
func fscen(n int, mods ...func(*scenario.Scenario)) *scenario.Scenario {
	sc := &scenario.Scenario{Name: "test", Clients: 1}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("s%d", i)
		sc.Servers = append(sc.Servers, scenario.Server{Name: name, Kind: "session"})
		sc.Client.Servers = append(sc.Client.Servers, name)
	}
	sc.Client.ConnectTimeout = 300 * time.Millisecond
	sc.Client.Reconnect.Strategy = scenario.Strategy{Backoff: "fixed", Initial: 100 * time.Millisecond}
	for _, m := range mods {
		m(sc)
	}
	return sc
}

func auto(sc *scenario.Scenario)      { sc.Client.Failover.Auto = true }
func lb(sc *scenario.Scenario)        { sc.Client.Failover.LoadBalancing = true }
func cascading(sc *scenario.Scenario) { sc.Client.Failover.Cascading = true }
func clients(n int) func(*scenario.Scenario) {
	return func(sc *scenario.Scenario) { sc.Clients = n }
}
func reconnectOn(timeout time.Duration) func(*scenario.Scenario) {
	return func(sc *scenario.Scenario) {
		sc.Client.Reconnect.Enabled = true
		sc.Client.Reconnect.Timeout = timeout
	}
}

// lbStory: n clients connected to s1 of s1..s4; s1 is cut at 1000ms and each
// client fails over to the first of [s2 s3 s4] after the engine's shuffle
// sh (seeded).
func lbStory(n int, sh shuffler, seed int64) *fstory {
	r := rand.New(rand.NewSource(seed))
	s := newF()
	sess := make([]string, n)
	for c := range n {
		sess[c] = s.connect(c, 5+float64(c)*0.01, "s1")
	}
	s.fault(1000, "s1", "cut")
	cands := []string{"s2", "s3", "s4"}
	for c := range n {
		t := 1001 + float64(c)*0.01
		s.leave(c, t, "s1", sess[c])
		s.land(c, t+0.5, cands[firstOf(r, sh)], cg)
	}
	return s
}
