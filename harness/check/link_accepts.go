package check

import (
	"fmt"
	"sort"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Link accepts order attempts. A server's accept is stamped when its accept
// goroutine runs, which may be milliseconds after the link dialled it; the
// link stamps the client's connection in its accept loop before dialling.
// So one client's attempts through several links are in the client's order
// by their link accepts, and only to within a slack by their server accepts
// (seen: a reset link's server stamped its accept 3.3ms late, after the
// client's next three attempts). Remote links record none: there the
// server accepts, with the slack, are all there is.

// linkOfAccepts pairs each server accept with the link accept of the same
// connection, by position: a link takes connections and dials its server
// from one loop, so they reach the server's listener, and its accept loop,
// in the order the link took them, however late the server stamps them
// (over 14 soak runs: p50 0.5ms, p99 8ms, max 335ms behind its link, in a
// thousand clients' burst). So no time bound applies. Link accepts whose
// dial failed reached no server and are passed over, and so are those
// taken before a kill of the server (its listener's queue died with it).
// A server accept with no link accept before it did not come through the
// link. The result is aligned with accepts (nil: no link accept for it).
func linkOfAccepts(h history.History, accepts []history.Event) []*history.Event {
	out := make([]*history.Event, len(accepts))
	failed := map[string]bool{}
	links := map[string][]history.Event{}
	kills := map[string][]time.Duration{}
	for _, e := range h {
		switch {
		case e.Source == history.SrcLink && e.Kind == history.KindLinkAccept:
			links[e.Link] = append(links[e.Link], e)
		case e.Source == history.SrcLink && e.Kind == history.KindLinkDialFail:
			failed[e.Link+"|"+e.Conn] = true
		case e.Source == history.SrcServer && e.Kind == history.KindKill:
			kills[e.Server] = append(kills[e.Server], e.T)
		}
	}
	if len(links) == 0 {
		return out
	}
	next := map[string]int{} // per link, its first link accept not yet paired or passed over
	for i, s := range accepts {
		ls := links[s.Server]
		j := next[s.Server]
		for j < len(ls) && (failed[ls[j].Link+"|"+ls[j].Conn] || killedBetween(kills[s.Server], ls[j].T, s.T)) {
			j++
		}
		if j < len(ls) && ls[j].T <= s.T {
			out[i] = &ls[j]
			j++
		}
		next[s.Server] = j
	}
	return out
}

func killedBetween(kills []time.Duration, from, to time.Duration) bool {
	i := sort.Search(len(kills), func(i int) bool { return kills[i] >= from })
	return i < len(kills) && kills[i] <= to
}

// at is when the attempt was made as far as the evidence orders it: its
// link accept when recorded, else its server accept.
func (a attempt) at() time.Duration {
	if a.Link != nil {
		return a.Link.T
	}
	return a.Accept.T
}

// evidence names the attempt's records for details.
func (a attempt) evidence() string {
	if a.Link != nil {
		return fmt.Sprintf("server accept %s; link accept at %s", a.conn(), dur(a.Link.T))
	}
	return "server accept " + a.conn()
}

// byLinkOrder sorts attempts by at(): the client's order where links
// recorded their accepts, the servers' order where they did not.
func byLinkOrder(as []attempt) {
	sort.SliceStable(as, func(i, j int) bool { return as[i].at() < as[j].at() })
}
