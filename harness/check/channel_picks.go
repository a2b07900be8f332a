package check

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// A client channel's picks, as the servers saw them: the view shared by the
// checks that judge a real client library's own load balancing over several
// backends (a gRPC channel with round_robin: rpc_rotation T1, rpc_skip T2,
// rpc_discovery T6). Unlike faultline's router (route_view.go), a client
// channel reports nothing of its picks: every send is placed by the server
// that received it, and the channel's changes of mind (a backend connected
// or lost, a resolver update) are read from the servers', links' and
// harness's records of what could cause them.

// DefaultRPCSettle is how far apart, by default, a change of the channel's
// backends may be recorded and felt by its picker: a send within this of
// such a record may have been picked before or after it (widened by the
// run's evidence lag).
const DefaultRPCSettle = 50 * time.Millisecond

const (
	// paramLBPolicy is the contract param naming the load-balancing policy
	// the channel runs (the gRPC drivers: pick_first | round_robin).
	paramLBPolicy = "lb_policy"
	lbRoundRobin  = "round_robin"
	// rpcMethodSend ends the method name of the RPC a send op makes
	// (packs/grpc: /faultline.grpc.Feed/Send); any other RPC of the client
	// takes a pick of its own.
	rpcMethodSend = "/Send"
)

// rpcSend is one send the library took, numbered as its driver numbers
// them (1, 2, … per client: the number the payload carries, the server's
// receive Seq), and where it landed.
type rpcSend struct {
	N     int64
	Op    time.Duration  // the harness's send op (-1: unknown)
	Taken time.Duration  // its ok reply: the library took it (-1: unknown)
	Land  *history.Event // the server's receive; nil: no server received it (a hole)
}

// from and to bound when the send may have been picked: from its op to
// its reply or its landing, whichever is later.
func (s rpcSend) from() time.Duration {
	switch {
	case s.Op >= 0:
		return s.Op
	case s.Taken >= 0:
		return s.Taken
	}
	return s.Land.T
}

func (s rpcSend) to() time.Duration {
	t := s.Taken
	if s.Land != nil && s.Land.T > t {
		t = s.Land.T
	}
	if t < 0 {
		return s.from()
	}
	return t
}

// at is when the send landed, else when the library took it.
func (s rpcSend) at() time.Duration {
	if s.Land != nil {
		return s.Land.T
	}
	return s.to()
}

// rpcMark is a record of something that may change the channel's picker:
// a connection to a backend accepted, up or closed, a link fault on or off,
// a link accept (an attempt), an RPC other than a send (it takes a pick of
// its own), a resolver update.
type rpcMark struct {
	T    time.Duration
	What string
}

// rpcConn is one connection of the client as its server saw it: serving
// from its handshake (its accept when the kind records no handshake) to
// its close (-1: open to the end).
type rpcConn struct {
	Server, Conn string
	Accept, Up   time.Duration
	Down         time.Duration
	OK           bool // the transport came up
}

func (c rpcConn) servingAt(t time.Duration) bool {
	return c.OK && c.Up <= t && (c.Down < 0 || c.Down > t)
}

// rpcSpan is an interval of the timeline.
type rpcSpan struct {
	From, To time.Duration
	What     string
}

type rpcView struct {
	*view
	sends   []rpcSend       // by N
	refused []history.Event // send replies that were not ok (the library did not take them)
	errors  []history.Event // the client's error events
	marks   []rpcMark       // by T
	blind   []rpcSpan       // faults under which the channel's changes leave no record
	conns   []rpcConn       // in accept order
	dups    int             // receives of a number already received
	settle  time.Duration
	pace    time.Duration // median gap between send ops (0: fewer than two)
	ct      *Contract     // the client's effective contract (its last connect)
}

// onRPCView is a checker's Check over the RPC view: one client only (the
// servers' accepts and receives are attributed to it), settle the
// checker's or the default, widened by the run's evidence lag.
func onRPCView(in Input, cfg any, settle *time.Duration, check func(*rpcView) Result) Result {
	return onView(in, cfg, func(v *view) Result {
		if r, ok := v.needOneClient(); !ok {
			return r
		}
		return check(newRPCView(v, or(settle, DefaultRPCSettle)+v.lag))
	})
}

func newRPCView(v *view, settle time.Duration) *rpcView {
	rv := &rpcView{view: v, settle: settle}
	opAt := map[string]time.Duration{}
	var sendOps []time.Duration
	byConn := map[string]int{} // server|conn -> index in conns
	handshakes := map[string]bool{}
	recv := map[int64]*history.Event{}
	for i := range v.h {
		e := &v.h[i]
		switch {
		case e.Kind == history.KindOp && e.Op == driver.OpSend:
			opAt[e.Attr("id")] = e.T
			sendOps = append(sendOps, e.T)
		case e.Kind == history.KindReply && e.Op == driver.OpSend:
			if !e.OK {
				rv.refused = append(rv.refused, *e)
				continue
			}
			op, ok := opAt[e.Attr("id")]
			if !ok {
				op = -1
			}
			rv.sends = append(rv.sends, rpcSend{N: int64(len(rv.sends) + 1), Op: op, Taken: e.T})
		case e.Kind == history.KindError && e.Source == history.SrcClient:
			rv.errors = append(rv.errors, *e)
		case e.Kind == history.KindReceive && e.Source == history.SrcServer && e.Seq > 0:
			if recv[e.Seq] != nil {
				rv.dups++
				continue
			}
			recv[e.Seq] = e
		case e.Kind == history.KindAccept:
			byConn[connKey(e.Server, e.Conn)] = len(rv.conns)
			rv.conns = append(rv.conns, rpcConn{Server: e.Server, Conn: e.Conn, Accept: e.T, Up: e.T, Down: -1})
			rv.mark(e.T, "%s accepted %s", e.Server, e.Conn)
		case e.Kind == history.KindHandshake:
			k := connKey(e.Server, e.Conn)
			handshakes[k] = true
			if i, ok := byConn[k]; ok {
				rv.conns[i].Up, rv.conns[i].OK = e.T, e.OK
			}
			rv.mark(e.T, "%s handshake %s ok=%v", e.Server, e.Conn, e.OK)
		case e.Kind == history.KindConnClose:
			if i, ok := byConn[connKey(e.Server, e.Conn)]; ok && rv.conns[i].Down < 0 {
				rv.conns[i].Down = e.T
			}
			rv.mark(e.T, "%s closed %s (%s)", e.Server, e.Conn, e.Reason)
		case e.Kind == history.KindGoingAway || e.Kind == history.KindKill || e.Kind == history.KindRestart || e.Kind == "grpc.goaway" || e.Kind == "grpc.listen":
			rv.mark(e.T, "%s %s", e.Server, e.Kind)
		case e.Kind == "grpc.rpc" && !strings.HasSuffix(e.Attr("method"), rpcMethodSend):
			rv.mark(e.T, "%s began %s on %s (a pick that is not a send)", e.Server, e.Attr("method"), e.Conn)
		case e.Kind == history.KindLinkAccept:
			rv.mark(e.T, "link %s accepted a connection (an attempt)", e.Link)
		case e.Kind == history.KindLinkDialFail:
			rv.mark(e.T, "link %s could not dial its server", e.Link)
		case e.Kind == history.KindFaultOff:
			rv.mark(e.T, "%s on %s healed", e.Verb, e.Link)
		case (e.Kind == history.KindOp || e.Kind == history.KindReply) && (e.Op == driver.OpDiscoveryAdd || e.Op == driver.OpDiscoveryRemove):
			rv.mark(e.T, "%s %s (%s)", e.Op, e.Server, e.Kind)
		}
	}
	// A kind that records handshakes serves a connection from its
	// handshake only (an accepted connection that a cut link resets at once
	// is never READY); one that records none, from its accept.
	for i := range rv.conns {
		if !handshakes[connKey(rv.conns[i].Server, rv.conns[i].Conn)] {
			rv.conns[i].OK = true
		}
	}
	for _, f := range v.faults {
		rv.mark(f.began(), "%s on %s began", f.Verb, f.Link)
		rv.mark(f.On.T, "%s on %s in force", f.Verb, f.Link)
		if f.Verb == VerbDown || f.Verb == VerbBlackhole {
			to := v.end
			if f.Off != nil {
				to = f.Off.T
			}
			rv.blind = append(rv.blind, rpcSpan{From: f.began(), To: to, What: f.String()})
		}
	}
	sort.SliceStable(rv.marks, func(i, j int) bool { return rv.marks[i].T < rv.marks[j].T })
	// Numbers the servers received beyond the ok replies (a driver that
	// numbers otherwise) are kept, placed by their landing.
	for n := range recv {
		for int64(len(rv.sends)) < n {
			rv.sends = append(rv.sends, rpcSend{N: int64(len(rv.sends) + 1), Op: -1, Taken: -1})
		}
	}
	kept := rv.sends[:0]
	for _, s := range rv.sends {
		s.Land = recv[s.N]
		if s.Op >= 0 || s.Taken >= 0 || s.Land != nil { // a number never sent nor received has no place
			kept = append(kept, s)
		}
	}
	rv.sends = kept
	if len(sendOps) > 1 {
		gaps := make([]time.Duration, 0, len(sendOps)-1)
		for i := 1; i < len(sendOps); i++ {
			gaps = append(gaps, sendOps[i]-sendOps[i-1])
		}
		sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
		rv.pace = gaps[len(gaps)/2]
	}
	rv.ct = v.client().contract(0, v.end)
	return rv
}

func (rv *rpcView) mark(t time.Duration, format string, args ...any) {
	rv.marks = append(rv.marks, rpcMark{T: t, What: fmt.Sprintf(format, args...)})
}

// markIn is the first mark in [from, to], if any.
func (rv *rpcView) markIn(from, to time.Duration) (rpcMark, bool) {
	i := sort.Search(len(rv.marks), func(i int) bool { return rv.marks[i].T >= from })
	if i < len(rv.marks) && rv.marks[i].T <= to {
		return rv.marks[i], true
	}
	return rpcMark{}, false
}

// blindIn is a blind span (a down or blackhole fault) overlapping
// [from, to], if any.
func (rv *rpcView) blindIn(from, to time.Duration) (rpcSpan, bool) {
	for _, b := range rv.blind {
		if b.From <= to && b.To >= from {
			return b, true
		}
	}
	return rpcSpan{}, false
}

// settled reports whether send s was picked by a picker that no recorded
// change could have touched: no mark within settle of the send, no blind
// span over it.
func (rv *rpcView) settled(s rpcSend) bool {
	if _, ok := rv.markIn(s.from()-rv.settle, s.to()+rv.settle); ok {
		return false
	}
	_, blind := rv.blindIn(s.from(), s.to())
	return !blind
}

// segments splits the sends into runs of settled sends between which no
// change was recorded: within a run the channel picked with one picker.
// Unsettled sends are counted, not placed.
func (rv *rpcView) segments() (segs [][]rpcSend, unsettled int) {
	var cur []rpcSend
	flush := func() {
		if len(cur) > 0 {
			segs = append(segs, cur)
		}
		cur = nil
	}
	for _, s := range rv.sends {
		if !rv.settled(s) {
			unsettled++
			flush()
			continue
		}
		if len(cur) > 0 {
			if _, ok := rv.markIn(cur[len(cur)-1].to(), s.from()); ok {
				flush()
			}
		}
		cur = append(cur, s)
	}
	flush()
	return segs, unsettled
}

// serving is the set of backends with a connection of the client serving
// at t (server evidence).
func (rv *rpcView) serving(t time.Duration) map[string]bool {
	out := map[string]bool{}
	for _, c := range rv.conns {
		if c.servingAt(t) {
			out[c.Server] = true
		}
	}
	return out
}

// servingThrough reports whether server had one connection serving all of
// [from, to].
func (rv *rpcView) servingThrough(server string, from, to time.Duration) bool {
	for _, c := range rv.conns {
		if c.Server == server && c.OK && c.Up <= from && (c.Down < 0 || c.Down > to) {
			return true
		}
	}
	return false
}

// firstUp is server's first connection up at or after t.
func (rv *rpcView) firstUp(server string, t time.Duration) (rpcConn, bool) {
	for _, c := range rv.conns {
		if c.Server == server && c.OK && c.Up >= t {
			return c, true
		}
	}
	return rpcConn{}, false
}

// firstLanding is the first send landing on server at or after t.
func (rv *rpcView) firstLanding(server string, t time.Duration) (rpcSend, bool) {
	var best rpcSend
	found := false
	for _, s := range rv.sends {
		if s.Land != nil && s.Land.Server == server && s.Land.T >= t && (!found || s.Land.T < best.Land.T) {
			best, found = s, true
		}
	}
	return best, found
}

// errorFor is the text of the client's error event that names send n
// ("n=N:"), for a detail ("" when none does).
func (rv *rpcView) errorFor(n int64) string {
	key := fmt.Sprintf("n=%d:", n)
	for _, e := range rv.errors {
		if strings.Contains(e.Reason, key) {
			return e.Reason
		}
	}
	return ""
}

// round is how long the channel takes to go round k backends at the send
// pace: the longest a READY backend waits for its turn.
func (rv *rpcView) round(k int) time.Duration { return time.Duration(max(k, 1)) * rv.pace }

// lbPolicy is the load-balancing policy the client's effective contract
// names ("" when it names none).
func (rv *rpcView) lbPolicy() string {
	if rv.ct == nil {
		return ""
	}
	s, _ := rv.ct.Params[paramLBPolicy].(string)
	return s
}

// lbSays renders the contract's lb_policy for a detail.
func (rv *rpcView) lbSays() string {
	if p := rv.lbPolicy(); p != "" {
		return "the client's effective contract names params." + paramLBPolicy + ": " + p
	}
	return "the client's effective contract does not name its load-balancing policy (params." + paramLBPolicy + ")"
}

// nameSet renders a set of server names, sorted.
func nameSet(set map[string]bool) string {
	return "[" + strings.Join(sortedKeys(set), " ") + "]"
}
