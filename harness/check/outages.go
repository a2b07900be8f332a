package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// Outages and loss hits: a client's stays in RECOVERING_RECONNECT (client
// evidence) with the attempts the servers saw in them, and the loss faults
// (link evidence) that hit a client while it was CONNECTED_ACTIVE.

// outageView is the servers' attempts (attempts.go) and the clients'
// outages and loss hits, with their schedule (schedule.go): the facts the
// R checkers share, apart from walks, which build on them.
type outageView struct {
	*view             // the index
	cv    *clientView // lossHits reads the clients' states
}

func newOutageView(v *view, cv *clientView) *outageView { return &outageView{view: v, cv: cv} }

// outage is a client's stay in RECOVERING_RECONNECT: from the state event
// into it to the next state event (End nil: still recovering at the end).
type outage struct {
	Client int
	N      int // 0-based among the client's outages
	Start  history.Event
	Prev   *history.Event // the state event before Start (normally CONNECTED_ACTIVE)
	End    *history.Event
}

// of lists client c's outages, in order.
func (v *outageView) of(c int) []outage {
	var out []outage
	st := v.states[c]
	for i, e := range st {
		if e.To != driver.RecoveringReconnect {
			continue
		}
		o := outage{Client: c, N: len(out), Start: e}
		if i > 0 {
			p := st[i-1]
			o.Prev = &p
		}
		if i+1 < len(st) {
			n := st[i+1]
			o.End = &n
		}
		out = append(out, o)
	}
	return out
}

// Session is the session being recovered.
func (o outage) Session() string {
	if o.Start.Session != "" {
		return o.Start.Session
	}
	if o.Prev != nil {
		return o.Prev.Session
	}
	return ""
}

// Server is the server the client was on when it lost the connection.
func (o outage) Server(v *view) string {
	if o.Prev != nil && o.Prev.Server != "" {
		return o.Prev.Server
	}
	if o.Start.Server != "" {
		return o.Start.Server
	}
	return v.firstServer()
}

// Until is when the outage ended (the end of the history if it did not).
func (o outage) Until(v *view) time.Duration {
	if o.End != nil {
		return o.End.T
	}
	return v.end
}

// Recovered reports whether the outage ended back in CONNECTED_ACTIVE.
func (o outage) Recovered() bool {
	return o.End != nil && o.End.To == driver.ConnectedActive
}

// Closed reports whether the outage ended in a CLOSED_* state.
func (o outage) Closed() bool { return o.End != nil && driver.IsClosed(o.End.To) }

// Attempts are the server accepts during the outage (including the one
// that succeeded, whose accept precedes the client's CONNECTED_ACTIVE). With
// streamed evidence (a run's lag), an accept on the lost server stamped
// within the lag after the outage's end still belongs to it; one on another
// server there is the next phase's (a failover's first attempt).
func (o outage) Attempts(v *view) []attempt {
	// The client reports its RECOVERING_RECONNECT through its driver, while
	// the servers stamp their accepts directly: a library that retries at
	// once (first_attempt: immediate) may have its first attempt accepted
	// before its report arrives (seen: 0.3 ms). So an outage reaches back
	// the cross-observer slack, never past the state before it (the
	// connection being lost).
	from := o.Start.T - v.slack
	if o.Prev != nil {
		from = max(from, o.Prev.T+1)
	}
	out := v.outages().attempts(from, o.Until(v))
	// As for walks (walkReach): streamed evidence may come up to lag late,
	// and the last attempt of an outage that ended closed may have its
	// accept stamped after the close, up to the full slack, because the
	// proxy fails the client's side while still dialling the server.
	reach := v.lag
	if o.Closed() {
		reach = v.slack
	}
	if reach > 0 {
		lost := o.Server(v)
		for _, a := range v.outages().attempts(o.Until(v)+1, o.Until(v)+reach) {
			if a.Accept.Server == lost {
				out = append(out, a)
			}
		}
	}
	return out
}

func (o outage) String() string {
	return fmt.Sprintf("client %d outage %d (RECOVERING_RECONNECT at %s)", o.Client, o.N, dur(o.Start.T))
}

// Ending describes how the outage ended.
func (o outage) Ending(v *view) string {
	switch {
	case o.End == nil:
		return fmt.Sprintf("was still RECOVERING_RECONNECT at the end, %s", dur(v.end))
	case o.Recovered():
		return fmt.Sprintf("recovered (CONNECTED_ACTIVE) at %s", dur(o.End.T))
	default:
		return fmt.Sprintf("went %s%s at %s", o.End.To, reasonText(*o.End), dur(o.End.T))
	}
}

// ---- loss faults hitting a connected client -----------------------------

// lossHit is a loss fault on the link of the server a client was
// CONNECTED_ACTIVE on when it came.
type lossHit struct {
	Client int
	Fault  faultSpan
	Active history.Event  // the CONNECTED_ACTIVE state the client was in
	Leave  *history.Event // the client's next state event (leaving CONNECTED_ACTIVE); nil: never
}

// Server is the server (and link) the client was on.
func (l lossHit) Server(v *view) string {
	if l.Active.Server != "" {
		return l.Active.Server
	}
	return v.firstServer()
}

// lossHits lists, per client in order, each loss fault that hit it while
// CONNECTED_ACTIVE on the faulted link's server. A client's reaction stamped
// up to stampSlack before the link's fault.on still counts as the reaction.
func (v *outageView) lossHits() []lossHit {
	var out []lossHit
	for _, c := range v.clients {
		st := v.states[c]
		for _, f := range v.faults {
			if !isLossVerb(f.Verb) {
				continue
			}
			i := v.cv.stateAt(c, f.began()-v.slack)
			if i < 0 || st[i].To != driver.ConnectedActive {
				continue
			}
			h := lossHit{Client: c, Fault: f, Active: st[i]}
			if h.Server(v.view) != f.Link {
				continue
			}
			if i+1 < len(st) {
				n := st[i+1]
				h.Leave = &n
			}
			out = append(out, h)
		}
	}
	return out
}
