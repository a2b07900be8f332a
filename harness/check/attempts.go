package check

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Attempts: connection attempts as the servers saw them (server accept,
// close, session served) ordered by their links' accepts where recorded
// (link evidence, link_accepts.go). Indexed in newView (view.accepts,
// closes, served, linkOf).

// attempt is one connection attempt as the servers saw it: its accept, the
// server's close of that connection (if recorded) and the session served on
// it (resume or create, if it succeeded); and the link's accept of it, when
// the link recorded one (it orders attempts: link_accepts.go).
type attempt struct {
	Accept history.Event
	Close  *history.Event
	Served *history.Event
	Link   *history.Event
}

func (a attempt) conn() string { return a.Accept.Conn }

// attempts are the server accepts on the client's servers with T in [from, to].
func (v *outageView) attempts(from, to time.Duration) []attempt {
	var out []attempt
	// accepts are in time order: start at the first one not before from.
	first := sort.Search(len(v.accepts), func(i int) bool { return v.accepts[i].T >= from })
	for i, e := range v.accepts[first:] {
		if e.T > to {
			break
		}
		a := attempt{Accept: e, Link: v.linkOf[first+i]}
		k := connKey(e.Server, e.Conn)
		if c, ok := v.closes[k]; ok && c.T >= e.T {
			c := c
			a.Close = &c
		}
		if s, ok := v.served[k]; ok {
			s := s
			a.Served = &s
		}
		out = append(out, a)
	}
	return out
}

// acceptsAfter are the server accepts on the client's servers with T > t
// (+ the run's evidence lag: a streamed accept is stamped late).
func (v *outageView) acceptsAfter(t time.Duration) []history.Event {
	var out []history.Event
	for _, e := range v.accepts {
		if e.T > t+v.lag {
			out = append(out, e)
		}
	}
	return out
}

// describeAccepts names up to three accepts, for details.
func describeAccepts(es []history.Event) string {
	var parts []string
	for i, e := range es {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("… %d more", len(es)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%s at %s", e.Conn, dur(e.T)))
	}
	return strings.Join(parts, ", ")
}

// attemptEnd is when an attempt had failed, as the servers saw it, judged
// from the next attempt's accept at next: the server's conn.close when it was
// recorded before next, else its accept. While a blackhole held the attempt
// the client gave up after its connect timeout, but the held connection's
// close may only be recorded at the heal: the end is then the earlier of the
// close and accept + connect_timeout.
func (v *outageView) attemptEnd(a attempt, next time.Duration) (time.Duration, string) {
	closed := a.Close != nil && a.Close.T <= next
	if v.faultInForce(a.Accept.Server, VerbBlackhole, a.Accept.T) {
		ct := v.connectTimeout()
		if e := a.Accept.T + ct; e <= next && (!closed || e < a.Close.T) {
			return e, fmt.Sprintf("server accept %s + connect_timeout %s (held by a blackhole)", a.conn(), dur(ct))
		}
	}
	if closed {
		return a.Close.T, "server conn.close " + a.conn()
	}
	return a.Accept.T, "server accept " + a.conn() + " (its close was not recorded before the next attempt)"
}
