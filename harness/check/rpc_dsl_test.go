package check

import (
	"fmt"
	"sort"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// A DSL for a client channel's histories (rpc_rotation, rpc_skip,
// rpc_discovery): one client, backends s1..sn each behind its link, sends
// numbered 1, 2, … as the driver numbers them.
//
//	s := newRPC()
//	s.lb(6, "round_robin")                   // the connect reply's contract
//	s.upAll(1, "s1", "s2", "s3", "s4")       // a connection to each
//	s.rotate(100, 20, 8, "s3", "s4", "s1", "s2") // 8 sends, every 20ms, in that cyclic order
//	s.cut(1000, "s2")                        // the link cut: s2's connection closes
type rpcStory struct {
	evs   []history.Event
	conns map[string]int
	open  map[string]string // server -> its open connection
	n     int64             // sends numbered so far
	id    int
}

func newRPC() *rpcStory { return &rpcStory{conns: map[string]int{}, open: map[string]string{}} }

func (s *rpcStory) add(es ...history.Event) *rpcStory {
	s.evs = append(s.evs, es...)
	return s
}

// lb is the connect op and its reply, whose contract names params.lb_policy
// (none when policy is "") with the back-off params given.
func (s *rpcStory) lb(ms float64, policy string, params ...any) *rpcStory {
	p := map[string]any{}
	if policy != "" {
		p["lb_policy"] = policy
	}
	for i := 0; i+1 < len(params); i += 2 {
		p[params[i].(string)] = params[i+1]
	}
	s.add(ev(ms-1, history.KindOp, "client=0", "op=connect", "id=0"))
	return s.add(ctReply(ms, map[string]string{"first_attempt": "immediate", "jitter": "none"}, p))
}

// up: a connection to srv accepted at ms, its handshake 0.5ms later.
func (s *rpcStory) up(ms float64, srv string) string {
	s.conns[srv]++
	c := fmt.Sprintf("%s#%d", srv, s.conns[srv])
	s.open[srv] = c
	s.add(ev(ms-0.2, history.KindLinkAccept, "link="+srv, "conn=127.0.0.1:1"),
		ev(ms, "accept", "server="+srv, "conn="+c),
		ev(ms+0.5, "handshake", "server="+srv, "conn="+c, "ok=true"))
	return c
}

func (s *rpcStory) upAll(ms float64, srvs ...string) *rpcStory {
	for _, srv := range srvs {
		s.up(ms, srv)
	}
	return s
}

// attempt: an attempt on srv's link at ms that its server closes 1ms later
// (a cut link resets it as soon as bytes flow).
func (s *rpcStory) attempt(ms float64, srv string) *rpcStory {
	s.conns[srv]++
	c := fmt.Sprintf("%s#%d", srv, s.conns[srv])
	return s.add(ev(ms-0.2, history.KindLinkAccept, "link="+srv, "conn=127.0.0.1:2"),
		ev(ms, "accept", "server="+srv, "conn="+c),
		ev(ms+1, "conn.close", "server="+srv, "conn="+c, "reason=eof"))
}

// cut: srv's link cut at ms: its open connection closes at once.
func (s *rpcStory) cut(ms float64, srv string) *rpcStory {
	s.add(ev(ms, "fault.on", "link="+srv, "verb=cut", "id=f"+srv))
	if c := s.open[srv]; c != "" {
		s.add(ev(ms-0.5, "conn.close", "server="+srv, "conn="+c, "reason=eof"))
		delete(s.open, srv)
	}
	return s
}

func (s *rpcStory) heal(ms float64, srv string) *rpcStory {
	return s.add(ev(ms, "fault.off", "link="+srv, "verb=cut", "id=f"+srv))
}

// closeConn: srv's open connection closed at ms.
func (s *rpcStory) closeConn(ms float64, srv string) *rpcStory {
	if c := s.open[srv]; c != "" {
		s.add(ev(ms, "conn.close", "server="+srv, "conn="+c, "reason=eof"))
		delete(s.open, srv)
	}
	return s
}

// send: a send op at ms, taken (ok reply) 0.2ms later, received by srv
// 0.5ms after the op ("" : no server received it; "!" : refused).
func (s *rpcStory) send(ms float64, srv string) *rpcStory {
	s.id++
	id := fmt.Sprint(s.id + 100)
	s.add(ev(ms, history.KindOp, "client=0", "op=send", "id="+id))
	if srv == "!" {
		return s.add(ev(ms+0.2, history.KindReply, "client=0", "op=send", "id="+id, "reason=UNAVAILABLE: no children to pick from"))
	}
	s.n++
	s.add(ev(ms+0.2, history.KindReply, "client=0", "op=send", "id="+id, "ok=true"))
	if srv != "" {
		s.add(ev(ms+0.5, "receive", "server="+srv, "conn="+s.open[srv], fmt.Sprintf("seq=%d", s.n), "client=0"))
	} else {
		s.add(ev(ms+0.3, history.KindError, "client=0", fmt.Sprintf("reason=grpc-go Send n=%d: written to a connection, then failed: Unavailable", s.n)))
	}
	return s
}

// rotate: count sends from ms, every ms apart, cycling over order.
func (s *rpcStory) rotate(ms, every float64, count int, order ...string) *rpcStory {
	for i := 0; i < count; i++ {
		s.send(ms+float64(i)*every, order[i%len(order)])
	}
	return s
}

// rpc: a non-send RPC (the driver's Hello) on srv at ms.
func (s *rpcStory) rpc(ms float64, srv, method string) *rpcStory {
	return s.add(ev(ms, "grpc.rpc", "server="+srv, "conn="+s.open[srv], "method=/faultline.grpc.Feed/"+method, "client=c0"))
}

// discovery: a discovery op (add or remove) for srv at ms, answered 0.5ms
// later (ok, or refused with why).
func (s *rpcStory) discovery(ms float64, op, srv, why string) *rpcStory {
	s.id++
	id := fmt.Sprint(s.id + 100)
	s.add(ev(ms, history.KindOp, "client=0", "op=discovery."+op, "server="+srv, "id="+id))
	if why != "" {
		return s.add(ev(ms+0.5, history.KindReply, "client=0", "op=discovery."+op, "server="+srv, "id="+id, "reason="+why))
	}
	return s.add(ev(ms+0.5, history.KindReply, "client=0", "op=discovery."+op, "server="+srv, "id="+id, "ok=true"))
}

func (s *rpcStory) end(ms float64) *rpcStory {
	return s.add(ev(ms, history.KindStep, "step=end"))
}

func (s *rpcStory) hist() history.History {
	h := append(history.History(nil), s.evs...)
	sort.SliceStable(h, func(i, j int) bool { return h[i].T < h[j].T })
	return h
}

// chScen: grpc servers s1..sn, one client listing the first `listed` of
// them; mods as fscen's.
func chScen(n, listed int, mods ...func(*scenario.Scenario)) *scenario.Scenario {
	sc := &scenario.Scenario{Name: "test", Clients: 1}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("s%d", i)
		sc.Servers = append(sc.Servers, scenario.Server{Name: name, Kind: "grpc"})
		if i <= listed {
			sc.Client.Servers = append(sc.Client.Servers, name)
		}
	}
	for _, m := range mods {
		m(sc)
	}
	return sc
}

// cycle is order rotated to start at its i-th element.
func cycle(i int, order ...string) []string {
	i %= len(order)
	return append(append([]string(nil), order[i:]...), order[:i]...)
}
