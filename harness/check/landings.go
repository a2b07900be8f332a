package check

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Landings: where a walk ended CONNECTED_ACTIVE as the servers confirm it
// (server evidence: the session.create of the id the client names, on the
// server it names), and the failover landings grouped for a uniformity test.

// landing is the server-side evidence of where a walk landed: the session
// the client claims, created by the server it names.
type landing struct {
	Server, Session string
	Create          *history.Event // the server's session.create of that id
	Resume          *history.Event // a session.resume of that id instead (state carried over)
	Problem         string         // why the claim does not hold ("" when it does)
}

// landing checks a walk's CONNECTED_ACTIVE against the servers: the session
// id it names must have been created (not resumed) by the server it names.
func (v *sessionView) landing(w srvWalk) landing {
	e := w.End
	l := landing{Server: e.Server, Session: e.Session}
	if e.Session == "" {
		l.Problem = fmt.Sprintf("client %d reported CONNECTED_ACTIVE on %s at %s without a session id", w.Client, e.Server, dur(e.T))
		return l
	}
	for _, s := range v.bySess[e.Session] {
		s := s
		switch {
		case s.Kind == history.KindSessionCreate && l.Create == nil:
			l.Create = &s
		case s.Kind == history.KindSessionResume && s.T >= w.From && s.T <= e.T+v.slack && l.Resume == nil:
			l.Resume = &s
		}
	}
	switch {
	case l.Resume != nil:
		l.Problem = fmt.Sprintf("client %d's new session %q on %s was a resume (server %s session.resume at %s), not a new session: state was carried over",
			w.Client, e.Session, e.Server, l.Resume.Server, dur(l.Resume.T))
	case l.Create == nil:
		l.Problem = fmt.Sprintf("client claims a session the servers never created: client %d reported CONNECTED_ACTIVE on %s (session %q) at %s, but no server recorded session.create of %q",
			w.Client, e.Server, e.Session, dur(e.T), e.Session)
	case l.Create.Server != e.Server:
		l.Problem = fmt.Sprintf("client %d reported CONNECTED_ACTIVE on %s (session %q) at %s, but that session was created by %s",
			w.Client, e.Server, e.Session, dur(e.T), l.Create.Server)
	case l.Create.T > e.T+v.slack:
		l.Problem = fmt.Sprintf("client %d reported CONNECTED_ACTIVE on %s (session %q) at %s, before the server created it at %s",
			w.Client, e.Server, e.Session, dur(e.T), dur(l.Create.T))
	case l.Create.T < w.From-v.slack:
		l.Problem = fmt.Sprintf("client %d's session %q on %s was created at %s, before the walk began at %s: not a new session",
			w.Client, e.Session, e.Server, dur(l.Create.T), dur(w.From))
	}
	return l
}

// verifiedLandings counts client c's failovers after t that landed on a
// session the servers created.
func (v *sessionView) verifiedLandings(c int, t time.Duration) int {
	n := 0
	for _, w := range v.wv.of(walkFailover) {
		if w.Client == c && w.Start.T >= t && w.Landed() && v.landing(w).Problem == "" {
			n++
		}
	}
	return n
}

// landingGroup is the verified failover landings that had the same lost
// server and the same candidates.
type landingGroup struct {
	Lost       string
	Candidates []string // list order
	Counts     []int    // per candidate
	N          int
	Last       time.Duration
}

// landingGroups gathers every failover's verified landing, grouped by lost
// server and candidate set, largest group first. Claims the servers do not
// confirm are failures in j; landings outside the candidates are noted.
func (v *sessionView) landingGroups(j *judge, kind string) []*landingGroup {
	byKey := map[string]*landingGroup{}
	var out []*landingGroup
	bad, outside := 0, 0
	for _, w := range v.wv.of(kind) {
		if !w.Landed() {
			continue
		}
		l := v.landing(w)
		if l.Problem != "" {
			if bad < maxListed {
				j.fail(w.End.T, "%s", l.Problem)
			}
			bad++
			continue
		}
		var cands []string
		for _, s := range v.sc.Client.Servers {
			if _, failing := v.lossFaultDuring(s, w.From, w.End.T); s != w.Lost && !failing {
				cands = append(cands, s)
			}
		}
		i := slices.Index(cands, l.Server)
		if i < 0 {
			outside++
			continue
		}
		key := w.Lost + "|" + strings.Join(cands, ",")
		g := byKey[key]
		if g == nil {
			g = &landingGroup{Lost: w.Lost, Candidates: cands, Counts: make([]int, len(cands))}
			byKey[key] = g
			out = append(out, g)
		}
		g.Counts[i]++
		g.N++
		g.Last = max(g.Last, w.End.T)
	}
	if bad > maxListed {
		j.fail(0, "… %d landing claims in all not confirmed by the servers", bad)
	}
	if outside > 0 {
		j.note("%d landing(s) on the lost server or on a server with a fault were not samples", outside)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].N > out[b].N })
	return out
}
