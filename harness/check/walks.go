package check

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// Walks: a client's passes over the server list in search of a new session
// (F1–F4, C1–C3): the cascade of its first connection, and each failover. The
// attempts of a walk are the server accepts in its window, in the order of
// their links' accepts where recorded (link_accepts.go); they are
// attributed to the client only when no other client was looking for a
// server at the same time (with many clients, only the walk's outcome can be
// attributed, through its session id).

// walkView is the clients' walks and the order rule they are judged by
// (walk_order.go): the F and C checkers' shared facts, built on the
// outages, whose stays keep other clients' attempts off a walk.
type walkView struct {
	*view             // the index
	ov    *outageView // attempts, and the outages that make clients busy
}

func newWalkView(v *view, ov *outageView) *walkView { return &walkView{view: v, ov: ov} }

// walkSlack is how much earlier than the client's CONNECTING a failover's
// first attempt may be recorded: the engine dials as it reports, and the
// report travels through the driver before it is stamped.
const walkSlack = 50 * time.Millisecond

// Walk kinds.
const (
	walkCascade  = "cascade"
	walkFailover = "failover"
)

// srvWalk is one walk of one client.
type srvWalk struct {
	Client int
	Kind   string
	N      int           // 0-based among the client's walks of this kind
	Start  history.Event // cascade: the harness's connect op (or the first state); failover: the state into CONNECTING
	From   time.Duration // the window's start
	// Failover: the server and session given up, and the state left.
	Lost, LostSession string
	Left              string // CONNECTED_ACTIVE or RECOVERING_RECONNECT
	End               *history.Event
	Attempts          []attempt // accepts in the window: listed only when Attributed
	Attributed        bool      // the window's accepts are this client's alone
	Clash             string    // why they are not
}

func (w srvWalk) String() string {
	if w.Kind == walkCascade {
		return fmt.Sprintf("client %d cascade (connect at %s)", w.Client, dur(w.Start.T))
	}
	return fmt.Sprintf("client %d failover %d (from %s at %s)", w.Client, w.N, w.Lost, dur(w.Start.T))
}

// Until is when the walk ended (the end of the history if it did not).
func (w srvWalk) Until(v *view) time.Duration {
	if w.End != nil {
		return w.End.T
	}
	return v.end
}

// Landed reports whether the walk ended CONNECTED_ACTIVE.
func (w srvWalk) Landed() bool { return w.End != nil && w.End.To == driver.ConnectedActive }

// Ending describes how the walk ended.
func (w srvWalk) Ending(v *view) string {
	switch {
	case w.End == nil:
		return fmt.Sprintf("was still CONNECTING at the end, %s", dur(v.end))
	case w.Landed():
		return fmt.Sprintf("went CONNECTED_ACTIVE on %s (session %q) at %s", w.End.Server, w.End.Session, dur(w.End.T))
	default:
		return fmt.Sprintf("went %s%s at %s", w.End.To, reasonText(*w.End), dur(w.End.T))
	}
}

// servers are the servers of the walk's attempts, in order.
func (w srvWalk) servers() []string {
	out := make([]string, len(w.Attempts))
	for i, a := range w.Attempts {
		out[i] = a.Accept.Server
	}
	return out
}

// connectOps are the harness's connect ops per client.
func (v *walkView) connectOps() map[int][]history.Event {
	out := map[int][]history.Event{}
	for _, e := range v.h {
		if e.Source == history.SrcHarness && e.Kind == history.KindOp && e.Op == driver.OpConnect {
			out[e.Client] = append(out[e.Client], e)
		}
	}
	return out
}

// all lists every client's walks, clients in order, each client's in time
// order, with their attempts and whether those can be attributed.
func (v *walkView) all() []srvWalk { return derive(v.memo, walksKey{}, v.find) }

type walksKey struct{}

// find computes all.
func (v *walkView) find() []srvWalk {
	ops := v.connectOps()
	var out []srvWalk
	for _, c := range v.clients {
		st := v.states[c]
		// The cascade: from the connect op to the first CONNECTED_ACTIVE or close.
		var start history.Event
		switch {
		case len(ops[c]) > 0:
			start = ops[c][0]
		case len(st) > 0:
			start = st[0]
		default:
			continue
		}
		w := srvWalk{Client: c, Kind: walkCascade, Start: start, From: start.T}
		for i := range st {
			if st[i].T >= start.T && (st[i].To == driver.ConnectedActive || driver.IsClosed(st[i].To)) {
				e := st[i]
				w.End = &e
				break
			}
		}
		out = append(out, w)
		// Failovers: every change into CONNECTING from a session; and, where
		// the lost session was its connection (conn_sessions.go: core NATS),
		// every recovery from it, which can only open a new session: the
		// library's reconnection is its failover.
		n := 0
		for i, e := range st {
			switch {
			case e.To == driver.Connecting && (e.From == driver.ConnectedActive || e.From == driver.RecoveringReconnect):
			case e.To == driver.RecoveringReconnect && e.From == driver.ConnectedActive && v.connScoped(e.Session):
			default:
				continue
			}
			fw := srvWalk{Client: c, Kind: walkFailover, N: n, Start: e, Left: e.From, Lost: e.Server, LostSession: e.Session}
			n++
			if i > 0 {
				if fw.Lost == "" {
					fw.Lost = st[i-1].Server
				}
				if fw.LostSession == "" {
					fw.LostSession = st[i-1].Session
				}
			}
			fw.From = e.T - walkSlack
			if i > 0 && st[i-1].T > fw.From {
				fw.From = st[i-1].T
			}
			for j := i + 1; j < len(st); j++ {
				if st[j].To == driver.ConnectedActive || driver.IsClosed(st[j].To) {
					end := st[j]
					fw.End = &end
					break
				}
			}
			out = append(out, fw)
		}
	}
	busy := newBusyIndex(v.busyIntervals(out))
	for i := range out {
		w := &out[i]
		w.Attributed, w.Clash = true, ""
		upTo := v.walkReach(w)
		if b, ok := busy.clash(w.Client, w.From, upTo); ok {
			w.Attributed = false
			w.Clash = fmt.Sprintf("client %d was %s from %s to %s", b.client, b.what, dur(b.from), dur(b.to))
		}
		if !w.Attributed {
			continue // the accepts are not this client's alone: none are listed
		}
		// An attempt's server accept may be stamped after the landing it
		// preceded (a reset link dials its server, then the server's accept
		// goroutine runs late: the two records are not causally ordered);
		// its link accept, in the client's order, places it in the walk.
		for _, a := range v.ov.attempts(w.From, upTo+v.slack) {
			if at := a.Accept.T; a.Link != nil {
				at = a.Link.T
				if at > upTo {
					continue
				}
			} else if at > upTo {
				continue
			}
			// Before a failover from RECOVERING_RECONNECT, accepts on the lost
			// server are the recovery's own attempts.
			if w.Kind == walkFailover && w.Left == driver.RecoveringReconnect && a.Accept.T < w.Start.T && a.Accept.Server == w.Lost {
				continue
			}
			w.Attempts = append(w.Attempts, a)
		}
		byLinkOrder(w.Attempts)
	}
	return out
}

// walkReach is how late a server accept may be stamped and still belong to
// walk w. +lag: streamed server evidence (containers, external) may be
// stamped just after the client's claim of the landing it backs. A walk that
// ends closed may see its last accept after the close by up to the full
// slack: the link fails the client's side (reset, cut) once it has dialled
// the server, but the server stamps its accept only when its accept
// goroutine runs, so the two records of one attempt are not causally
// ordered. A landing is: its accept precedes the welcome the client awaits.
func (v *walkView) walkReach(w *srvWalk) time.Duration {
	if w.End != nil && driver.IsClosed(w.End.To) {
		return w.Until(v.view) + v.slack
	}
	return w.Until(v.view) + v.lag
}

// interval is a stretch of time in which a client may make attempts.
type interval struct {
	client   int
	from, to time.Duration
	what     string
}

// busyIntervals are the walks' windows and every RECOVERING_RECONNECT stay.
func (v *walkView) busyIntervals(ws []srvWalk) []interval {
	var out []interval
	for _, w := range ws {
		out = append(out, interval{w.Client, w.From, w.Until(v.view), "in a " + w.Kind})
	}
	for _, c := range v.clients {
		for _, o := range v.ov.of(c) {
			out = append(out, interval{c, o.Start.T, o.Until(v.view), "RECOVERING_RECONNECT"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].from < out[j].from })
	return out
}

// of are the walks of one kind.
func (v *walkView) of(kind string) []srvWalk {
	var out []srvWalk
	for _, w := range v.all() {
		if w.Kind == kind {
			out = append(out, w)
		}
	}
	return out
}

// cascadeList is the order the first connection must follow: the client's
// servers with cascading on, else the first only.
func (v *walkView) cascadeList() []string {
	if v.sc.Client.Failover.Cascading {
		return slices.Clone(v.sc.Client.Servers)
	}
	return slices.Clone(v.sc.Client.Servers[:min(1, len(v.sc.Client.Servers))])
}

// failoverList is the list order of a failover from lost: the servers after
// it (wrapping round), then lost itself.
func (v *walkView) failoverList(lost string) []string {
	list := v.sc.Client.Servers
	i := slices.Index(list, lost)
	if i < 0 {
		return slices.Clone(list)
	}
	return append(append(slices.Clone(list[i+1:]), list[:i]...), lost)
}

// busyAfter says which other client may have made attempts after t ("" if
// none: accepts after t are then this client's).
func (v *walkView) busyAfter(client int, t time.Duration) string {
	return v.othersBusy(client, t, v.end)
}

// othersBusy says which other client may have made attempts in [from, to]
// ("" if none).
func (v *walkView) othersBusy(client int, from, to time.Duration) string {
	for _, w := range v.all() {
		if w.Client != client && w.Until(v.view) >= from && w.From <= to {
			return fmt.Sprintf("%s until %s", w, dur(w.Until(v.view)))
		}
	}
	for _, c := range v.clients {
		if c == client {
			continue
		}
		for _, o := range v.ov.of(c) {
			if o.Until(v.view) >= from && o.Start.T <= to {
				return fmt.Sprintf("%s until %s", o, dur(o.Until(v.view)))
			}
		}
	}
	return ""
}

// splitByFailover splits accepts into those outside every failover window of
// client c (walkReach) and the count of those inside one.
func (v *walkView) splitByFailover(c int, accepts []history.Event) (outside []history.Event, inside int) {
	ws := v.of(walkFailover)
	for _, a := range accepts {
		in := false
		for i := range ws {
			if w := &ws[i]; w.Client == c && a.T >= w.From && a.T <= v.walkReach(w) {
				in = true
				break
			}
		}
		if in {
			inside++
		} else {
			outside = append(outside, a)
		}
	}
	return outside, inside
}
