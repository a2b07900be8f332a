package check

import (
	"sort"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "edges_closed", Judges: []string{"T4"}, New: func() Checker { return &EdgesClosed{} }})
}

// EdgesClosed judges T4: disconnected from every instance, the router closes
// all edge connections, and still accepts new ones.
//
// When every instance was lost is taken from the servers and links: no
// member (by the harness's discovery ops) had a router connection (server
// route.connect … conn.close) or a loss fault was in force on its link. Once
// that lasted longer than Within, every edge open then must have been closed
// (the router's edge events: client-reported, as the edges are the harness's
// ops) within Within of it; an edge closed while some instance was connected
// and unfaulted is closed for nothing. After a closure every new edge must be
// accepted (at least one must be opened, or nothing shows it), and a closed
// edge must take no message.
type EdgesClosed struct {
	// Within bounds the time from every instance lost (server/link) to
	// edges closed (default: the router's instance liveness + 100ms).
	Within *time.Duration `yaml:"within"`
	// Lag as in round_robin (default: the router's liveness bound).
	Lag *time.Duration `yaml:"lag"`
}

// Validate checks the parameters.
func (c *EdgesClosed) Validate() error {
	if err := nonNegative("within", or(c.Within, 0)); err != nil {
		return err
	}
	return nonNegative("lag", or(c.Lag, 0))
}

// downSpan is a stretch in which every member instance was lost.
type downSpan struct{ from, to time.Duration }

// allDown reports whether every member was without a router connection or
// under a loss fault at t.
func (v *routeView) allDown(t time.Duration) bool {
	members := v.membersAt(t)
	if len(members) == 0 {
		return true
	}
	for _, m := range members {
		conn := false
		for _, s := range v.spans[m] {
			if s.open.T <= t && (s.close == nil || s.close.T > t) {
				conn = true
				break
			}
		}
		faulted := false
		for _, f := range v.faults {
			if f.Link == m && isLossVerb(f.Verb) && f.inForce(t) {
				faulted = true
				break
			}
		}
		if conn && !faulted {
			return false
		}
	}
	return true
}

// downSpans are the stretches in which every member was lost, after the
// first router connection was made.
func (v *routeView) downSpans() []downSpan {
	var pts []time.Duration
	first := time.Duration(-1)
	for _, ss := range v.spans {
		for _, s := range ss {
			pts = append(pts, s.open.T)
			if first < 0 || s.open.T < first {
				first = s.open.T
			}
			if s.close != nil {
				pts = append(pts, s.close.T)
			}
		}
	}
	if first < 0 {
		return nil
	}
	for _, f := range v.faults {
		pts = append(pts, f.On.T)
		if f.Off != nil {
			pts = append(pts, f.Off.T)
		}
	}
	for _, d := range v.disc {
		if d.reply != nil {
			pts = append(pts, d.reply.T)
		}
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i] < pts[j] })
	var out []downSpan
	open := false
	for _, p := range pts {
		if p < first {
			continue
		}
		down := v.allDown(p)
		switch {
		case down && !open:
			out = append(out, downSpan{from: p, to: v.end})
			open = true
		case !down && open:
			out[len(out)-1].to = p
			open = false
		}
	}
	return out
}

// ValidateFor implements scenario.ScenarioValidator: its view FAILS a
// client that is no router (beginRoute).
func (c *EdgesClosed) ValidateFor(sc *scenario.Scenario) error { return needRouter(sc) }

// Check implements Checker.
func (c *EdgesClosed) Check(in Input) Result { return onRouteView(in, c, c.Lag, c.check) }

func (c *EdgesClosed) check(v *routeView) Result {
	within := or(c.Within, routerLiveness(v.sc)+100*time.Millisecond)
	var j judge
	// Edges as the harness opened them and the router closed them.
	type edgeLife struct {
		name           string
		opened, closed time.Duration // closed < 0: still open
	}
	var lives []edgeLife
	var closes []int // indexes into v.router of edge closed events
	type ev struct {
		t      time.Duration
		open   bool
		name   string
		router int
	}
	var evs []ev
	for _, e := range v.edges {
		if e.reply != nil && e.reply.OK {
			evs = append(evs, ev{t: e.reply.T, open: true, name: e.name})
		}
	}
	for i, e := range v.router {
		if e.Kind == kindEdge && e.Attr("state") == "closed" {
			evs = append(evs, ev{t: e.T, name: e.Attr("edge"), router: i})
			closes = append(closes, i)
		}
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].t < evs[b].t })
	current := map[string]int{} // name → index in lives
	for _, e := range evs {
		if e.open {
			current[e.name] = len(lives)
			lives = append(lives, edgeLife{name: e.name, opened: e.t, closed: -1})
			continue
		}
		i, ok := current[e.name]
		if !ok {
			j.fail(e.t, "the router closed edge %s at %s, which was not open", e.name, dur(e.t))
			continue
		}
		lives[i].closed = e.t
		delete(current, e.name)
	}
	// Every required closure happened, in time.
	spans := v.downSpans()
	required := 0
	for _, s := range spans {
		if s.to-s.from <= within {
			continue // too short for the router to be required to notice
		}
		required++
		for _, l := range lives {
			if l.opened > s.from || (l.closed >= 0 && l.closed < s.from-v.live) {
				continue // not open when every instance was lost
			}
			switch {
			case l.closed < 0 || l.closed > s.from+within:
				j.fail(s.from+within, "every instance was lost at %s (server/link), but edge %s was still open %s later", dur(s.from), l.name, dur(within))
			default:
				j.measureMs("edge "+l.name+" closed after every instance lost at "+dur(s.from), l.closed-s.from,
					"client edge closed − server/link all instances lost", "≤ "+dur(within))
			}
		}
	}
	// Every closure had a cause.
	for _, i := range closes {
		e := v.router[i]
		cause := false
		for _, s := range spans {
			if s.from <= e.T+v.live && s.to >= e.T-within-v.live {
				cause = true
				break
			}
		}
		if !cause {
			j.fail(e.T, "the router closed edge %s at %s while some instance was connected and unfaulted (server/link)", e.Attr("edge"), dur(e.T))
		}
		if c := v.viewConnectedAt(i); len(c) > 0 {
			j.fail(e.T, "the router closed edge %s at %s while its own view had %v connected", e.Attr("edge"), dur(e.T), c)
		}
	}
	// New edges are accepted after a closure; closed edges take nothing.
	if len(closes) > 0 {
		first := v.router[closes[0]].T
		reopened := 0
		for _, e := range v.edges {
			if e.op.T < first {
				continue
			}
			if e.reply == nil || !e.reply.OK {
				j.fail(e.op.T, "edge %s was refused at %s after the router had closed its edges (%s): new edges must still be accepted", e.name, dur(e.op.T), replyReason(e.reply))
				continue
			}
			reopened++
		}
		j.count("edges opened after the closure", reopened, "harness op/reply edge")
		if reopened == 0 {
			j.fail(v.end, "no edge was opened after the router closed its edges at %s: nothing shows new ones are accepted", dur(first))
		}
	}
	for _, p := range v.sends {
		if !p.accepted() {
			continue
		}
		for _, l := range lives {
			if l.name == p.msg.edge && l.closed >= 0 && p.op.T > l.closed && !v.reopenedBetween(l.name, l.closed, p.op.T) {
				j.fail(p.op.T, "edge %s was closed at %s, yet took message %s part %d at %s", l.name, dur(l.closed), p.msg.id, p.part, dur(p.op.T))
			}
		}
	}
	j.count("stretches with every instance lost longer than within", required, "server route.connect/conn.close, link faults, harness discovery ops")
	if required == 0 {
		j.unknown(v.end, "nothing to judge: the instances were never all lost for longer than %s", dur(within))
	}
	return j.result(v.end, "edges closed within %s each time every instance was lost, and new edges accepted", dur(within))
}

// reopenedBetween reports whether an edge op for name succeeded in (from, to).
func (v *routeView) reopenedBetween(name string, from, to time.Duration) bool {
	for _, e := range v.edges {
		if e.name == name && e.reply != nil && e.reply.OK && e.reply.T > from && e.reply.T < to {
			return true
		}
	}
	return false
}

// viewConnectedAt lists the instances the router's view had connected just
// before its i-th event.
func (v *routeView) viewConnectedAt(i int) []string {
	conn := map[string]bool{}
	for _, e := range v.router[:i] {
		if e.Kind != kindInstance {
			continue
		}
		switch e.Attr("state") {
		case stConnected:
			conn[e.Server] = true
		case stDisconnected, stRemoved:
			delete(conn, e.Server)
		}
	}
	return sortedKeys(conn)
}

func replyReason(r *history.Event) string {
	switch {
	case r == nil:
		return "no reply"
	case r.Reason != "":
		return r.Reason
	}
	return "refused"
}
